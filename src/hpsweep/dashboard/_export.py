"""``hpsweep dashboard DIR --export report.html``: one self-contained file that opens offline.

The page, its script and style, the Plotly bundle and every API answer the page asks for are
written into the one file; the page reads its answers from the embedded data instead of the server.

Learning curves are thinned to keep the file and its writing bounded at any study size: the study
page's curves keep about :data:`~hpsweep.dashboard._data.CURVE_POINTS` points in all (each trial's
first, last and best report of the objective, the rest evenly spaced, only the study's metrics),
and each trial's page at most :data:`~hpsweep.dashboard._data.DETAIL_MAX` of its reports
(:func:`~hpsweep.dashboard._data.thin_reports`); ``n_reports`` keeps the count of all. The trial
pages are built in one pass over the study (``trial_details``), not one request each.

The Plotly bundle is most of the file for a small study (about 4.6 MB). ``light=True`` carries it gzip-compressed
(base64, about 1.9 MB) and unpacks it in the page with the browser's ``DecompressionStream``
before the page's own scripts run; it still opens offline.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from hpsweep.dashboard._app import SCRIPTS, Dashboard, plotly_js_path, static_text
from hpsweep.dashboard._data import CURVE_POINTS, study_bundle, trial_details
from hpsweep.errors import UsageError

__all__ = ["export_html"]

_CLOSERS = re.compile(r"</script|<!--", re.IGNORECASE)


def _embedded_answers(app: Dashboard) -> dict[str, Any]:
    """Every answer the page asks for, built once per study: the study list from the study
    pages' summaries, the trial pages from the study page's rows and events."""
    answers: dict[str, Any] = {"/api/studies": {"studies": []}}
    for index, source in enumerate(app.sources):
        base = f"/api/studies/{index}"
        info = source.info()
        bundle = study_bundle(info, str(index), curve_points=CURVE_POINTS)
        answers["/api/studies"]["studies"].append(bundle["summary"])
        answers[base] = bundle
        response = app.get(f"{base}/importance", {})
        if response.status != 200:
            raise UsageError(f"cannot export {base}/importance: "
                             f"{response.body.decode(errors='replace')}")
        answers[f"{base}/importance"] = json.loads(response.body)
        details = trial_details(info, rows=bundle["trials"], events=bundle["events"])
        for trial_id, detail in details.items():
            detail["study_id"] = str(index)
            answers[f"{base}/trials/{trial_id}"] = detail
    return answers


def _script_safe(text: str) -> str:
    """Text that cannot end the ``<script>`` element it is placed in."""
    found = _CLOSERS.search(text)
    if found is not None:
        raise UsageError(f"cannot inline a script that contains {found.group(0)!r}")
    return text


_LOADER = """<script>
(async function () {
  const packed = document.getElementById("hpsweep-plotly-gz").textContent;
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const run = (text) => {
    const s = document.createElement("script");
    s.textContent = text;
    document.head.appendChild(s);
  };
  run(await new Response(stream).text());
  document.querySelectorAll("script[type='text/x-hpsweep']").forEach((node) => run(node.textContent));
})();
</script>
"""


def export_html(app: Dashboard, target: str | Path, *, light: bool = False) -> Path:
    """Write the self-contained dashboard of ``app``'s studies to ``target``; returns its path.
    ``light``: the chart library compressed (see the module's docstring)."""
    out = Path(target)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--export {target}: the file name must end in .html")
    if not out.parent.is_dir():
        raise UsageError(f"--export {target}: folder {out.parent} does not exist.")
    data = json.dumps({"answers": _embedded_answers(app)}, allow_nan=False, separators=(",", ":"))
    data = data.replace("<", "\\u003c")
    page = static_text("index.html")
    plotly = plotly_js_path().read_text("utf-8")
    if light:
        import base64
        import gzip

        packed = base64.b64encode(gzip.compress(plotly.encode("utf-8"), 9, mtime=0)).decode()
        inline = (
            f"<style>{static_text('style.css')}</style>\n"
            f"<script>window.HPSWEEP_EMBED = {data};</script>\n"
            f'<script type="text/x-hpsweep-gzip" id="hpsweep-plotly-gz">{packed}</script>\n'
        ) + "".join(f'<script type="text/x-hpsweep">{_script_safe(static_text(name))}</script>\n'
                    for name in SCRIPTS) + _LOADER
    else:
        inline = (
            f"<style>{static_text('style.css')}</style>\n"
            f"<script>{_script_safe(plotly)}</script>\n"
            f"<script>window.HPSWEEP_EMBED = {data};</script>\n"
        ) + "".join(f"<script>{_script_safe(static_text(name))}</script>\n" for name in SCRIPTS)
    start, end = page.index("<!-- assets -->"), page.index("<!-- /assets -->")
    page = page[:start] + inline + page[end + len("<!-- /assets -->"):]
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, out)
    return out
