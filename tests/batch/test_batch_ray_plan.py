"""Where Ray mode's actors go (`ray_cluster.plan_actors`): one per node sharing the units in threads, one per GPU."""

from __future__ import annotations

from vidtoon.batch.ray_cluster import plan_actors


def test_one_machine_gets_one_actor_running_every_slot():
    assert plan_actors([("n1", 2.0)], 2, gpu=False) == [(None, 2, 2.0)]
    assert plan_actors([("n1", 16.0)], 3, gpu=False) == [(None, 3, 16.0)]


def test_slots_are_shared_among_nodes_by_their_cpus():
    nodes = [("big", 16.0), ("small", 4.0), ("tiny", 2.0)]
    plan = plan_actors(nodes, 5, gpu=False)  # shares 3.64, 0.91, 0.45: 3 + 0 + 0, the largest remainders (small, big) +1
    assert plan == [("big", 4, 16.0), ("small", 1, 4.0)]  # tiny, left without a slot, gets no actor
    assert plan_actors(nodes, 11, gpu=False) == [("big", 8, 16.0), ("small", 2, 4.0), ("tiny", 1, 2.0)]
    assert plan_actors(nodes, 1, gpu=False) == [("big", 1, 16.0)]


def test_with_gpus_each_unit_has_its_own_actor():
    assert plan_actors([("a", 8.0), ("b", 8.0)], 4, gpu=True) == [(None, 1, 4.0)] * 4
