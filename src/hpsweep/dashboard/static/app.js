/* hpsweep dashboard: a read-only view of one or several studies.
 * Live mode reads the JSON API and polls /api/studies/<id>/events for changes; an exported file
 * carries every answer in window.HPSWEEP_EMBED and never touches the network. */
"use strict";

(function (ns) {
  const { EMBED, STATE_COLORS, api, el, fmt, fmtConfig, fmtTime, fmtDuration, badge, shellQuote,
    setMain, setCrumbs, setLive, plot, emptyChart } = ns;
  const { renderHistory, renderParallel, renderCurves, renderTimeline, renderImportance } = ns.charts;
  const POLL_MS = 1000;

  const view = { token: 0, timer: null, study: null, importanceKey: null, sort: { key: "trial_id", dir: 1 },
    filter: "", stateFilter: "" };

  // -- routing ----------------------------------------------------------------------------------
  function stopPolling() {
    if (view.timer !== null) clearTimeout(view.timer);
    view.timer = null;
  }

  async function route() {
    stopPolling();
    view.token += 1;
    const hash = location.hash.replace(/^#/, "") || "/";
    const parts = hash.split("/").filter(Boolean);
    try {
      if (parts[0] === "study" && parts.length === 2) await showStudy(parts[1]);
      else if (parts[0] === "study" && parts[2] === "trial") await showTrial(parts[1], parts[3]);
      else if (parts[0] === "study" && parts[2] === "seeds") await showSeeds(parts[1]);
      else await showStudies(parts[0] !== "studies");
    } catch (err) {
      setMain(el("p", { class: "error" }, "Could not load this page: " + err.message));
    }
  }

  // -- study list -------------------------------------------------------------------------------
  async function showStudies(allowJump) {
    const { studies } = await api("/api/studies");
    if (allowJump && studies.length === 1) {
      location.replace("#/study/" + studies[0].id);
      return;
    }
    setCrumbs([{ text: "Studies" }]);
    setLive(studies.some((s) => s.live), studies.some((s) => s.live) ? "a sweep is running" : "");
    const rows = studies.map((s) => el("tr", {},
      el("td", {}, el("a", { href: "#/study/" + s.id }, s.name)),
      el("td", {}, s.live ? el("span", { class: "badge live" }, "running") : el("span", { class: "badge idle" }, "not running")),
      el("td", { class: "num" }, s.n_trials),
      el("td", {}, Object.entries(s.counts).map(([k, n]) => n + " " + k).join(", ")),
      el("td", {}, s.best ? s.metric + " = " + fmt(s.best.value) + (s.best.n > 1 ? " ± " + fmt(s.best.sd) + " (mean of " + s.best.n + " runs)"
        : " (trial " + s.best.trial_id + ")") : "—"),
      el("td", { class: "muted small" }, s.path)));
    setMain(el("h1", {}, "Studies"),
      el("div", { class: "table-wrap" }, el("table", { id: "studies" },
        el("thead", {}, el("tr", {}, ["study", "state", "trials", "by state", "best", "folder"].map((h) => el("th", {}, h)))),
        el("tbody", {}, rows))));
    if (!EMBED) {
      const token = view.token;
      view.timer = setTimeout(() => { if (token === view.token) route(); }, 3000);
    }
  }

  // -- study view -------------------------------------------------------------------------------
  async function showStudy(studyId) {
    const token = view.token;
    const bundle = await api("/api/studies/" + studyId);
    if (token !== view.token) return;
    view.study = { id: studyId, bundle, stamp: null, lastEvent: bundle.summary.last_event };
    view.importanceKey = null;
    const s = bundle.summary;
    setCrumbs([{ text: "Studies", href: "#/studies" }, { text: s.name }]);
    setMain(
      el("h1", {}, s.name, " ", el("span", { id: "study-state" })),
      el("div", { class: "muted small" }, s.path, " · strategy ", fmt(s.strategy), " · scheduler ", fmt(s.scheduler),
        " · objective ", s.metrics.map((m, i) => m + " (" + s.modes[i] + ")").join(", ")),
      el("div", { class: "cards", id: "cards" }),
      el("div", { class: "grid2" },
        chartCard("Optimization history", "chart-history"),
        chartCard("Parameter importance", "chart-importance")),
      el("div", { class: "grid2" },
        chartCard("Parallel coordinates", "chart-parallel"),
        chartCard("Learning curves (× stopped, ■ paused, ▶ resumed)", "chart-curves")),
      el("div", { class: "card" }, el("h2", {}, "Timeline of trials per slot / GPU"),
        el("div", { id: "utilization", class: "muted small" }),
        el("div", { id: "chart-timeline", class: "chart" })),
      el("div", { class: "card", style: "margin-top:12px" }, el("h2", {}, "Trials"),
        el("div", { class: "toolbar" },
          el("input", { id: "filter", type: "search", placeholder: "filter: text or key=value", value: view.filter,
            oninput: (e) => { view.filter = e.target.value; renderTable(); } }),
          el("select", { id: "state-filter", onchange: (e) => { view.stateFilter = e.target.value; renderTable(); } },
            el("option", { value: "" }, "all states"),
            Object.keys(STATE_COLORS).map((k) => el("option", { value: k, selected: view.stateFilter === k }, k))),
          el("span", { id: "row-count", class: "muted small" })),
        el("div", { class: "table-wrap" }, el("table", { id: "trials" }, el("thead"), el("tbody")))));
    renderStudy();
    pollStudy(token);
  }

  function chartCard(title, id) {
    return el("div", { class: "card" }, el("h2", {}, title), el("div", { id, class: "chart" }));
  }

  function renderStudy() {
    const b = view.study.bundle;
    const s = b.summary;
    const stateNode = document.getElementById("study-state");
    stateNode.replaceChildren(s.live ? el("span", { class: "badge live" }, "running") : el("span", { class: "badge idle" }, "not running"));
    setLive(s.live && !EMBED, EMBED ? "exported " + fmtTime(b.now) : (s.live ? "live" : "study not running") + " · updated " + new Date().toLocaleTimeString());
    renderCards(b);
    renderTable();
    renderHistory(b);
    renderParallel(b);
    renderCurves(b);
    renderTimeline(b);
    tidyCards(s.live);
    refreshImportance();
  }

  // A finished study shows no empty panel: a chart card with nothing to draw is hidden (while a
  // sweep runs its note says what the chart waits for).
  function tidyCards(live) {
    let changed = false;
    const charts = [...document.querySelectorAll("#main .card > .chart")];
    charts.forEach((chart) => {
      const empty = !!chart.querySelector(":scope > p.note") && !chart.querySelector(".main-svg");
      const display = empty && !live ? "none" : "";
      const card = chart.closest(".card");
      if (card.style.display !== display) changed = true;
      card.style.display = display;
    });
    // a chart whose neighbour was hidden now has the whole row: draw it at its new width
    if (changed) charts.filter((c) => c.querySelector(".main-svg")).forEach((c) => window.Plotly.Plots.resize(c));
  }

  function renderCards(b) {
    const s = b.summary;
    const chips = Object.keys(STATE_COLORS).filter((k) => s.counts[k]).map((k) =>
      el("span", { class: "chip", "data-state": k }, el("span", { class: "badge " + k }, s.counts[k]), k));
    // the best configuration by its mean over its runs (repetitions, seeds), never its luckiest run
    const runs = s.best ? (s.best.trial_ids || [s.best.trial_id]).filter((id) => id >= 0) : [];
    const spread = s.best && s.best.n > 1 ? " ± " + fmt(s.best.sd) : "";
    const best = s.best
      ? [el("div", { class: "big", id: "best-value" }, fmt(s.best.value) + spread),
        el("div", { class: "small", id: "best-runs" }, s.best.n > 1 ? "mean ± SD of " + s.best.n + " runs: " : "",
          ...runs.map((id, i) => [i ? ", " : "", el("a", { href: "#/study/" + s.id + "/trial/" + id }, "trial " + id)]).flat(),
          runs.length < s.best.n ? " and the reference run" : ""),
        el("div", { class: "muted small" }, fmtConfig(s.best.config))]
      : [el("div", { class: "big" }, "—"), el("div", { class: "muted small" }, "no completed trial yet")];
    const seeds = b.seed_groups.length
      ? el("a", { href: "#/study/" + s.id + "/seeds" }, b.seed_groups.length + (b.seed_groups.length === 1 ? " configuration" : " configurations") +
        " run more than once: mean ± SD")
      : el("span", { class: "muted" }, "no configuration ran more than once");
    document.getElementById("cards").replaceChildren(
      el("div", { class: "card" }, el("div", { class: "muted" }, "Trials"),
        el("div", { class: "big", id: "n-trials" }, s.n_trials), el("div", { class: "chips" }, chips)),
      el("div", { class: "card" }, el("div", { class: "muted" }, "Best " + s.metric + " (" + s.mode + ")"), best),
      el("div", { class: "card" }, el("div", { class: "muted" }, s.seed_study ? "Seed gathering" : "Repetitions and seeds"), el("div", {}, seeds)));
  }

  // -- trials table -----------------------------------------------------------------------------
  function tableColumns(b) {
    const metrics = new Set();
    b.trials.forEach((t) => Object.keys(t.metrics || {}).forEach((m) => metrics.add(m)));
    const primary = b.summary.metrics;
    const others = [...metrics].filter((m) => !primary.includes(m)).sort();
    const cols = [
      { key: "trial_id", label: "trial", get: (t) => t.trial_id, num: true },
      { key: "state", label: "state", get: (t) => t.state, render: (t) => badge(t.state) },
    ];
    primary.concat(others).forEach((m) => cols.push({ key: "m:" + m, label: m, get: (t) => (t.metrics || {})[m], num: true }));
    Object.keys(b.params).forEach((p) => cols.push({ key: "p:" + p, label: p, get: (t) => t.config[p], num: b.params[p] === "number" }));
    cols.push({ key: "resource", label: "budget", get: (t) => t.resource, num: true });
    cols.push({ key: "steps", label: "steps run", get: (t) => t.steps, num: true });
    cols.push({ key: "slot", label: "slot/GPU", get: (t) => (t.worker_id === null ? null : (t.gpu ? "GPU " + t.gpu + " · " : "") + t.worker_id) });
    cols.push({ key: "duration", label: "duration", get: (t) => t.duration, num: true, render: (t) => fmtDuration(t.duration) });
    cols.push({ key: "error", label: "error", get: (t) => (t.error_kind ? t.error_kind + ": " + (t.error || "") : null) });
    return cols;
  }

  function matches(trial, cols, filter) {
    if (!filter) return true;
    return filter.trim().split(/\s+/).every((term) => {
      const eq = term.indexOf("=");
      if (eq > 0) {
        const name = term.slice(0, eq).toLowerCase();
        const col = cols.find((c) => c.label.toLowerCase() === name);
        return col ? fmt(col.get(trial)).toLowerCase() === term.slice(eq + 1).toLowerCase() : false;
      }
      return cols.some((c) => fmt(c.get(trial)).toLowerCase().includes(term.toLowerCase()));
    });
  }

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function renderTable() {
    const table = document.getElementById("trials");
    if (!table || !view.study) return;
    const b = view.study.bundle;
    const cols = tableColumns(b);
    const sortCol = cols.find((c) => c.key === view.sort.key) || cols[0];
    const rows = b.trials.filter((t) => (!view.stateFilter || t.state === view.stateFilter) && matches(t, cols, view.filter));
    rows.sort((x, y) => {
      const c = compare(sortCol.get(x), sortCol.get(y));
      return c === 0 ? x.trial_id - y.trial_id : (sortCol.get(x) === null || sortCol.get(x) === undefined || sortCol.get(y) === null || sortCol.get(y) === undefined ? c : c * view.sort.dir);
    });
    const bestId = b.summary.best ? b.summary.best.trial_id : null;
    const bestRuns = new Set(b.summary.best ? b.summary.best.trial_ids || [bestId] : []);
    table.tHead.replaceChildren(el("tr", {}, cols.map((c) => el("th", {
      class: "sortable" + (c.key === sortCol.key ? (view.sort.dir > 0 ? " sorted-asc" : " sorted-desc") : ""),
      "data-key": c.key,
      onclick: () => {
        view.sort = { key: c.key, dir: view.sort.key === c.key ? -view.sort.dir : 1 };
        renderTable();
      },
    }, c.label))));
    table.tBodies[0].replaceChildren(...rows.map((t) => el("tr", { class: t.trial_id === bestId ? "best" : bestRuns.has(t.trial_id) ? "best-run" : null, "data-trial": t.trial_id },
      cols.map((c) => {
        if (c.key === "trial_id") return el("td", { class: "num" }, el("a", { href: "#/study/" + b.summary.id + "/trial/" + t.trial_id }, t.trial_id));
        return el("td", { class: c.num ? "num" : null }, c.render ? c.render(t) : fmt(c.get(t)));
      }))));
    document.getElementById("row-count").textContent = rows.length + " of " + b.trials.length + " trials";
  }

  // -- charts -----------------------------------------------------------------------------------
  async function refreshImportance() {
    const study = view.study;
    const final = study.bundle.trials.filter((t) => !["running", "paused"].includes(t.state)).length;
    if (view.importanceKey === final) return;
    view.importanceKey = final;
    const token = view.token;
    const result = await api("/api/studies/" + study.id + "/importance");
    if (token === view.token) {
      renderImportance(result, study.bundle.summary.metric);
      tidyCards(study.bundle.summary.live);
    }
  }

  // -- live updates -----------------------------------------------------------------------------
  // Polls for changes; a study whose page takes long to fetch and draw is polled less often, so a
  // huge live study never keeps the browser and the server busy all the time.
  function pollStudy(token, delay) {
    if (EMBED) return;
    view.timer = setTimeout(async () => {
      if (token !== view.token) return;
      let next = POLL_MS;
      try {
        const study = view.study;
        const answer = await api("/api/studies/" + study.id + "/events?since=" + study.lastEvent);
        if (token !== view.token) return;
        if (answer.stamp !== study.stamp || answer.live !== study.bundle.summary.live) {
          const t0 = performance.now();
          const bundle = await api("/api/studies/" + study.id);
          if (token !== view.token) return;
          study.bundle = bundle;
          study.stamp = answer.stamp;
          study.lastEvent = answer.last;
          renderStudy();
          next = Math.max(POLL_MS, 3 * (performance.now() - t0));
        }
      } catch (err) {
        setLive(false, "connection lost: " + err.message);
      }
      pollStudy(token, next);
    }, delay === undefined ? POLL_MS : delay);
  }

  // -- trial view -------------------------------------------------------------------------------
  async function showTrial(studyId, trialId) {
    const token = view.token;
    const detail = await api("/api/studies/" + studyId + "/trials/" + trialId);
    if (token !== view.token) return;
    const t = detail.trial;
    setCrumbs([{ text: "Studies", href: "#/studies" }, { text: detail.study_name, href: "#/study/" + studyId }, { text: "trial " + t.trial_id }]);
    setLive(detail.live && !EMBED, detail.live ? "live" : "");
    const configRows = Object.entries(t.config).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, fmt(v))));
    const infoRows = [["state", badge(t.state)], ["value (" + detail.metric + ")", fmt(t.value)], ["seed", fmt(t.seed)],
      ["repetition", fmt(t.repetition)], ["budget", fmt(t.resource)], ["slot / GPU", fmt(t.worker_id) + (t.gpu ? " / GPU " + t.gpu : "")],
      ["runs", fmt(t.runs)], ["started", fmtTime(t.started)], ["finished", fmtTime(t.finished)], ["duration", fmtDuration(t.duration)],
      ["exit code", fmt(t.exit_code)], ["error", t.error_kind ? t.error_kind + ": " + (t.error || "") : "—"], ["folder", t.trial_dir || "—"]]
      .map(([k, v]) => el("tr", {}, el("td", { class: "muted" }, k), el("td", {}, v)));
    const history = detail.history.map((e) => el("tr", {}, el("td", {}, fmtTime(e.time)), el("td", {}, e.kind),
      el("td", { class: "small" }, Object.entries(e.data || {}).filter(([, v]) => v !== null && v !== "").map(([k, v]) => k + "=" + fmt(v)).join("  "))));
    const metricNames = [...new Set(t.reports.flatMap((r) => Object.keys(r.metrics)))];
    const reportRows = t.reports.slice(-300).map((r) => el("tr", {}, el("td", { class: "num" }, fmt(r.step)),
      metricNames.map((m) => el("td", { class: "num" }, fmt(r.metrics[m]))), el("td", { class: "small muted" }, fmtTime(r.time))));
    setMain(
      el("h1", {}, "Trial " + t.trial_id + " ", badge(t.state)),
      el("div", { class: "grid2" },
        el("div", { class: "card" }, el("h2", {}, "Configuration"), el("table", {}, el("tbody", {}, configRows)),
          el("h2", { style: "margin-top:12px" }, "Command line"),
          el("code", { class: "cmd", id: "argv" }, detail.argv ? detail.argv.map(shellQuote).join(" ") : "—"),
          detail.cwd ? el("div", { class: "muted small" }, "in " + detail.cwd) : null),
        el("div", { class: "card" }, el("h2", {}, "Run"), el("table", {}, el("tbody", {}, infoRows)))),
      el("div", { class: "grid2" },
        chartCard("Reports", "chart-trial"),
        el("div", { class: "card" }, el("h2", {}, "State history"),
          el("div", { class: "table-wrap" }, el("table", { id: "history" }, el("thead", {}, el("tr", {}, el("th", {}, "time"), el("th", {}, "event"), el("th", {}, "details"))), el("tbody", {}, history))))),
      el("div", { class: "card" }, el("h2", {}, "Reports (" + t.reports.length + ")"),
        el("div", { class: "table-wrap" }, el("table", { id: "reports" }, el("thead", {}, el("tr", {}, el("th", {}, "step"), metricNames.map((m) => el("th", {}, m)), el("th", {}, "time"))), el("tbody", {}, reportRows)))),
      el("div", { class: "grid2", style: "margin-top:12px" },
        el("div", { class: "card" }, el("h2", {}, "stdout (tail)"), el("pre", { id: "log-stdout" }, EMBED ? "not included in an exported report" : "…")),
        el("div", { class: "card" }, el("h2", {}, "stderr (tail)"), el("pre", { id: "log-stderr" }, EMBED ? "not included in an exported report" : "…"))));
    const numeric = metricNames.filter((m) => t.reports.some((r) => typeof r.metrics[m] === "number"));
    if (numeric.length) {
      plot("chart-trial", numeric.map((m, i) => ({ type: "scatter", mode: "lines+markers", name: m, yaxis: i === 0 ? "y" : "y2",
        x: t.reports.map((r) => (r.step === null ? r.seq : r.step)), y: t.reports.map((r) => r.metrics[m]) })),
      { xaxis: { title: { text: "step" } }, yaxis2: { overlaying: "y", side: "right" }, legend: { orientation: "h", y: 1.12 } });
    } else emptyChart("chart-trial", "This trial reported no numbers.");
    if (!EMBED) {
      await loadLogs(studyId, detail.files, token);
      if (detail.live && ["running", "paused"].includes(t.state)) {
        view.timer = setTimeout(() => { if (token === view.token) route(); }, 3000);
      }
    }
  }

  async function loadLogs(studyId, files, token) {
    for (const name of ["stdout", "stderr"]) {
      const node = document.getElementById("log-" + name);
      const path = files.find((f) => f.endsWith("/" + name + ".log"));
      if (!path) { node.textContent = "(no " + name + ".log)"; continue; }
      try {
        const answer = await api("/api/studies/" + studyId + "/file?tail=20000&path=" + encodeURIComponent(path));
        if (token !== view.token) return;
        node.textContent = (answer.size > 20000 ? "… (" + answer.size + " bytes, last 20000 shown)\n" : "") + (answer.text || "(empty)");
        node.scrollTop = node.scrollHeight;
      } catch (err) {
        node.textContent = "could not read " + path + ": " + err.message;
      }
    }
  }

  // -- seed gathering ---------------------------------------------------------------------------
  async function showSeeds(studyId) {
    const b = await api("/api/studies/" + studyId);
    const s = b.summary;
    setCrumbs([{ text: "Studies", href: "#/studies" }, { text: s.name, href: "#/study/" + studyId }, { text: "seeds" }]);
    const groups = b.seed_groups;
    if (!groups.length) {
      setMain(el("h1", {}, "Repetitions and seeds"), el("p", { class: "note" }, "No configuration of this study ran more than once."));
      return;
    }
    const rows = groups.map((g, i) => el("tr", {}, el("td", {}, "#" + (i + 1)), el("td", {}, fmtConfig(g.config)),
      el("td", { class: "num" }, g.n), el("td", { class: "num" }, fmt(g.mean)), el("td", { class: "num" }, fmt(g.sd)),
      el("td", { class: "num" }, fmt(g.sem)), el("td", { class: "num" }, fmt(g.min)), el("td", { class: "num" }, fmt(g.max)),
      el("td", { class: "small" }, g.runs.map((r) => "seed " + fmt(r.seed) + (r.reference ? " (reference run)" : "") + ": " + fmt(r.value)).join(", "))));
    setMain(el("h1", {}, (s.seed_study ? "Seed gathering: " : "Repetitions: ") + s.metric + " per run, configurations ranked by their mean"),
      el("div", { class: "card" }, el("div", { id: "chart-seeds", class: "chart tall" })),
      el("div", { class: "table-wrap", style: "margin-top:12px" }, el("table", { id: "seeds" },
        el("thead", {}, el("tr", {}, ["", "configuration", "n", "mean", "SD", "SEM", "min", "max", "per seed"].map((h) => el("th", {}, h)))),
        el("tbody", {}, rows))));
    const shown = groups.slice(0, 20);
    plot("chart-seeds", shown.map((g, i) => {
      const runs = g.runs.filter((r) => r.value !== null);
      return { type: "box", name: "#" + (i + 1), x: runs.map(() => "#" + (i + 1)), boxpoints: "all", jitter: 0.4, pointpos: 0,
        y: runs.map((r) => r.value), text: runs.map((r) => "seed " + r.seed), hoverinfo: "text+y", boxmean: "sd" };
    }), { showlegend: false, yaxis: { title: { text: s.metric } },
      xaxis: { title: { text: "configuration (see the table)" } } });
  }

  function boot() {
    if (!window.Plotly) {
      setMain(el("p", { class: "error" }, "The chart library did not load."));
      return;
    }
    window.addEventListener("hashchange", route);
    route();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})(window.hpsweep);
