/* hpsweep dashboard: the study page's charts, drawn from one study answer with Plotly. */
"use strict";

(function (ns) {
  const { STATE_COLORS, fmt, fmtConfig, fmtDuration, plot, emptyChart } = ns;

  function renderHistory(b) {
    const metric = b.summary.metric;
    const done = b.trials.filter((t) => t.value !== null && t.value !== undefined);
    if (!done.length) return emptyChart("chart-history", "No trial has reported " + metric + " yet.");
    const traces = Object.keys(STATE_COLORS).map((stateName) => {
      const ts = done.filter((t) => t.state === stateName);
      return { type: "scatter", mode: "markers", name: stateName, x: ts.map((t) => t.trial_id), y: ts.map((t) => t.value),
        marker: { color: STATE_COLORS[stateName], size: 8, opacity: stateName === "completed" ? 0.9 : 0.5 },
        text: ts.map((t) => "trial " + t.trial_id + "<br>" + fmtConfig(t.config)), hoverinfo: "text+y" };
    }).filter((tr) => tr.x.length);
    const completed = done.filter((t) => t.state === "completed").sort((a, c) => a.trial_id - c.trial_id);
    let best = null;
    const bx = [], by = [];
    completed.forEach((t) => {
      if (best === null || (b.summary.mode === "min" ? t.value < best : t.value > best)) best = t.value;
      bx.push(t.trial_id); by.push(best);
    });
    traces.push({ type: "scatter", mode: "lines", name: "best so far", x: bx, y: by, line: { shape: "hv", color: "#e8590c", width: 2 } });
    const winners = new Set(b.summary.best ? b.summary.best.trial_ids || [b.summary.best.trial_id] : []);
    const won = done.filter((t) => winners.has(t.trial_id));
    if (won.length) {
      traces.push({ type: "scatter", mode: "markers", name: "best configuration", x: won.map((t) => t.trial_id), y: won.map((t) => t.value),
        marker: { size: 14, color: "rgba(0,0,0,0)", line: { color: "#e8590c", width: 2.5 } }, hoverinfo: "skip" });
    }
    plot("chart-history", traces, { xaxis: { title: { text: "trial" } }, yaxis: { title: { text: metric } },
      legend: { orientation: "h", y: 1.12 } });
  }

  function renderParallel(b) {
    const metric = b.summary.metric;
    const done = b.trials.filter((t) => t.state === "completed" && t.value !== null);
    const names = Object.keys(b.params).filter((p) => new Set(done.map((t) => JSON.stringify(t.config[p]))).size > 1);
    if (done.length < 2 || !names.length) return emptyChart("chart-parallel", "Needs two completed trials and a parameter that varies.");
    const dims = names.map((p) => {
      if (b.params[p] === "number") {
        const values = done.map((t) => (typeof t.config[p] === "number" ? t.config[p] : null));
        const present = values.filter((v) => v !== null);
        const logScale = present.every((v) => v > 0) && Math.max(...present) / Math.min(...present) >= 100;
        return logScale ? { label: "log10 " + p, values: values.map((v) => (v === null ? null : Math.log10(v))) } : { label: p, values };
      }
      const cats = [...new Set(done.map((t) => fmt(t.config[p])))].sort();
      return { label: p, values: done.map((t) => cats.indexOf(fmt(t.config[p]))), tickvals: cats.map((_, i) => i), ticktext: cats };
    });
    dims.push({ label: metric, values: done.map((t) => t.value) });
    plot("chart-parallel", [{ type: "parcoords", dimensions: dims,
      line: { color: done.map((t) => t.value), colorscale: "Viridis", reversescale: b.summary.mode === "min", showscale: true } }],
    { margin: { l: 60, r: 60, t: 40, b: 20 } });
  }

  // At most MAX_CURVES curves: every running trial, then the best by the objective.
  const MAX_CURVES = 200;

  function curveTrials(b) {
    const withReports = b.trials.filter((t) => (t.reports || []).length);
    if (withReports.length <= MAX_CURVES) return withReports;
    const sign = b.summary.mode === "max" ? -1 : 1;
    const rank = (t) => (t.state === "running" ? -Infinity : t.value === null ? Infinity : sign * t.value);
    return withReports.slice().sort((x, y) => (rank(x) === rank(y) ? x.trial_id - y.trial_id : rank(x) < rank(y) ? -1 : 1))
      .slice(0, MAX_CURVES);
  }

  const WINNER = "#e8590c";

  function renderCurves(b) {
    const metric = b.summary.metric;
    const traces = [];
    const shown = curveTrials(b);
    const winners = new Set(b.summary.best ? b.summary.best.trial_ids || [b.summary.best.trial_id] : []);
    const curves = shown.map((t) => [t, (t.reports || []).filter((r) => typeof r.metrics[metric] === "number")])
      .filter(([, points]) => points.length);
    // a study whose trials report once (a summary file read at the end) has no curves to draw
    const anyCurve = curves.some(([, points]) => points.length > 1);
    if (!anyCurve) return emptyChart("chart-curves", "No intermediate reports of " + metric + " yet.");
    let winnerLegend = false;
    curves.sort(([x], [y]) => (winners.has(x.trial_id) ? 1 : 0) - (winners.has(y.trial_id) ? 1 : 0));  // winner on top
    curves.forEach(([t, points]) => {
      const won = winners.has(t.trial_id);
      traces.push({ type: "scatter", mode: points.length > 1 ? "lines" : "markers",
        name: won ? "best configuration" : "trial " + t.trial_id, showlegend: won && !winnerLegend,
        legendgroup: won ? "winner" : undefined,
        x: points.map((r) => (r.step === null ? r.seq : r.step)), y: points.map((r) => r.metrics[metric]),
        line: { color: won ? WINNER : (STATE_COLORS[t.state] || "#888"), width: won ? 3.5 : 1.2 },
        opacity: won ? 1 : 0.45,
        hovertemplate: "trial " + t.trial_id + " (" + t.state + (won ? ", best" : "") + ")<br>step %{x}<br>" + metric + " %{y}<extra></extra>" });
      if (won) winnerLegend = true;
    });
    const symbols = { stopped: "x", paused: "square", resumed: "triangle-right" };
    const colors = { stopped: "#e03131", paused: "#f59f00", resumed: "#1c7ed6" };
    Object.keys(symbols).forEach((kind) => {
      const ids = new Set(shown.map((t) => t.trial_id));
      const ms = b.marks.filter((m) => m.kind === kind && ids.has(m.trial_id));
      if (!ms.length) return;
      traces.push({ type: "scatter", mode: "markers", name: kind, x: ms.map((m) => m.step), y: ms.map((m) => m.value),
        marker: { symbol: symbols[kind], size: 10, color: colors[kind], line: { width: 1, color: "#fff" } },
        text: ms.map((m) => "trial " + m.trial_id + " " + kind + " at step " + m.step +
          (m.decided_at !== null && m.decided_at !== m.step ? " (decided at step " + m.decided_at + ")" : "")),
        hoverinfo: "text+y" });
    });
    plot("chart-curves", traces, { xaxis: { title: { text: "step" } }, yaxis: { title: { text: metric } },
      legend: { orientation: "h", y: 1.12 } });
  }

  function renderTimeline(b) {
    const segments = b.timeline;
    const util = document.getElementById("utilization");
    if (!segments.length) {
      util.textContent = "";
      return emptyChart("chart-timeline", "No trial has started yet.");
    }
    const t0 = Math.min(...segments.map((s) => s.start));
    const t1 = Math.max(...segments.map((s) => s.end));
    const span = Math.max(t1 - t0, 1e-9);
    const lanes = [...new Set(segments.map((s) => s.lane))].sort((a, c) => a.localeCompare(c, undefined, { numeric: true }));
    const busy = {};
    segments.forEach((s) => { busy[s.lane] = (busy[s.lane] || 0) + (s.end - s.start); });
    util.textContent = "Busy: " + lanes.map((l) => l + " " + Math.round((100 * busy[l]) / span) + "%").join(" · ") +
      " over " + fmtDuration(span);
    const traces = Object.keys(STATE_COLORS).map((stateName) => {
      const ss = segments.filter((s) => s.state === stateName);
      return { type: "bar", orientation: "h", name: stateName, y: ss.map((s) => s.lane), base: ss.map((s) => s.start - t0),
        x: ss.map((s) => Math.max(s.end - s.start, span / 500)), marker: { color: STATE_COLORS[stateName], line: { color: "#fff", width: 1 } },
        text: ss.map((s) => "#" + s.trial_id), textposition: "inside", insidetextanchor: "middle",
        hovertext: ss.map((s) => "trial " + s.trial_id + " (" + s.kind + ", " + s.state + ")<br>" + fmtDuration(s.end - s.start)),
        hoverinfo: "text" };
    }).filter((tr) => tr.y.length);
    plot("chart-timeline", traces, { barmode: "overlay", xaxis: { title: { text: "seconds since the first start" } },
      yaxis: { categoryorder: "array", categoryarray: lanes.slice().reverse() }, legend: { orientation: "h", y: 1.15 },
      margin: { l: 120, r: 20, t: 10, b: 45 } });
  }


  function renderImportance(result, metric) {
    const entries = Object.entries(result.params);
    if (!entries.length) return emptyChart("chart-importance", result.note || "No importance yet.");
    entries.reverse();
    const caveat = result.note ? [{ text: result.note, xref: "paper", yref: "paper", x: 0, y: 1.02, xanchor: "left",
      yanchor: "bottom", showarrow: false, font: { size: 11, color: "#c92a2a" } }] : [];
    plot("chart-importance", [{ type: "bar", orientation: "h", y: entries.map((e) => e[0]), x: entries.map((e) => e[1]),
      marker: { color: "#3b5bdb" }, text: entries.map((e) => (100 * e[1]).toFixed(0) + "%"), textposition: "auto" }],
    { xaxis: { title: { text: "importance for " + metric + " (fANOVA, " + result.n + " trials)" }, range: [0, 1] },
      annotations: caveat, margin: { l: 110, r: 20, t: caveat.length ? 30 : 10, b: 45 } });
  }

  ns.charts = { renderHistory, renderParallel, renderCurves, renderTimeline, renderImportance };
})(window.hpsweep = window.hpsweep || {});
