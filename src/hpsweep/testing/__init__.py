"""Conformance suites for your own searcher, scheduler, executor or store, as ``optuna.testing``.

Each suite is a set of plain functions that raise ``AssertionError`` with a message naming the
broken rule; call them from your tests::

    from hpsweep.testing.schedulers import check_scheduler

    def test_my_scheduler():
        check_scheduler(lambda searcher, seed: MyScheduler(searcher=searcher, metric="loss",
                                                           mode="min", max_resource=27, seed=seed))

The project's own schedulers, searchers, executors and store run the same suites in its tests:

- :mod:`hpsweep.testing.searchers`: ``check_searcher(make)`` for ``make(space, seed)``;
- :mod:`hpsweep.testing.schedulers`: ``check_scheduler(make)`` for ``make(searcher, seed)``,
  the end of a study included;
- :mod:`hpsweep.testing.executors`: ``ExecutorConformance``, pytest tests run against a
  ``Target`` (local, fake, simulated, function, Ray, Slurm and LSF have theirs);
- :mod:`hpsweep.testing.store`: ``check_store(folder)``: round trip, readers in other
  processes, and the store files of every earlier schema version, committed in ``data/``.
"""

from __future__ import annotations

__all__: list[str] = []  # the suites are its modules: hpsweep.testing.schedulers
