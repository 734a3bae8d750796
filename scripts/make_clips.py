"""Make the project's own sample clip, clips/sample.mp4: 4 s of moving shapes with a stereo tone.

Everything in it is drawn here, so it is ours to ship. Run: python scripts/make_clips.py
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS, SECONDS, SAMPLE_RATE = 480, 270, 24, 4, 48_000


def draw(index: int) -> np.ndarray:
    """Frame `index`: a sky-to-grass backdrop, a sun, a bouncing ball, a drifting cloud, a counter."""
    t = index / FPS
    y = np.linspace(0.0, 1.0, HEIGHT)[:, None, None]
    sky = (1 - y) * np.array([110, 170, 235]) + y * np.array([200, 225, 250])
    frame = np.broadcast_to(sky, (HEIGHT, WIDTH, 3)).astype(np.uint8).copy()
    horizon = int(HEIGHT * 0.68)
    frame[horizon:] = np.linspace([90, 170, 70], [40, 110, 40], HEIGHT - horizon)[:, None, :].astype(np.uint8)
    cv2.circle(frame, (WIDTH - 70, 60), 32, (255, 215, 80), -1, cv2.LINE_AA)
    cloud_x = int(40 + 60 * t) % (WIDTH + 120) - 60
    for dx, dy, r in ((0, 0, 22), (24, -10, 26), (50, 0, 20)):
        cv2.circle(frame, (cloud_x + dx, 70 + dy), r, (250, 250, 250), -1, cv2.LINE_AA)
    ball_x = int(60 + (WIDTH - 120) * (0.5 - 0.5 * math.cos(math.pi * t / 2)))
    ball_y = int(horizon - 25 - 120 * abs(math.sin(math.pi * t * 1.25)))
    cv2.ellipse(frame, (ball_x, horizon + 4), (26, 6), 0, 0, 360, (30, 80, 30), -1, cv2.LINE_AA)
    cv2.circle(frame, (ball_x, ball_y), 25, (220, 50, 60), -1, cv2.LINE_AA)
    cv2.circle(frame, (ball_x - 8, ball_y - 9), 7, (250, 160, 160), -1, cv2.LINE_AA)
    cv2.putText(frame, f"vidtoon {index:03d}", (12, HEIGHT - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def make_sample(path: Path) -> None:
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=FPS, options={"crf": "23", "preset": "slow"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        audio.bit_rate = 64_000
        samples_per_frame = SAMPLE_RATE // FPS
        sample = 0
        for index in range(FPS * SECONDS):
            frame = av.VideoFrame.from_ndarray(draw(index), format="rgb24")
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


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "clips" / "sample.mp4"
    make_sample(target)
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KiB)")
