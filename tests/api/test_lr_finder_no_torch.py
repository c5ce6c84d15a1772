"""Without PyTorch, LearningRateFinder says which extra installs it (not a bare import error)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import cli_env


def test_missing_torch_names_the_extra() -> None:
    code = ("import sys; sys.modules['torch'] = None\n"  # as if torch were not installed
            "from hpsweep.api import LearningRateFinder\n"
            "from hpsweep.errors import UsageError\n"
            "try:\n"
            "    LearningRateFinder(object(), object())\n"
            "except UsageError as exc:\n"
            "    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=cli_env())
    assert done.returncode == 0, done.stderr
    assert "hpsweep[torch]" in done.stdout and "ModuleNotFoundError" not in done.stderr
