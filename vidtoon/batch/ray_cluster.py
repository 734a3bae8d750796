"""The Ray cluster a batch runs on: importing Ray (one line when it is missing), checking an address before Ray does
(a dead one is refused in 3 s, where `ray.init` retries for minutes), connecting, and what the cluster offers.

Ray is imported only here, and only when `--ray` is asked for.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vidtoon.batch.check import Job
from vidtoon.errors import UsageError

log = logging.getLogger(__name__)

INSTALL_HINT = "install vidtoon[ray] (pip install 'vidtoon[ray]') on this machine and every node of the cluster"
START_HINT = (
    "start a cluster with `ray start --head` and pass the address it prints, --ray auto on one of its nodes, or --ray local"
)
CONNECT_TIMEOUT = 3.0  # seconds to wait for a cluster address to answer before giving up (Ray itself waits minutes)
LOCAL_OBJECT_STORE = 200 * 1024 * 1024  # a local cluster moves jobs and results only: a small object store
# a local cluster started lean (README "Scaling"): no dashboard (above), no usage stats (Ray's default for `ray.init`),
# no metrics collected (nothing reads them: the cluster ends with the batch)
LOCAL_SYSTEM_CONFIG = {"enable_metrics_collection": False}


def import_ray() -> Any:
    """The `ray` module.

    Raises:
        UsageError: Ray is not installed (one line: install vidtoon[ray]).
    """
    try:
        import ray
    except ImportError:
        raise UsageError("Ray is not installed", hint=INSTALL_HINT) from None
    return ray


def check_address(address: str) -> str | None:
    """What `ray.init` gets for `--ray ADDRESS`: None for "local" (a new cluster on this machine), "auto", or the address.

    A `host:port` (or `ray://host:port`) must answer a TCP connection within `CONNECT_TIMEOUT` seconds: Ray itself
    retries a dead address for minutes.

    Raises:
        UsageError: a malformed address, or nothing listening there.
    """
    address = address.strip()
    if address == "local":
        return None
    if address == "auto":
        return address
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--ray {address!r} is not local, auto or HOST:PORT", hint=START_HINT)
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(f"no Ray cluster answers at {address} ({reason})", hint=START_HINT) from None
    return address


@dataclass(frozen=True)
class Cluster:
    """The Ray cluster this process is connected to: its CPUs and GPUs, and whether this process started it."""

    cpus: float
    gpus: float
    started_here: bool

    def default_workers(self, jobs: list[Job]) -> int:
        """One actor per GPU when there are GPUs (and a job may use one); else 1 up to 4 CPUs, else one per 4 CPUs."""
        if self.gpus >= 1 and wants_gpu(jobs):
            return int(self.gpus)
        cpus = int(self.cpus) or 1
        return 1 if cpus <= 4 else cpus // 4

    def workers(self, requested: int | None, jobs: list[Job], units: int | None = None) -> int:
        """The actors to start for `jobs`: `requested` (default `default_workers`), no more than the units of work
        (`units`, default one per job), and no more than the GPUs when the actors take one each (one more could never
        be placed: the batch would wait).

        Raises:
            UsageError: `requested` is below 1.
        """
        if requested is not None and requested < 1:
            raise UsageError(f"--workers must be 1 or more, got {requested}")
        count = min(requested or self.default_workers(jobs), len(jobs) if units is None else units)
        if self.gpus >= 1 and wants_gpu(jobs) and count > self.gpus:
            log.warning("%d Ray workers asked for, the cluster has %d GPU(s): starting %d", count, self.gpus, self.gpus)
            count = int(self.gpus)
        return max(count, 1)


@contextmanager
def connect(address: str) -> Iterator[Cluster]:
    """Connect to the cluster at `address` ("local", "auto" or HOST:PORT) for the `with` block; reuse a connection
    this process has already made (`ray.init` called by the caller), and leave it open then.

    Raises:
        UsageError: Ray is not installed, or no cluster answers at `address` (nothing was started).
    """
    ray = import_ray()
    if ray.is_initialized():
        yield _cluster(ray, started_here=False)
        return
    target = check_address(address)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if target is None:
        options.update(
            num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE, _system_config=dict(LOCAL_SYSTEM_CONFIG)
        )
    try:
        ray.init(address=target, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if target == "auto" and isinstance(exc, ConnectionError):  # Ray's own line names its `--address` flag
            raise UsageError("--ray auto: no Ray cluster is running on this machine", hint=START_HINT) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"cannot connect to a Ray cluster at {address}: {first}", hint=INSTALL_HINT) from None
    try:
        yield _cluster(ray, started_here=target is None)
    finally:
        ray.shutdown()


def _cluster(ray: Any, *, started_here: bool) -> Cluster:
    resources = ray.cluster_resources()
    return Cluster(float(resources.get("CPU", 0)), float(resources.get("GPU", 0)), started_here)


def node_cpus(ray: Any) -> list[tuple[str, float]]:
    """(node id, CPUs) of each live node of the cluster that has CPUs."""
    return [
        (node["NodeID"], float(node["Resources"].get("CPU", 0)))
        for node in ray.nodes()
        if node.get("Alive") and node["Resources"].get("CPU", 0) > 0
    ]


def plan_actors(nodes: list[tuple[str, float]], count: int, *, gpu: bool) -> list[tuple[str | None, int, float]]:
    """Where `count` units at a time run on a cluster of `nodes` ((id, CPUs) each, `node_cpus`): (node id, or None for
    anywhere; slots; CPUs) per actor.

    With GPUs, one actor per unit, each taking one GPU (Ray places them) and a share of the CPUs. Without, one actor
    per node, the `count` slots shared out among the nodes in proportion to their CPUs (largest remainders; a node
    left without a slot gets no actor), each actor taking its node's CPUs: one pipeline import and one copy of each
    style per node, not per unit in flight.
    """
    total = sum(cpus for _, cpus in nodes)
    if gpu:
        return [(None, 1, (total or 1.0) / count)] * count
    if len(nodes) <= 1:  # one machine: no need to say where
        return [(None, count, total or 1.0)]
    shares = [count * cpus / total for _, cpus in nodes]
    slots = [int(share) for share in shares]
    for i in sorted(range(len(nodes)), key=lambda i: slots[i] - shares[i])[: count - sum(slots)]:
        slots[i] += 1
    return [(node, n, cpus) for (node, cpus), n in zip(nodes, slots) if n]


def wants_gpu(jobs: list[Job]) -> bool:
    return any(str(job.settings.get("device") or "auto") != "cpu" for job in jobs)
