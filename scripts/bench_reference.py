"""Speed of reference styles (`--like`): ms per 384×384 tile of the arbitrary-stylization transform, and a
480×270 frame tiled as the pipeline does, against OpenCV's `cv2.stylization` on the same pixels (the baseline).

Run: VIDTOON_TEST_MEDIA=../shared/clips python scripts/bench_reference.py [--threads 1 2] [--repeat 5]

notes: docs/benchmarks.md#bench_reference (dated measurements, with the machine and its load)
"""

from __future__ import annotations

import argparse
import time

import cv2
import torch
from benchlib import clips_folder, print_table

from vidtoon.io.images import read_image
from vidtoon.models.reference import load_reference_translator
from vidtoon.tiling import translate_tiled


def best_ms(job, repeat: int) -> float:
    job()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    clips = clips_folder()
    content = read_image(clips / "face_astronaut.png")
    rows = []
    for size in ((384, 384), (270, 480)):
        rgb = cv2.resize(content, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
        cv2.setNumThreads(max(args.threads))
        baseline = best_ms(lambda rgb=rgb: cv2.stylization(rgb, sigma_s=60, sigma_r=0.45), args.repeat)
        rows.append([f"cv2.stylization {size[1]}×{size[0]} (baseline)", "-", f"{baseline:.0f}", "1.00"])
        for threads in args.threads:
            torch.set_num_threads(threads)
            translator = load_reference_translator(clips / "face_monalisa.jpg", threads=threads)
            ms = best_ms(lambda x=x, t=translator: translate_tiled(x, t, tile=384, overlap=32), args.repeat)
            tiles = 1 if size == (384, 384) else 2
            rows.append(
                [
                    f"--like {size[1]}×{size[0]} ({tiles} tile{'s' * (tiles > 1)})",
                    str(threads),
                    f"{ms:.0f}",
                    f"{ms / baseline:.2f}",
                ]
            )
    print_table(["case", "threads", "best ms", "× baseline"], rows)


if __name__ == "__main__":
    main()
