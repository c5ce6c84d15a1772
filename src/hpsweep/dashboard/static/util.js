/* hpsweep dashboard: shared helpers (data access, DOM building, formatting, Plotly calls). */
"use strict";

(function (ns) {
  const EMBED = window.HPSWEEP_EMBED || null;
  const STATE_COLORS = {
    running: "#1c7ed6", completed: "#2f9e44", paused: "#f59f00", stopped: "#868e96",
    failed: "#e03131", interrupted: "#9c36b5",
  };
  const PLOT_CONFIG = { displaylogo: false, responsive: true };

  async function api(path) {
    if (EMBED) {
      const answer = EMBED.answers[path];
      if (answer === undefined) throw new Error("not included in this export: " + path);
      return answer;
    }
    const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      let message = "HTTP " + response.status;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    return response.json();
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function fmt(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "number") {
      if (Number.isInteger(value)) return String(value);
      return String(Number(value.toPrecision(6)));
    }
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function fmtConfig(config) {
    return Object.entries(config || {}).map(([k, v]) => k + "=" + fmt(v)).join("  ");
  }

  function fmtTime(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    return new Date(seconds * 1000).toLocaleString();
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    if (seconds < 3600) return (seconds / 60).toFixed(1) + " min";
    return (seconds / 3600).toFixed(2) + " h";
  }

  function badge(stateName) { return el("span", { class: "badge " + stateName }, stateName); }

  function shellQuote(arg) {
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : "'" + arg.replace(/'/g, "'\\''") + "'";
  }

  function setMain(...children) {
    const main = document.getElementById("main");
    main.replaceChildren(...children);
  }

  function setCrumbs(parts) {
    const nav = document.getElementById("crumbs");
    const items = [];
    parts.forEach((part, i) => {
      if (i > 0) items.push(el("span", {}, "›"));
      items.push(part.href ? el("a", { href: part.href }, part.text) : el("span", {}, part.text));
    });
    nav.replaceChildren(...items);
  }

  function setLive(live, text) {
    const node = document.getElementById("live");
    node.className = "live-indicator" + (live ? " on" : "");
    node.textContent = text;
  }

  function plot(id, traces, layout) {
    const node = document.getElementById(id);
    if (!node) return;
    // a note left by emptyChart must not stay drawn over the chart that replaces it
    node.querySelectorAll(":scope > p.note").forEach((p) => p.remove());
    const base = { margin: { l: 60, r: 20, t: 10, b: 45 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      font: { size: 12 }, hovermode: "closest" };
    window.Plotly.react(node, traces, Object.assign(base, layout || {}), PLOT_CONFIG);
  }

  function emptyChart(id, message) {
    const node = document.getElementById(id);
    if (!node) return;
    if (window.Plotly && node.data) window.Plotly.purge(node);
    node.replaceChildren(el("p", { class: "note" }, message));
  }


  Object.assign(ns, { EMBED, STATE_COLORS, api, el, fmt, fmtConfig, fmtTime, fmtDuration, badge, shellQuote,
    setMain, setCrumbs, setLive, plot, emptyChart });
})(window.hpsweep = window.hpsweep || {});
