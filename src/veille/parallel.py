"""Pure work spread over the machine's cores.

Work goes to worker processes forked from this one, so they start at once with everything
this process has loaded (the spaCy model is loaded before the fork and shared
copy-on-write). The functions mapped are module-level and do not raise for bad input: they
return their failure as a value. Only the main process writes to the store; workers
compute, and the main process writes what came back while they go on.

`VEILLE_WORKERS` sets the number of workers (default: the cores this process may use; 1
runs everything in this process, as do batches too small to be worth a fork).

A job that has a cluster (`veille reprocess` on Spark) hands the same work to the cluster
instead, through `spread_over`: the stages call `Workers` and `map_processes` as on one
machine and need not know where their work runs.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from multiprocessing.pool import Pool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# `mapper(function, items)`: the results in the items' order, computed elsewhere.
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]
_mapper: ContextVar[Mapper | None] = ContextVar("veille_mapper", default=None)


@contextmanager
def spread_over(mapper: Mapper) -> Iterator[None]:
    """Within this block, the work `Workers` would fork out goes to `mapper` (a cluster's
    executors, say) whatever its size: the forks' cores are then not the job's."""
    token = _mapper.set(mapper)
    try:
        yield
    finally:
        _mapper.reset(token)


def workers() -> int:
    configured = os.environ.get("VEILLE_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, len(os.sched_getaffinity(0)))


class Workers:
    """A pool of forked workers for one stage, started when first needed.

    with Workers() as pool:
        for result in pool.imap(function, items):   # in order, as they come
            ...
    """

    def __init__(self, minimum: int = 2) -> None:
        self.count = workers()
        self.minimum = minimum  # items per worker below which the work stays here
        self._pool: Pool | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def imap(self, function: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        mapper = _mapper.get()
        if mapper is not None and items:
            return iter(mapper(function, items))
        if self.count <= 1 or len(items) < self.count * self.minimum:
            return map(function, items)
        if self._pool is None:
            self._pool = multiprocessing.get_context("fork").Pool(
                self.count, initializer=_worker_signals
            )
        # Small chunks: items vary in cost, and a worker that is done takes the next.
        chunk = max(1, min(16, len(items) // (self.count * 8)))
        return self._pool.imap(function, items, chunksize=chunk)


def _worker_signals() -> None:
    """A forked worker inherits the CLI's handlers, which only ask the main process to stop
    after its current unit: the pool's terminate() (SIGTERM) would then never end a worker
    and the job would hang. Workers die on SIGTERM; Ctrl-C is the main process's to
    handle (the terminal sends it to the whole group)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def map_processes(function: Callable[[T], R], items: Sequence[T], *, minimum: int = 2) -> list[R]:
    """`[function(item) for item in items]`, over the cores when there are at least
    `minimum` items per worker."""
    with Workers(minimum) as pool:
        return list(pool.imap(function, items))
