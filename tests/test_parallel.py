"""`veille.parallel`: work over the machine's cores, or handed to a cluster."""

from __future__ import annotations

import os

from veille.parallel import Workers, map_processes, spread_over


def _square(n: int) -> int:
    return n * n


def test_work_goes_to_the_mapper_within_spread_over_and_stays_local_after():
    calls: list[tuple] = []

    def mapper(function, items):
        calls.append((function, list(items)))
        return [function(item) for item in items]

    with spread_over(mapper):
        assert map_processes(_square, [1, 2, 3]) == [1, 4, 9]
        with Workers() as pool:
            # One item is still the cluster's: a story may be the whole round.
            assert list(pool.imap(_square, [5])) == [25]
    assert calls == [(_square, [1, 2, 3]), (_square, [5])]
    assert map_processes(_square, list(range(50))) == [n * n for n in range(50)]
    assert len(calls) == 2  # the block is over: forked workers again


def test_forked_workers_compute_in_other_processes_in_order(monkeypatch):
    monkeypatch.setenv("VEILLE_WORKERS", "2")
    found = map_processes(_pid_and_square, list(range(40)))
    assert [square for _pid, square in found] == [n * n for n in range(40)]
    assert {pid for pid, _square in found} - {os.getpid()}


def _pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n
