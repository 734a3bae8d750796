"""The CPU restyle of a procedural style with a uint8 twin runs without torch, and gives torch's frames.

`vidtoon restyle clips/sample.mp4 --to toon` on a machine without a GPU loads the style's `TwinTranslator` and drives it
with `TwinRestyler` and the temporal stage's `blend_u8`: no `import torch` (~2-4 s of start-up here). Checked in a
child process in which importing torch fails; the frames are compared with `FrameRestyler` driving the torch function.
"""

import subprocess
import sys
from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from conftest import SAMPLE, stream_span, video_times

from vidtoon.host import HOST, cpu_only
from vidtoon.restyle import RestyleOptions, load_translator, make_restyler
from vidtoon.restyle.faces import FaceRestyler
from vidtoon.restyle.frames import FrameRestyler
from vidtoon.restyle.options import temporal_stage
from vidtoon.restyle.twins import TwinRestyler
from vidtoon.styles.procedural import ProceduralTranslator, TwinTranslator

NO_TORCH = "import sys; sys.modules['torch'] = None\nfrom vidtoon.cli import run\nsys.argv = ['vidtoon', *sys.argv[1:]]\nrun()\n"


def decoded(path, count=None) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return frames[:count]


def test_cli_restyles_the_sample_without_torch(tmp_path):
    """The whole command with torch made unimportable: every frame, the frame rate, the sound, the length kept."""
    output = tmp_path / "toon.mp4"
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "restyle", str(SAMPLE), "--to", "toon", "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert video_times(output) == video_times(SAMPLE)  # every frame, at its time
    with av.open(str(output)) as restyled, av.open(str(SAMPLE)) as source:
        assert restyled.streams.video[0].average_rate == source.streams.video[0].average_rate
        assert len(restyled.streams.audio) == len(source.streams.audio) == 1
    first, end, packets = stream_span(output, "audio")
    assert packets > 0 and end - first == pytest.approx(
        stream_span(SAMPLE, "audio")[1] - stream_span(SAMPLE, "audio")[0], abs=0.05
    )
    frame = decoded(output, 1)[0]
    assert np.abs(frame.astype(int) - decoded(SAMPLE, 1)[0]).mean() > 3  # restyled, not copied


def test_a_style_without_a_twin_still_needs_torch_and_says_so(tmp_path):
    """`paint` has no uint8 twin: with torch unimportable the command fails (it is not silently restyled otherwise)."""
    result = subprocess.run(
        [sys.executable, "-c", NO_TORCH, "restyle", str(SAMPLE), "--to", "paint", "-o", str(tmp_path / "p.mp4"), "--end", "0.1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0 and not (tmp_path / "p.mp4").exists()


def test_cpu_only_agrees_with_torch_here():
    assert cpu_only("cpu") and cpu_only(" CPU ")
    assert not cpu_only("cuda") and not cpu_only("cuda:1")
    assert cpu_only("auto") == cpu_only(None) == (not torch.cuda.is_available())  # on a GPU machine both say no


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU machine `auto` loads the style on the GPU")
def test_which_translator_each_request_gets():
    twin = load_translator(style="toon", device="auto", twin=True).translator
    assert isinstance(twin, TwinTranslator) and twin.device is HOST and str(twin.device) == "cpu"
    assert isinstance(load_translator(style="sketch", device="cpu", twin=True).translator, TwinTranslator)
    for request in ({"twin": False}, {"twin": True, "precision": "bf16"}, {"twin": True, "compile": True}, {}):
        assert isinstance(load_translator(style="toon", device="cpu", **request).translator, ProceduralTranslator), request
    assert isinstance(load_translator(style="paint", device="cpu", twin=True).translator, ProceduralTranslator)  # no twin
    same = [load_translator(style="toon", device="cpu", twin=t).key for t in (True, False)]
    assert same[0] == same[1]  # one style, one resume key


def test_faces_get_the_torch_function():
    twin = load_translator(style="toon", device="cpu", twin=True).translator
    restyler = make_restyler(twin, RestyleOptions(faces=True))
    assert isinstance(restyler, FaceRestyler) and isinstance(restyler.translator, ProceduralTranslator)
    assert isinstance(make_restyler(twin, RestyleOptions()), TwinRestyler)


@pytest.mark.parametrize("style, height", [("toon", None), ("sketch", None), ("toon", 180)])
def test_twin_restyler_gives_the_torch_restylers_frames(style, height):
    """12 frames of the sample (480×270, a moving camera), in batches of 3, with the flow stage: `TwinRestyler` against
    `FrameRestyler` with the style's torch function and the same stage. At the frames' size within 2 grey levels (the
    twin is within 1 of torch, the stage's uint8 path within 1); through 180 rows (shrunk by OpenCV, enlarged by its
    bicubic) within a level on average."""
    frames = decoded(SAMPLE, 12)
    options = RestyleOptions(height=height)
    twin = load_translator(style=style, device="cpu", twin=True).translator
    tensor = twin.tensor_translator()
    ours = TwinRestyler(twin, temporal_stage(options, HOST), process_height=height)
    theirs = FrameRestyler(tensor, temporal_stage(options, tensor.device), process_height=height)
    got = [f for i in range(0, 12, 3) for f in ours(frames[i : i + 3], [Fraction(k) for k in range(3)])]
    expected = [f for i in range(0, 12, 3) for f in theirs(frames[i : i + 3])]
    assert all(g.shape == frames[0].shape and g.dtype == np.uint8 for g in got)
    difference = np.abs(np.stack(got).astype(int) - np.stack(expected))
    if height is None:
        assert difference.max() <= 2 and difference.mean() < 0.1
    else:
        assert difference.mean() < 1.0 and np.percentile(difference, 99) <= 8
    assert ours.temporal.cuts == theirs.temporal.cuts == 0


def test_every_public_name_of_the_restyle_package_resolves():
    """`vidtoon.restyle`'s lazy names point at the modules that define them (the `Restyler` protocol moved to
    `restyle.batches`)."""
    import importlib

    package = importlib.import_module("vidtoon.restyle")  # the package (`vidtoon.restyle` the name is the function)
    for name in package.__all__:
        assert getattr(package, name) is not None, name
