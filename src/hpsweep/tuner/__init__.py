"""The tuner: the one loop that asks the scheduler, launches through the executor, and persists."""

from hpsweep.tuner._judge import reached_step
from hpsweep.tuner._tuner import Launcher, Tuner, TunerCallback, TuneResult, derive_seed

__all__ = ["Launcher", "TuneResult", "Tuner", "TunerCallback", "derive_seed", "reached_step"]
