"""The training loop: run folder contents, exact resume, Ctrl-C, refusing to overwrite, safe checkpoint loading."""

import csv
import os
import signal
from dataclasses import replace

import cv2
import pytest
import torch

from vidtoon.errors import InputError, UsageError
from vidtoon.train.config import AugmentConfig, CAAEConfig, CycleGANConfig, load_config
from vidtoon.train.run import resolve_run_config, train
from vidtoon.train.state import read_checkpoint

from .toy import random_png_folder, write_manifest

TINY = {
    "size": 32,
    "load_size": 40,
    "ngf": 8,
    "ndf": 8,
    "d_layers": 2,
    "device": "cpu",
    "precision": "fp32",
    "log_every": 1,
    "batch_size": 2,
    "augment": AugmentConfig(noise=0.02),
}


@pytest.fixture(scope="module")
def domains(tmp_path_factory):
    root = tmp_path_factory.mktemp("domains")
    return random_png_folder(root / "a", 6, seed=1), random_png_folder(root / "b", 5, seed=2)


def cyclegan_config(domains, **changes):
    a, b = domains
    return CycleGANConfig(
        **{"a": str(a), "b": str(b), "n_blocks": 1, "steps": 6, "sample_every": 3, "save_every": 4, **TINY, **changes}
    )


