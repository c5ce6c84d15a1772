"""Persistence: the SQLite store, the study folder and its lock, and ``results.csv``."""

from hpsweep.store._csv import ResultsCsv, active_seconds, trial_row
from hpsweep.store._sqlite import SCHEMA_VERSION, Event, Store
from hpsweep.store._study import StudyDir, write_failure

__all__ = ["SCHEMA_VERSION", "Event", "ResultsCsv", "Store", "StudyDir", "active_seconds", "trial_row",
           "write_failure"]
