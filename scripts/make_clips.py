"""Make the project's own samples: clips/sample.mp4 (4 s, three shots of slow camera moves over public-domain and
CC0 photographs, with a stereo tone) and clips/sample.jpg (a 640 px still of the same material).

The photographs ship inside the scikit-image wheel (`skimage/data`); their origins and licences are in
clips/SOURCES.md. scikit-image is needed by this script only: pip install scikit-image; python scripts/make_clips.py
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS, SECONDS, SAMPLE_RATE = 480, 270, 24, 4, 48_000
CLIPS = Path(__file__).resolve().parent.parent / "clips"


@dataclass(frozen=True)
class Shot:
    """A camera move over one photograph: the view's centre (x, y) and width in source pixels, from start to end
    (linear, constant speed); the view's height is width·9/16."""

    photo: str  # a loader in skimage.data
    frames: int
    start: tuple[float, float, float]
    end: tuple[float, float, float]


SHOTS = (
    Shot("astronaut", 32, start=(256, 150, 512), end=(235, 128, 400)),  # push in on the face
    Shot("rocket", 32, start=(320, 270, 540), end=(320, 165, 540)),  # tilt up the rocket on its pad
    Shot("coffee", 32, start=(240, 148, 480), end=(360, 156, 480)),  # pan across the cup
)


def load_photo(name: str) -> np.ndarray:
    """H×W×3 uint8 RGB from scikit-image's bundled data (no download)."""
    from skimage import data

    return np.ascontiguousarray(getattr(data, name)()[..., :3])


def view(photo: np.ndarray, cx: float, cy: float, width: float) -> np.ndarray:
    """The WIDTH×HEIGHT frame that shows photo's view centred at (cx, cy), `width` source pixels wide."""
    scale = WIDTH / width
    height = width * HEIGHT / WIDTH
    h, w = photo.shape[:2]
    if cx - width / 2 < 0 or cx + width / 2 > w or cy - height / 2 < 0 or cy + height / 2 > h:
        raise ValueError(f"view ({cx}, {cy}, {width}) leaves the {w}×{h} photo")
    matrix = np.array([[scale, 0, WIDTH / 2 - scale * cx], [0, scale, HEIGHT / 2 - scale * cy]], dtype=np.float64)
    return cv2.warpAffine(photo, matrix, (WIDTH, HEIGHT), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def film() -> list[np.ndarray]:
    """Every frame of the sample, shot after shot (hard cuts between them)."""
    frames = []
    for shot in SHOTS:
        photo = load_photo(shot.photo)
        for i in range(shot.frames):
            t = i / (shot.frames - 1)
            cx, cy, width = (a + (b - a) * t for a, b in zip(shot.start, shot.end))
            frames.append(view(photo, cx, cy, width))
    if len(frames) != FPS * SECONDS:
        raise ValueError(f"the shots hold {len(frames)} frames, the sample needs {FPS * SECONDS}")
    return frames


def make_sample(path: Path) -> None:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "21", "preset": "slow"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio.bit_rate = 64_000
        samples_per_frame = SAMPLE_RATE // FPS
        sample = 0
        for index, rgb in enumerate(film()):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            for packet in video.encode(frame):
                out.mux(packet)
            t = (sample + np.arange(samples_per_frame)) / SAMPLE_RATE
            left = 0.2 * np.sin(2 * np.pi * 440 * t)
            right = 0.2 * np.sin(2 * np.pi * 660 * t)
            chunk = av.AudioFrame.from_ndarray(np.stack([left, right]).astype(np.float32), format="fltp", layout="stereo")
            chunk.sample_rate, chunk.pts, chunk.time_base = SAMPLE_RATE, sample, Fraction(1, SAMPLE_RATE)
            sample += samples_per_frame
            for packet in audio.encode(chunk):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)


def make_still(path: Path) -> None:
    """The rocket photograph at its own 640×427, as a JPEG (quality 92)."""
    rgb = load_photo("rocket")
    if rgb.shape[1] != 640:
        rgb = cv2.resize(rgb, (640, round(rgb.shape[0] * 640 / rgb.shape[1])), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])


if __name__ == "__main__":
    for target, make in ((CLIPS / "sample.mp4", make_sample), (CLIPS / "sample.jpg", make_still)):
        make(target)
        print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KiB)")
