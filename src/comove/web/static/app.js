// The comove dashboard: fetch the JSON API and draw with Plotly.react. Data never goes
// through innerHTML: every text is set with textContent. This script runs before plotly.js
// (deferred, in page order), so the first requests overlap parsing plotly.js and the numbers
// can show before it is ready; the charts wait for DOMContentLoaded, which comes after every
// deferred script has run.
"use strict";

(function () {
  const CONFIG = { responsive: true, displaylogo: false };
  const $ = (id) => document.getElementById(id);
  let generation = 0;
  let timer = null;
  let drawnFigures = null;
  const scriptsRun = new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));
  // One frame for the browser to paint the numbers before the charts take the main thread.
  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function query() {
    const params = new URLSearchParams();
    for (const id of ["crypto", "equity", "windows", "since"]) {
      const value = $(id) && $(id).value;
      if (value) params.set(id, value);
    }
    return params.toString();
  }

  // The parsed answer, and its text (to tell an unchanged answer from a new one).
  async function getAnswer(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const text = await response.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch (err) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.error ? body.error : "HTTP " + response.status;
      throw new Error(message);
    }
    return { body: body, text: text };
  }

  async function getJSON(path) {
    return (await getAnswer(path)).body;
  }

  function fmt(value, digits) {
    return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
  }

  function drawFigures(payload) {
    const holder = $("charts");
    const figures = window.comoveFigures.resolve(payload);
    const keys = Object.keys(figures);
    for (const old of [...holder.querySelectorAll("section.chart")]) {
      if (!keys.includes(old.dataset.key)) {
        window.Plotly.purge(old.querySelector("div"));
        holder.removeChild(old);
      }
    }
    for (const key of keys) {
      const entry = figures[key];
      let section = holder.querySelector('section.chart[data-key="' + CSS.escape(key) + '"]');
      if (!section) {
        section = el("section", null, "chart");
        section.dataset.key = key;
        section.appendChild(el("h2"));
        const div = el("div");
        div.id = "chart-" + key;
        section.appendChild(div);
        holder.appendChild(section);
      }
      section.querySelector("h2").textContent = entry.title;
      const figure = entry.figure;
      const layout = Object.assign({}, figure.layout, { autosize: true });
      delete layout.width;
      window.Plotly.react(section.querySelector("div"), figure.data, layout, CONFIG);
    }
    $("synthetic").hidden = !payload.meta.synthetic;
  }

  function drawVerdict(verdict) {
    const stance = verdict.stance;
    const line = $("stance");
    clear(line);
    line.appendChild(el("span", "Stance for " + stance.crypto + " exposure: "));
    line.appendChild(el("strong", stance.word + (stance.exposure === null ? "" : " (" + fmt(stance.exposure, 1) + ")"), "state-" + stance.word));
    if (stance.since) line.appendChild(el("span", " since " + stance.since));
    if (stance.caveat) line.appendChild(el("span", " — " + stance.caveat, "muted"));
    const list = $("verdict-signals");
    clear(list);
    for (const s of verdict.signals) {
      const item = el("li");
      const link = el("a", s.label);
      link.href = "#signal-" + s.signal;
      item.appendChild(link);
      item.appendChild(el("span", ": "));
      item.appendChild(el("span", s.state, "state-" + s.state));
      if (s.since) item.appendChild(el("span", " since " + s.since, "muted"));
      list.appendChild(item);
    }
    const gaps = $("missing-inputs");
    clear(gaps);
    for (const g of verdict.gaps) gaps.appendChild(el("li", "Missing: " + g.sentence));
  }

  function drawReading(payload) {
    const meta = payload.meta;
    const latest = payload.latest;
    drawVerdict(latest.verdict);
    $("title").textContent = "comove: " + meta.crypto_name + " vs " + meta.equity_name;
    $("headline").textContent = latest.headline + " (" + latest.first_date + " to " + latest.date + ", " + latest.sessions + " sessions)";
    const list = $("reading-list");
    clear(list);
    for (const w of latest.windows) {
      list.appendChild(el("li", "corr " + w.window + ": " + fmt(w.corr, 3) + " [" + fmt(w.lo, 3) + ", " + fmt(w.hi, 3) + "], beta " + fmt(w.beta, 2) + ", " + w.strength));
    }
    for (const m of latest.momentum) {
      list.appendChild(el("li", m.asset + ": RSI " + fmt(m.rsi, 1) + " " + m.rsi_zone + "; " + m.macd_state));
    }
    for (const note of meta.warnings || []) list.appendChild(el("li", "warning: " + note, "warning"));
  }

  function drawSignals(payload) {
    $("signals-date").textContent = payload.date ? "as of " + payload.date : "";
    const holder = $("checklist");
    clear(holder);
    for (const check of payload.checklist) {
      const block = el("div", null, "signal");
      block.dataset.signal = check.signal;
      block.id = "signal-" + check.signal;
      const head = el("h3");
      head.appendChild(el("span", check.label + ": "));
      head.appendChild(el("span", check.state, "state-" + check.state));
      head.appendChild(el("span", check.since ? " since " + check.since : "", "muted"));
      block.appendChild(head);
      const wrap = el("div", null, "scroll");
      const table = el("table");
      const header = el("tr");
      for (const name of ["condition", "value", "threshold", "", "since"]) header.appendChild(el("th", name));
      table.appendChild(header);
      for (const c of check.conditions) {
        const row = el("tr");
        row.appendChild(el("td", (c.required ? "" : "· ") + c.label));
        row.appendChild(el("td", c.value === null ? "no data" : fmt(c.value, Math.abs(c.value) >= 10 ? 1 : 3)));
        let threshold = c.comparison + (c.threshold === null ? "" : " " + c.threshold);
        if (c.exit !== null && c.threshold !== null && c.exit !== c.threshold) threshold += " (exit " + c.exit + ")";
        row.appendChild(el("td", threshold));
        row.appendChild(el("td", { pass: "✓", fail: "✗", unknown: "?" }[c.status] || c.status, "status-" + c.status));
        row.appendChild(el("td", c.since || "—"));
        table.appendChild(row);
      }
      wrap.appendChild(table);
      block.appendChild(wrap);
      holder.appendChild(block);
    }
  }

  function drawAlerts(payload) {
    const list = $("alerts");
    clear(list);
    if (!payload.alerts.length) list.appendChild(el("li", "No alerts yet.", "muted"));
    for (const a of payload.alerts) {
      const item = el("li");
      item.appendChild(el("span", (a.sent_at || "") + " · " + a.kind + " · " + a.channel + (a.ok ? "" : " (failed)") + ": ", "muted"));
      item.appendChild(el("span", a.subject));
      list.appendChild(item);
    }
  }

  function drawFreshness(payload) {
    const body = $("freshness").querySelector("tbody");
    clear(body);
    for (const f of payload.freshness) {
      const row = el("tr");
      const fetched = (f.last_fetch || "—") + (f.last_fetch_ok === false ? " (failed)" : "");
      for (const text of [f.kind, f.source, f.symbol, f.last || "—", fetched, f.staleness_hours === null ? "—" : f.staleness_hours]) {
        row.appendChild(el("td", text));
      }
      body.appendChild(row);
    }
  }

  async function refresh() {
    const mine = ++generation;
    const q = query();
    $("status").textContent = "Updating…";
    $("status").className = "";
    try {
      const [figures, analysis, signals, alerts, health] = await Promise.all([
        getAnswer("/api/figures?" + q),
        getJSON("/api/analysis?" + q + "&columns="),
        getJSON("/api/signals?" + q),
        getJSON("/api/alerts?limit=10"),
        getJSON("/api/health"),
      ]);
      if (mine !== generation) return; // a newer request superseded this one
      drawReading(analysis);
      drawSignals(signals);
      drawAlerts(alerts);
      drawFreshness(health);
      // A refresh with no new data redraws nothing: twelve charts hold the page for a second.
      if (figures.text !== drawnFigures) {
        await scriptsRun;
        await nextFrame();
        if (mine !== generation) return;
        drawFigures(figures.body);
        drawnFigures = figures.text;
      }
      $("status").textContent = "Updated " + new Date().toLocaleTimeString() + " · windows " + analysis.meta.windows.join(", ");
      document.body.dataset.loaded = String(mine);
    } catch (err) {
      if (mine !== generation) return;
      $("status").textContent = "Could not update: " + err.message;
      $("status").className = "error";
    }
  }

  function schedule() {
    const seconds = Number(document.body.dataset.refreshSeconds) || 60;
    if (timer) clearInterval(timer);
    timer = setInterval(() => {
      if (!document.hidden) refresh();
    }, seconds * 1000);
  }

  // Deferred: the page is parsed, so the pickers exist.
  $("pickers").addEventListener("change", () => refresh());
  $("pickers").addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  refresh();
  schedule();
})();
