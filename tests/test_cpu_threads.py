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
