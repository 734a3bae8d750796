"""Tuned defaults and option choices shared by the Python API and the CLI (no heavy imports: the CLI reads them
for its help). The choices mirror the registries (`tests/test_registries.py` checks they agree)."""

CONSISTENCY_MODES = ("none", "flow")  # vidtoon.temporal.TEMPORAL_MODES
FLOW_NAMES = ("dis", "farneback", "raft")  # vidtoon.flow.FLOW_BACKENDS
FLOW_PRESETS = ("ultrafast", "fast", "medium")  # vidtoon.flow.dis.PRESETS
PRECISION_CHOICES = ("auto", "fp32", "bf16", "fp16")  # vidtoon.device.PRECISIONS + auto

# Weight of the flow-warped previous output where the flow is trusted. 0.75 holds E_warp ≤ 0.5× the
# per-frame result's with SSIM ≥ 0.94 on both DVP pairs (docs/benchmarks.md, bench_temporal).
DEFAULT_STRENGTH = 0.75

# What a frame that fails to decode does: "stop" the run naming it, or "conceal" it by repeating the previous good frame.
ON_CORRUPT_MODES = ("stop", "conceal")

# FID's Inception-v3 weights (pytorch-fid's port of TensorFlow's inception-2015-12-05): the user downloads the file once
# from here and passes it with --inception-weights or $VIDTOON_INCEPTION_WEIGHTS; vidtoon never downloads anything.
FID_WEIGHTS_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
INCEPTION_ENV = "VIDTOON_INCEPTION_WEIGHTS"
FID_WEIGHTS_HINT = f"use pytorch-fid's FID Inception weights: download {FID_WEIGHTS_URL} once and pass that file"
FID_MODES = ("legacy", "clean")  # the resize before the network: pytorch-fid's bilinear, or clean-fid's PIL bicubic
