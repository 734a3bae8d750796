"""Tuned defaults shared by the Python API and the CLI (no heavy imports: the CLI reads them for its help)."""

CONSISTENCY_MODES = ("none", "flow")

# Weight of the flow-warped previous output where the flow is trusted. 0.75 holds E_warp ≤ 0.5× the
# per-frame result's with SSIM ≥ 0.94 on both DVP pairs (scripts/bench_temporal.py notes).
DEFAULT_STRENGTH = 0.75
