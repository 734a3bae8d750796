"""The CIE L*a*b* (D65) constants shared by `vidtoon.filters.ops` (torch) and `vidtoon.filters.cpu` (OpenCV): numbers only."""

from __future__ import annotations

# sRGB (D65) -> XYZ, rows scaled by the D65 white so that white maps to (1, 1, 1)
RGB_TO_XYZ = (
    (0.4124564 / 0.95047, 0.3575761 / 0.95047, 0.1804375 / 0.95047),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339 / 1.08883, 0.1191920 / 1.08883, 0.9503041 / 1.08883),
)
F_TO_LAB = ((0.0, 116.0, 0.0), (500.0, -500.0, 0.0), (0.0, 200.0, -200.0))  # (fx, fy, fz) -> (L + 16, a, b)
LAB_TO_F = ((1 / 116, 1 / 500, 0.0), (1 / 116, 0.0, 0.0), (1 / 116, 0.0, -1 / 200))  # (L, a, b) -> f - 16/116
LAB_EPS = 216 / 24389  # the knee of f(t): t^(1/3) above, a straight line below
LAB_KAPPA = 24389 / 27
