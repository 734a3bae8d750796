"""Training your own styles: CycleGAN (unpaired photos -> style), cartoon (one-way, small crops) and CAAE (one model,
many labelled styles).

    from vidtoon.train import CycleGANConfig, export_run, load_config, train
    config = load_config(CycleGANConfig, "my.yaml", {"a": "photos/", "b": "film.mp4", "steps": 2000})
    result = train("cyclegan", config, "runs/mine")           # Ctrl-C: saves; train(..., resume=True) continues
    export_run("runs/mine", "styles/")                        # styles/mine.safetensors + mine.yaml

`smooth_folder` is the cartoon-image edge smoothing of CartoonGAN/AnimeGAN (`vidtoon prep smooth`).
"""

from vidtoon.train.config import AugmentConfig, CAAEConfig, CycleGANConfig, load_config
from vidtoon.train.export import ExportResult, export_run
from vidtoon.train.run import TrainResult, resolve_run_config, train
from vidtoon.train.smooth import smooth_edges, smooth_folder

__all__ = [
    "AugmentConfig",
    "CAAEConfig",
    "CycleGANConfig",
    "ExportResult",
    "TrainResult",
    "export_run",
    "load_config",
    "resolve_run_config",
    "smooth_edges",
    "smooth_folder",
    "train",
]
