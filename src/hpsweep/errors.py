"""The project's exception types.

Every error a user can cause by bad input is an :class:`HpsweepError` (or a subclass) whose message
names the offending thing, the value and the fix. The command line maps these to exit code 2 and
prints the message without a traceback.
"""

from __future__ import annotations

__all__ = ["HpsweepError", "SpaceError", "StudyError", "StudyLockedError", "UsageError"]


class HpsweepError(Exception):
    """Base class of every error hpsweep raises on purpose."""

    exit_code = 2


class UsageError(HpsweepError):
    """Bad command-line or API input that is not about the search space."""


class SpaceError(HpsweepError, ValueError):
    """A search space or its syntax is malformed (names the parameter, the text and the fix)."""


class StudyError(HpsweepError):
    """A study folder is missing, corrupt or incompatible."""


class StudyLockedError(StudyError):
    """Another live controller holds the study."""
