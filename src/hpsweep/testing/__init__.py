"""Conformance suites for your own searcher, scheduler, executor or store, as ``optuna.testing``.

Each suite is a set of plain functions that raise ``AssertionError`` with a message naming the
broken rule; call them from your tests::

    from hpsweep.testing.schedulers import check_scheduler

    def test_my_scheduler():
        check_scheduler(lambda searcher, seed: MyScheduler(searcher=searcher, metric="loss",
                                                           mode="min", max_resource=27, seed=seed))

The project's own schedulers, searchers, executors and store run the same suites in its tests.
"""

from __future__ import annotations

__all__: list[str] = []  # the suites are its modules: hpsweep.testing.schedulers
