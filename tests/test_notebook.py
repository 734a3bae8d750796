"""examples/vidtoon.ipynb runs headless: every cell executes without error on a 1-second piece of clips/sample.mp4
(the last cell presses the restyle button once), and the restyled clip it writes has that second's frames."""

from __future__ import annotations

import os

import pytest
from conftest import REPO, SAMPLE

NOTEBOOK = REPO / "examples" / "vidtoon.ipynb"


def test_notebook_runs_headless(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("ipywidgets")
    import vidtoon

    monkeypatch.setenv("VIDTOON_NOTEBOOK_CLIP", str(SAMPLE))
    monkeypatch.setenv("VIDTOON_NOTEBOOK_SECONDS", "1")
    monkeypatch.setenv("VIDTOON_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("VIDTOON_NOTEBOOK_DEVICE", "cpu")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the cell when any cell fails

    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    output = tmp_path / "sample.toon.mp4"
    assert output.is_file()
    info, source = vidtoon.probe(output), vidtoon.probe(SAMPLE)
    assert source.fps == 24 and info.frame_count == 24  # the first second of a 24 fps clip
    assert (info.width, info.height) == (source.width, source.height)
    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    assert "sample.toon.mp4: 24 frames; E_warp" in printed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    widgets = [o for cell in code for o in cell.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 2  # the controls with the before/after frames, and the button with its progress bar


def test_notebook_calls_the_sources_e_warp_a_baseline_not_a_floor():
    # a flat style's E_warp goes below the source's (sample.mp4 in toon: 0.000086 vs 0.000134), as `vidtoon eval` says
    text = NOTEBOOK.read_text(encoding="utf-8")
    assert "(the floor)" not in text and "a baseline, flat styles go below it" in text
