"""`vidtoon compare`: flags become the API call; --tally prints the table (or JSON); a real run writes a sheet."""

from __future__ import annotations

import json
import sys
from fractions import Fraction

from conftest import SAMPLE, assert_one_line_error, make_clip, run_vidtoon
from typer.testing import CliRunner

from vidtoon.cli import app
from vidtoon.compare import CompareOptions

runner = CliRunner()


def test_flags_become_the_api_call(monkeypatch, tmp_path):
    calls = []
    api = sys.modules["vidtoon.compare"]
    monkeypatch.setattr(api, "compare", lambda results, output, **kw: calls.append((results, output, kw)) or output)
    command = "compare a.mp4 b.mp4 --source s.mp4 -o cmp.mp4 --frames 3 --at 1.5,0:03 --label A --label B --layout wipe"
    command += " --height 100 --truncate --seed 7 --crf 30 --force"
    result = runner.invoke(app, command.split())
    assert result.exit_code == 0, result.output
    ((results, output, kw),) = calls
    assert [p.name for p in results] == ["a.mp4", "b.mp4"] and output.name == "cmp.mp4" and kw["source"].name == "s.mp4"
    options = kw["options"]
    assert isinstance(options, CompareOptions) and kw["force"] is True
    assert (options.frames, options.at, options.labels, options.layout) == (3, (Fraction(3, 2), Fraction(3)), ("A", "B"), "wipe")
    assert (options.height, options.truncate, options.seed, options.encode.crf) == (100, True, 7, 30)


def test_tally_prints_win_rates_and_the_ranking(tmp_path):
    trials = [
        {"trial": i, "pair": ["m1", "m2"], "left": "m1", "right": "m2", "question": "style", "choice": "m1", "time": "t"}
        for i in range(4)
    ]
    trials.append(
        {"trial": 4, "pair": ["m1", "m2"], "left": "m2", "right": "m1", "question": "style", "choice": "m2", "time": "t"}
    )
    votes = tmp_path / "votes.json"
    votes.write_text(json.dumps({"format": "vidtoon-ab-votes", "study": "abc", "rater": "r", "trials": trials}))
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"study": "abc", "methods": {"m1": {"label": "toon"}, "m2": {"label": "paint"}}}))
    result = runner.invoke(app, ["compare", "--tally", str(votes), "--key", str(key)], terminal_width=200)
    assert result.exit_code == 0, result.output
    toon = next(line for line in result.output.splitlines() if "toon" in line)
    assert "4/5" in toon and "80%" in toon and "38% – 96%" in toon and "0.800" in toon  # BT: 4 : 1
    result = runner.invoke(app, ["compare", "--tally", str(votes), "--json"])
    data = json.loads(result.output)
    assert data["votes"] == 5 and {s["method"] for s in data["scores"]} == {"m1", "m2"}


def test_a_real_run_writes_a_sheet(tmp_path):
    make_clip(tmp_path / "clip.mp4", 12, size=(64, 48))
    result = runner.invoke(
        app, ["compare", str(tmp_path / "clip.mp4"), "--source", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "s.png")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s.png").stat().st_size > 1000 and "wrote" in result.output


def test_tally_flags_are_not_silently_ignored(tmp_path):
    for args in (["x.mp4", "-o", str(tmp_path / "s.png"), "--json"], ["x.mp4", "-o", str(tmp_path / "s.png"), "--key", "k.json"]):
        result = runner.invoke(app, ["compare", *args])
        assert result.exit_code == 1 and "go with --tally" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["compare", "--tally", "votes.json", "-o", str(tmp_path / "s.png")])
    assert result.exit_code == 1 and "writes nothing" in result.output
    assert not (tmp_path / "s.png").exists()


def test_encoder_flags_for_a_sheet_or_a_page_are_refused(tmp_path):
    for output in ("sheet.png", "page"):
        result = run_vidtoon(
            "compare", SAMPLE, "--source", SAMPLE, "-o", tmp_path / output, "--crf", "20", "--pix-fmt", "yuv444p"
        )
        assert_one_line_error(result, "--crf, --pix-fmt set a video's encoder", "is not a video")
    assert list(tmp_path.iterdir()) == []
