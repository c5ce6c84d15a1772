"""``hpsweep dashboard DIR... [--port P]``: serve a live, read-only dashboard of studies, or
``--export report.html`` to write one self-contained file instead."""

from __future__ import annotations

import argparse
import os
import sys

from hpsweep.errors import UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("study_dirs", metavar="DIR", nargs="+",
                   help="study folders (the --out of a sweep)")
    p.add_argument("--port", type=int, default=8765,
                   help="port to listen on (default 8765, 0: any free)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1); any other needs --token")
    p.add_argument("--token", default=os.environ.get("HPSWEEP_DASHBOARD_TOKEN"),
                   help="access token every request must carry (needed with --host; default "
                        "$HPSWEEP_DASHBOARD_TOKEN, which keeps it out of the process list)")
    p.add_argument("--export", metavar="FILE.html",
                   help="write one self-contained HTML file with the same charts and exit")
    p.add_argument("--light", action="store_true",
                   help="with --export: carry the chart library compressed (about a third of the "
                        "size; still opens offline, in any browser from 2023 on)")


def run(args: argparse.Namespace) -> int:
    from hpsweep.dashboard import Dashboard, DashboardServer, export_html

    app = Dashboard(studies=args.study_dirs)
    if args.export:
        path = export_html(app, args.export, light=args.light)
        size = path.stat().st_size / 1e6
        print(f"hpsweep: dashboard written to {path} ({size:.1f} MB; opens offline)")
        return 0
    if args.token is not None and not args.token.strip():
        raise UsageError("--token is empty: give a secret of at least 8 characters.")
    server = DashboardServer(app=app, host=args.host, port=args.port, token=args.token)
    print(f"hpsweep: dashboard of {len(app.sources)} "
          f"stud{'y' if len(app.sources) == 1 else 'ies'} at {server.url}  (Ctrl-C stops it)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("hpsweep: dashboard stopped", file=sys.stderr)
    finally:
        server.close()
    return 0