def metric_rows(run_dir):
    with (run_dir / "metrics.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


class StopAt:
    """A progress receiver that presses Ctrl-C (sends SIGINT to this process) once `step` steps are done."""

    def __init__(self, step):
        self.step, self.done = step, 0

    def start(self, total, description, completed=0):
        self.done = completed

    def advance(self, steps=1):
        self.done += steps
        if self.done == self.step:
            os.kill(os.getpid(), signal.SIGINT)

    def metrics(self, values):
        self.last = values


def test_run_folder_contents(domains, tmp_path):
    run = tmp_path / "run"
    result = train("cyclegan", cyclegan_config(domains), run)
    assert result.finished and result.step == 6 and result.steps_per_second > 0 and result.data_ms >= 0
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["latest.pt", "step_000004.pt"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_000003.png", "step_000006.png"]
    grid = cv2.imread(str(run / "samples" / "step_000006.png"))
    assert grid.shape == (6 * 34 - 2, 4 * 34 - 2, 3)  # rows A, G(A), rec A, B, F(B), rec B; 4 samples of 32 px, 2 px gaps
    assert cv2.imread(str(run / "loss_curve.png")).shape == (540, 960, 3)
    rows = metric_rows(run)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {"lr", "g_ab", "g_ba", "cycle", "identity", "d_a", "d_b", "step_ms", "data_ms", "images_per_s"} <= set(rows[0])
    assert float(rows[-1]["lr"]) < float(rows[0]["lr"]) == 2e-4  # constant, then linear decay after half the steps
    assert load_config(CycleGANConfig, run / "config.yaml") == cyclegan_config(domains)
    state = read_checkpoint(run / "checkpoints" / "latest.pt")
    assert (
        state["step"] == 6 and state["kind"] == "cyclegan" and len(state["trainer"]["extra"]["pool_b"]["images"]) == 6 * 2
    )  # the pool remembers every fake so far


def test_resume_gives_the_same_losses_as_an_uninterrupted_run(domains, tmp_path):
    config = cyclegan_config(domains, workers=1, pool_size=3)
    whole = train("cyclegan", config, tmp_path / "whole")
    stopped = train("cyclegan", config, tmp_path / "split", progress=StopAt(3))
    assert not stopped.finished and stopped.step == 3
    assert read_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")["step"] == 3
    resumed = train("cyclegan", config, tmp_path / "split", resume=True)
    assert resumed.finished and resumed.step == 6 and resumed.losses == whole.losses
    losses = [k for k in metric_rows(tmp_path / "whole")[0] if k not in ("step_ms", "data_ms", "images_per_s")]
    expected = [{k: r[k] for k in losses} for r in metric_rows(tmp_path / "whole")]
    assert [{k: r[k] for k in losses} for r in metric_rows(tmp_path / "split")] == expected  # rows 1-3 kept, 4-6 identical
    a = read_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")["trainer"]["models"]["g_ab"]
    b = read_checkpoint(tmp_path / "split" / "checkpoints" / "latest.pt")["trainer"]["models"]["g_ab"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_caae_resume_is_exact_across_the_warmup(tmp_path):
    folder = random_png_folder(tmp_path / "frames", 6)
    write_manifest(folder, [{"file": f"n{i:03d}.png", "studio": "ab"[i % 2]} for i in range(6)])
    config = CAAEConfig(
        data=str(folder), label_column="studio", z_dim=8, ndf_z=8, warmup_steps=2, steps=5, sample_every=5, save_every=10, **TINY
    )
    whole = train("caae", config, tmp_path / "whole")
    assert train("caae", config, tmp_path / "split", progress=StopAt(2)).step == 2
    resumed = train("caae", config, tmp_path / "split", resume=True)
    assert resumed.losses == whole.losses and whole.losses["d_img"] > 0  # the adversarial phase ran
    grid = cv2.imread(str(tmp_path / "whole" / "samples" / "step_000005.png"))
    assert grid.shape == (4 * 34 - 2, 4 * 34 - 2, 3)  # inputs, reconstructions, style a, style b


def test_cyclegan_and_caae_batches_are_cut_where_the_images_are_held(domains, tmp_path):
    # data_on_device: crops, flips, jitter and noise on the training device (the meta device stands in for a GPU:
    # an op that mixes a CPU tensor in fails there as it would on CUDA); labels travel along
    from vidtoon.train.caae import caae_data
    from vidtoon.train.cyclegan import cyclegan_data

    jitter = AugmentConfig(flip=True, brightness=0.1, contrast=0.1, saturation=0.1, noise=0.02)
    batch = cyclegan_data(cyclegan_config(domains, augment=jitter), torch.device("meta")).make(0)
    assert {name: (t.device.type, tuple(t.shape)) for name, t in batch.items()} == dict.fromkeys("ab", ("meta", (2, 3, 32, 32)))
    folder = random_png_folder(tmp_path / "frames", 4)
    write_manifest(folder, [{"file": f"n{i:03d}.png", "studio": "ab"[i % 2]} for i in range(4)])
    config = CAAEConfig(data=str(folder), label_column="studio", z_dim=8, ndf_z=8, **{**TINY, "augment": jitter})
    batch = caae_data(config, torch.device("meta")).make(0)
    assert (batch["x"].device.type, batch["label"].device.type, tuple(batch["x"].shape)) == ("meta", "meta", (2, 3, 32, 32))


def test_an_existing_run_is_not_overwritten(domains, tmp_path):
    config = cyclegan_config(domains, steps=1)
    train("cyclegan", config, tmp_path / "run")
    with pytest.raises(UsageError, match="already holds a run.*--resume"):
        train("cyclegan", config, tmp_path / "run")
    assert train("cyclegan", replace(config, seed=1), tmp_path / "run", force=True).finished
    with pytest.raises(UsageError, match="is a cyclegan run"):
        train("caae", CAAEConfig(data="x", label_column="y", **TINY), tmp_path / "run", resume=True)


def test_a_run_that_saved_no_checkpoint_is_not_offered_to_resume(domains, tmp_path):
    # what a run that failed in its first step leaves (a CUDA OOM, say): its config and an empty metrics log
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("steps: 1\n")
    (run / "metrics.csv").write_text("")
    config = cyclegan_config(domains, steps=1)
    with pytest.raises(
        UsageError, match=r"saved no checkpoint \(metrics.csv, config.yaml\): nothing to resume — .*--force"
    ) as caught:
        train("cyclegan", config, run)
    assert "--resume" not in str(caught.value)
    with pytest.raises(
        InputError, match=r"saved no checkpoint before it stopped: nothing to resume — start it again with --force"
    ):
        resolve_run_config("cyclegan", run, resume=True)
    assert train("cyclegan", config, run, force=True).finished


def test_checkpoints_never_run_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this would run",))

    path = tmp_path / "evil.pt"
    torch.save({"format": "vidtoon-train/1", "x": Payload()}, path)
    with pytest.raises(InputError, match="unreadable"):
        read_checkpoint(path)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not a vidtoon training checkpoint"):
        read_checkpoint(tmp_path / "other.pt")


def test_resume_refuses_a_different_recipe(domains, tmp_path):
    config = cyclegan_config(domains, steps=1)
    train("cyclegan", config, tmp_path / "run")
    with pytest.raises(UsageError, match="cannot change lambda_cycle"):
        train("cyclegan", replace(config, steps=2, lambda_cycle=3.0), tmp_path / "run", resume=True)
    assert train("cyclegan", replace(config, steps=2), tmp_path / "run", resume=True).step == 2
    # resumed at its end: said at once (it used to load all the data and report 0.00 steps/s)
    with pytest.raises(UsageError, match="already reached step 2 of its 2: nothing to resume") as finished:
        train("cyclegan", replace(config, steps=2), tmp_path / "run", resume=True)
    assert "--resume --steps N (more than 2)" in finished.value.hint
