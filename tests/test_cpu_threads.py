"""`configure_cpu_threads`: OMP_WAIT_POLICY=PASSIVE before torch loads, a user's choice kept, nothing once torch is in."""

import sys

from vidtoon.cpu_threads import configure_cpu_threads


def test_sets_passive_before_torch_loads(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    environ = {}
    assert configure_cpu_threads(environ) is True
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}


def test_keeps_the_users_policy(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    environ = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert configure_cpu_threads(environ) is True
    assert environ == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_too_late_once_torch_is_imported():
    import torch  # noqa: F401

    environ = {}
    assert configure_cpu_threads(environ) is False
    assert environ == {}


def test_a_light_cpu_model_gets_half_the_threads_while_the_loop_runs():
    import torch

    from vidtoon.cpu_threads import shared_cores
    from vidtoon.styles import load_translator

    before = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        toon = load_translator(style="toon", device="cpu").translator
        with shared_cores(toon, environ={}) as threads:
            assert threads == 2 and torch.get_num_threads() == 2
        assert torch.get_num_threads() == 4  # restored
        with shared_cores(toon, environ={"OMP_NUM_THREADS": "4"}) as threads:  # the user's choice
            assert threads is None and torch.get_num_threads() == 4

        class Generator:  # a learned model: the whole cost of a frame
            device = torch.device("cpu")

        with shared_cores(Generator(), environ={}) as threads:
            assert threads is None and torch.get_num_threads() == 4
    finally:
        torch.set_num_threads(before)
