"""`vidtoon animate`: bring a still face to life from a driving video.

Two methods behind one pipeline (`vidtoon.animate.pipeline.animate`):
- `landmarks` (default, offline, no downloaded weights): MediaPipe face landmarks tracked on the driver
  move the source's landmarks (relative motion, pose-aligned, face-size scaled) and a thin-plate-spline
  warp anchored at the border animates the source image (`landmarks`, `motion`, `warp`).
- `fomm`: the first-order motion model with a published checkpoint (`fomm`).
"""

from vidtoon.animate.pipeline import animate

__all__ = ["animate"]
