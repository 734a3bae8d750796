"""Training your own styles: CycleGAN (unpaired photos -> style) and CAAE (one model, many labelled styles).

`train_cyclegan` / `train_caae` run a training loop into a run folder (config, checkpoints, metrics,
sample grids, loss curve); `export_run` turns a run into a style (`vidtoon restyle --to` / `--model`);
`smooth_edges` is the cartoon-image preprocessing of CartoonGAN/AnimeGAN (`vidtoon prep smooth`).
"""
