"""vidtoon.restyle.transfer: the restyler's uploads and downloads. On the CPU they are today's path, bit for bit; the
CUDA path (pinned buffers, side streams, events) is checked on a GPU by scripts/bench_gpu.py section 4's equality row.
Here: the same frames as the plain conversions, frames handed out never change afterwards, and the liveness rule the
pinned buffers rely on (a frame view keeps its batch's tensor alive)."""

from __future__ import annotations

import gc
import threading
import weakref

import cv2
import numpy as np
import pytest
import torch

from vidtoon.convert import u8_to_unit, unit_to_u8, unit_to_u8_numpy
from vidtoon.flow import make_flow
from vidtoon.restyle import transfer
from vidtoon.restyle.batches import restyled_batches
from vidtoon.restyle.frames import FrameRestyler, Translated
from vidtoon.restyle.transfer import FrameTransfers
from vidtoon.styles import load_translator
from vidtoon.temporal import FlowBlend

CPU = torch.device("cpu")


def panning_frames(count: int, size: tuple[int, int] = (48, 80), step: int = 2) -> list[np.ndarray]:
    """`count` H×W×3 uint8 frames of one smooth random texture moving `step` px right per frame."""
    height, width = size
    rng = np.random.default_rng(7)
    texture = cv2.resize(
        rng.random((height // 6, (width + step * count) // 6, 3), dtype=np.float32), (width + step * count, height)
    )
    texture = (np.clip(texture, 0, 1) * 255).astype(np.uint8)
    return [np.ascontiguousarray(texture[:, step * i : step * i + width]) for i in range(count)]


def test_upload_and_download_on_the_cpu_are_the_plain_conversions():
    frames = panning_frames(3)
    transfers = FrameTransfers(CPU)
    assert transfers.cuda is False and transfers.ready() is None
    x = transfers.upload(frames)
    assert torch.equal(x, u8_to_unit(np.stack(frames)))
    assert x[0, :, 0, 0].tolist() == pytest.approx([v / 127.5 - 1 for v in frames[0][0, 0].tolist()], abs=1e-7)
    out = transfers.download(x)
    assert len(out) == 3 and all(np.array_equal(a, b) for a, b in zip(out, frames, strict=True))  # the exact round trip
    y = torch.full((1, 3, 2, 2), 0.5).contiguous(memory_format=torch.channels_last)
    assert transfers.download(y)[0][0, 0].tolist() == [191, 191, 191]  # 0.5·127.5 + 127.5 = 191.25
    assert np.array_equal(transfers.download(y)[0], unit_to_u8_numpy(y)[0])


def test_a_wrong_frame_type_is_the_conversions_own_error():
    with pytest.raises(ValueError, match="uint8"):
        FrameTransfers(CPU).upload([np.zeros((4, 4, 3), np.float32)])


def test_a_frame_view_keeps_its_batch_buffer_alive():
    """The pinned download buffer goes back to PyTorch's caching host allocator only when its storage is freed: the
    frames handed to the encoder are views of it (numpy frame -> numpy batch -> a tensor on that storage), so while one
    frame is held the whole batch's memory stays allocated, and is not reused."""
    host = torch.arange(3 * 4 * 5 * 3, dtype=torch.int32).to(torch.uint8).reshape(3, 4, 5, 3)
    address = host.data_ptr()
    frames = list(host.numpy())
    kept = frames[2]
    del host, frames
    gc.collect()
    owner = kept
    while not isinstance(owner, torch.Tensor):
        owner = owner.base
    assert owner.data_ptr() == address, "a tensor on the batch's storage is reachable from the frame"
    assert kept[0, 0].tolist() == [120, 121, 122]  # 2·60 + 0, 1, 2: still the batch's bytes
    probe = weakref.ref(owner)
    del owner, kept
    gc.collect()
    assert probe() is None, "no frame left: the storage is released to the allocator"


@pytest.fixture
def one_opencv_thread():
    """Two FlowBlend runs over the same frames differ by a level now and then when OpenCV runs several threads (seen
    on 2 cores, before this module's changes too); with one thread they are equal bit for bit."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    yield
    cv2.setNumThreads(threads)


@pytest.fixture(scope="module")
def toon():
    return load_translator(style="toon", device="cpu", precision="fp32").translator


def test_the_restyler_gives_todays_frames_bit_for_bit(toon, one_opencv_thread):
    """FrameRestyler (through FrameTransfers) == the conversions, the model and the OpenCV stage called by hand (on
    uint8 frames: `blend_u8`, as the restyler drives the CPU stage)."""
    frames = panning_frames(6)
    restyler = FrameRestyler(toon, FlowBlend(make_flow("dis")))
    got = [frame for i in range(0, 6, 2) for frame in restyler(frames[i : i + 2])]
    stage = FlowBlend(make_flow("dis"))
    expected = []
    for i in range(0, 6, 2):
        x = u8_to_unit(np.stack(frames[i : i + 2]), CPU)
        with torch.inference_mode():
            expected += stage.blend_u8(frames[i : i + 2], list(unit_to_u8_numpy(toon(x))))
    assert len(got) == 6 and all(a.shape == (48, 80, 3) and a.dtype == np.uint8 for a in got)
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert stage.cuts == restyler.temporal.cuts == 0  # a pan is no scene cut
    assert not np.array_equal(got[3], toon_alone(toon, frames[3])), "the flow stage blended the past in"


def toon_alone(toon, frame: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return unit_to_u8_numpy(toon(u8_to_unit(frame[None], CPU)))[0]


def test_frames_handed_out_stay_unchanged_after_later_batches(toon):
    """The video loop's encode thread keeps a batch's frames while the next batches are restyled (restyled_batches:
    the model a batch ahead on its own thread): none of them may change under it."""
    frames = panning_frames(8)
    restyler = FrameRestyler(toon, FlowBlend(make_flow("dis")))
    batched = [([i, i + 1], frames[i : i + 2], None) for i in range(0, 8, 2)]
    held, copies = [], []
    for _, restyled in restyled_batches(restyler, batched):
        held += restyled
        copies += [frame.copy() for frame in restyled]
    assert len(held) == 8
    assert all(np.array_equal(a, b) for a, b in zip(held, copies, strict=True))
    assert len({id(frame.base) if frame.base is not None else id(frame) for frame in held}) >= 4  # a buffer per batch


def test_translated_carries_no_event_on_the_cpu(toon):
    restyler = FrameRestyler(toon, FlowBlend(make_flow("dis")), overlap_transfers=False)
    batch = restyler.translate(panning_frames(2))
    assert isinstance(batch, Translated) and batch.ready is None and batch.size == (48, 80)
    assert batch.source.shape == batch.translated.shape == (2, 3, 48, 80)


class FakeCuda:
    """torch.cuda's streams, events and pinned memory replaced by recorders on the CPU, so `FrameTransfers`' CUDA branch
    runs here: its Python logic (shapes, buffers, the order of waits) is checked before the one GPU run."""

    def __init__(self, monkeypatch):
        self.log: list[str] = []
        self.pinned = 0
        log = self.log
        plain_empty = torch.empty

        class Stream:
            count = 0

            def __init__(self, *args, name=None, **kwargs):
                Stream.count += 1
                self.name = name or f"stream{Stream.count}"

            def wait_event(self, event):
                log.append(f"{self.name} waits {event.name}")

        class Event:
            count = 0

            def __init__(self, *args, **kwargs):
                Event.count += 1
                self.name = f"event{Event.count}"

            def record(self, stream=None):
                log.append(f"{self.name} on {stream.name}")

            def synchronize(self):
                log.append(f"host waits {self.name}")

        default = Stream(name="default")
        current = threading.local()  # as CUDA's: each thread has its own current stream

        def current_stream(device=None):
            return getattr(current, "stream", default)

        class StreamContext:
            def __init__(self, stream):
                self.stream = stream

            def __enter__(self):
                self.previous, current.stream = current_stream(), self.stream

            def __exit__(self, *exc):
                current.stream = self.previous

        def empty(*args, pin_memory=False, **kwargs):
            self.pinned += bool(pin_memory)
            return plain_empty(*args, **kwargs)

        monkeypatch.setattr(torch.cuda, "Stream", Stream)
        monkeypatch.setattr(torch.cuda, "Event", Event)
        monkeypatch.setattr(torch.cuda, "stream", StreamContext)
        monkeypatch.setattr(torch.cuda, "current_stream", current_stream)
        monkeypatch.setattr(torch, "empty", empty)
        monkeypatch.setattr(torch.Tensor, "record_stream", lambda tensor, stream: log.append(f"record_stream {stream.name}"))


def fake_cuda_transfers(monkeypatch) -> tuple[FrameTransfers, FakeCuda]:
    fake = FakeCuda(monkeypatch)
    transfers = FrameTransfers(CPU)
    transfers.cuda = True  # the CUDA branch, on CPU tensors and the fakes above
    transfers._copy_stream, transfers._compute_stream = torch.cuda.Stream(name="copy"), torch.cuda.Stream(name="compute")
    return transfers, fake


def test_the_cuda_branch_uploads_through_a_pinned_buffer_and_waits_on_events(monkeypatch):
    transfers, fake = fake_cuda_transfers(monkeypatch)
    frames = panning_frames(3)
    with transfers.translating():
        x = transfers.upload(frames)
        ready = transfers.ready()
    assert torch.equal(x, u8_to_unit(np.stack(frames)))
    assert fake.pinned == 1
    assert fake.log == [
        "event1 on copy",  # the copy queued on the side stream
        "compute waits event1",  # the model's stream waits for it: no device-wide sync
        "record_stream compute",  # the uploaded uint8 stays allocated until the conversion ran
        "event2 on compute",  # `ready`: what blend waits on
    ]
    fake.log.clear()
    transfers.receive(ready, x)
    assert fake.log == ["default waits event2"]  # CPU tensors are not record_stream'ed (`receive` checks the device)


def test_the_cuda_branch_downloads_into_a_fresh_pinned_buffer_per_batch(monkeypatch):
    transfers, fake = fake_cuda_transfers(monkeypatch)
    x = u8_to_unit(np.stack(panning_frames(2)))
    first = transfers.download(x)
    kept = [frame.copy() for frame in first]
    second = transfers.download(-x)  # the next batch
    assert fake.pinned == 2 and fake.log == ["event1 on default", "host waits event1", "event2 on default", "host waits event2"]
    assert all(np.array_equal(a, b) for a, b in zip(first, kept, strict=True)), "the first batch's frames are unchanged"
    assert np.array_equal(first[0], panning_frames(2)[0]) and np.array_equal(second[0], 255 - panning_frames(2)[0])


def test_the_restyler_through_the_cuda_branch_gives_the_cpu_frames(monkeypatch, toon, one_opencv_thread):
    """The same frames as the plain path gives a GPU tensor: `unit_to_u8_numpy` of a device tensor is torch's
    `unit_to_u8` (OpenCV's CPU one-pass conversion differs by a level at exact halves)."""
    frames = panning_frames(6)
    plain = FrameRestyler(toon, FlowBlend(make_flow("dis")))
    monkeypatch.setattr(transfer, "unit_to_u8_numpy", lambda y: unit_to_u8(y).numpy())
    expected = [f for i in range(0, 6, 2) for f in plain(frames[i : i + 2])]
    monkeypatch.undo()
    transfers, fake = fake_cuda_transfers(monkeypatch)
    restyler = FrameRestyler(toon, FlowBlend(make_flow("dis")))
    restyler.transfers = transfers
    batched = [([i, i + 1], frames[i : i + 2], None) for i in range(0, 6, 2)]
    got = [frame for _, out in restyled_batches(restyler, batched) for frame in out]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected, strict=True))
    assert fake.pinned == 6  # an upload and a download per batch
    # the model thread works on the copy and compute streams, blend (this thread) on the default one: per batch, blend
    # waits for the model's event, records the batch's download on its stream and waits for that download only
    events = {line.split()[0]: line.split()[-1] for line in fake.log if " on " in line}
    assert sorted(events.values()) == ["compute"] * 3 + ["copy"] * 3 + ["default"] * 3
    waited = [line.split()[-1] for line in fake.log if line.startswith("default waits")]
    synced = [line.split()[-1] for line in fake.log if line.startswith("host waits")]
    assert [events[e] for e in waited] == ["compute"] * 3 and [events[e] for e in synced] == ["default"] * 3
    uploads = [line.split()[-1] for line in fake.log if line.startswith("compute waits")]
    assert [events[e] for e in uploads] == ["copy"] * 3  # the model's stream waits for each batch's upload
