"""The live dashboard: a read-only web view of one or several studies, and its HTML export.

>>> from hpsweep.dashboard import Dashboard, DashboardServer  # doctest: +SKIP
>>> app = Dashboard(studies=["runs/my-study"])  # doctest: +SKIP
>>> server = DashboardServer(app=app, port=0).start()  # doctest: +SKIP
>>> print(server.url)  # doctest: +SKIP
"""

from __future__ import annotations

from hpsweep.dashboard._app import Dashboard, Response
from hpsweep.dashboard._export import export_html
from hpsweep.dashboard._server import DashboardServer, is_loopback

__all__ = ["Dashboard", "DashboardServer", "Response", "export_html", "is_loopback"]
