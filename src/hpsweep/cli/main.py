"""``hpsweep``: the command line. Each subcommand lives in its own module with two functions,
``add_arguments(parser)`` and ``run(args) -> int``; this module wires them and maps errors to exit
codes (2 for bad input, never a traceback for an :class:`~hpsweep.errors.HpsweepError`)."""

from __future__ import annotations

import argparse
import errno
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence

from hpsweep import __version__
from hpsweep.errors import HpsweepError

__all__ = ["main"]

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("hpsweep.cli.run", "sweep a command: hpsweep run [options] -- python train.py --lr '[0.1, 0.01]'"),
    "resume": ("hpsweep.cli.resume", "continue a stopped or killed study where it was"),
    "generate": ("hpsweep.cli.generate", "print or write every configuration without running anything"),
    "status": ("hpsweep.cli.status", "show the state of one study"),
    "ls": ("hpsweep.cli.ls", "list the studies under a folder"),
    "report": ("hpsweep.cli.report", "the best trials, counts by state, the decision log"),
    "seeds": ("hpsweep.cli.seeds", "rerun the best configuration with N random seeds: mean and SD/SEM"),
    "plot": ("hpsweep.cli.plot", "write plots (PNG and HTML) of a study"),
    "export": ("hpsweep.cli.export", "export a study (to an Optuna storage)"),
    "dashboard": ("hpsweep.cli.dashboard", "serve a live dashboard of one or more studies"),
    "rerun": ("hpsweep.cli.rerun", "run one trial again from its manifest into a new folder"),
    "gc": ("hpsweep.cli.gc", "remove the folders of poor or failed trials by rule"),
    "rm": ("hpsweep.cli.rm", "remove a study no controller holds"),
}


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """Everything after the first ``--`` is the user's command, passed through untouched."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the ``chosen`` subcommand's module is imported (fast start-up)."""
    parser = argparse.ArgumentParser(
        prog="hpsweep", description="Hyperparameter sweeps for unchanged training scripts.",
        epilog="Everything after `--` is the command to sweep; see `hpsweep run --help`.",
    )
    parser.add_argument("--version", action="version", version=f"hpsweep {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details")
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    for name, (module_name, text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:  # an optional command not installed
            continue
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.set_defaults(_module=module_name)
        if name == chosen:
            importlib.import_module(module_name).add_arguments(cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list, command = _split_command(list(sys.argv[1:] if argv is None else argv))
    chosen = next((a for a in args_list if a in COMMANDS), None)
    parser = build_parser(chosen)
    args = parser.parse_args(args_list)
    if args.subcommand is None:
        parser.print_help()
        return 2
    args.command = command
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="hpsweep: %(message)s")
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except HpsweepError as exc:
        print(f"hpsweep {args.subcommand}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hpsweep: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno not in _FILE_ERRORS:
            raise
        from hpsweep.store import write_failure

        where = getattr(args, "out", None) or getattr(args, "study_dir", None)
        failure = write_failure(exc.filename or where or "a file", exc, where)
        print(f"hpsweep {args.subcommand}: error: {failure}", file=sys.stderr)
        return failure.exit_code


# Errors of the file system (full, read-only, a path that cannot be made): a clear message.
_FILE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                          errno.ENOTDIR, errno.ENOENT, errno.EISDIR, errno.ENAMETOOLONG})


if __name__ == "__main__":
    sys.exit(main())
