// The runs dashboard: plain JavaScript against the service's JSON API (no build step).
"use strict";

const $ = (selector) => document.querySelector(selector);
let apiKey = sessionStorage.getItem("shoal-key") || "";

async function api(path, options = {}) {
  const headers = { "Authorization": `Bearer ${apiKey}`, ...(options.headers || {}) };
  const response = await fetch(path, { ...options, headers });
  const body = response.headers.get("content-type")?.includes("json")
    ? await response.json() : await response.text();
  if (!response.ok) {
    const error = body.error || { message: String(body) };
    throw new Error(`${error.message}${error.fix ? ` (fix: ${error.fix})` : ""}`);
  }
  return body;
}

function say(text, isError = false) {
  const message = $("#message");
  message.textContent = text;
  message.style.color = isError ? "#ffb3b3" : "white";
}

function cell(row, text) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "-" : String(text);
  return td;
}

function plot(runs) {
  // Cost (bars) and seconds (line) of the recent runs, oldest left.
  const points = runs.slice().reverse();
  const width = 480, height = 120, pad = 20;
  const maxSeconds = Math.max(...points.map((r) => r.seconds), 0.001);
  const maxCost = Math.max(...points.map((r) => r.cost_usd), 1e-9);
  const step = points.length > 1 ? (width - 2 * pad) / (points.length - 1) : 0;
  const x = (i) => pad + i * step;
  const line = points.map((r, i) =>
    `${x(i).toFixed(1)},${(height - pad - (r.seconds / maxSeconds) * (height - 2 * pad)).toFixed(1)}`);
  const bars = points.map((r, i) => {
    const h = (r.cost_usd / maxCost) * (height - 2 * pad);
    return `<rect x="${(x(i) - 3).toFixed(1)}" y="${(height - pad - h).toFixed(1)}" width="6" ` +
      `height="${h.toFixed(1)}" fill="#9db7dd"><title>${r.cost_usd} USD</title></rect>`;
  });
  $("#plot").innerHTML =
    `<svg width="${width}" height="${height}" role="img">` + bars.join("") +
    `<polyline points="${line.join(" ")}" fill="none" stroke="#1f3b63" stroke-width="2"/>` +
    `<text x="${pad}" y="12" font-size="10">seconds (line, max ${maxSeconds.toFixed(2)}) · ` +
    `cost (bars, max ${maxCost.toExponential(2)} USD)</text></svg>`;
}

async function showRun(id) {
  const run = await api(`/v1/runs/${id}`);
  $("#detail").hidden = false;
  $("#detail-id").textContent = `${run.id.slice(0, 8)} · ${run.graph} · ${run.status}`;
  const body = $("#nodes tbody");
  body.replaceChildren();
  for (const node of run.nodes) {
    const row = body.insertRow();
    [node.node, node.calls, node.tokens, node.model_seconds, node.cost_usd]
      .forEach((v) => cell(row, v));
  }
  const graph = run.graph.startsWith("agent:") ? null : run.graph;
  $("#diagram").innerHTML = graph ? await api(`/v1/graphs/${graph}/diagram.svg`) : "";
}

async function loadRuns() {
  const runs = await api("/v1/runs?limit=30");
  const body = $("#runs tbody");
  body.replaceChildren();
  for (const run of runs) {
    const row = body.insertRow();
    row.dataset.run = run.id;
    row.className = `status-${run.status}`;
    [run.id.slice(0, 8), run.graph, run.status, run.seconds, run.tokens, run.cost_usd,
      new Date(run.started_at * 1000).toLocaleTimeString()].forEach((v) => cell(row, v));
    row.addEventListener("click", () => showRun(run.id).catch((e) => say(e.message, true)));
  }
  plot(runs);
}

async function decide(doc, action, fix) {
  const result = await api(`/v1/reviews/${doc}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ action, fix }),
  });
  say(`${result.id}: ${result.status}`);
  await refresh();
}

async function loadReviews() {
  const typing = document.activeElement;
  if (typing?.tagName === "INPUT" && $("#reviews").contains(typing)) return; // a fix in progress
  const documents = await api("/v1/reviews");
  const body = $("#reviews tbody");
  body.replaceChildren();
  for (const doc of documents) {
    const row = body.insertRow();
    row.dataset.doc = doc.id;
    cell(row, doc.id);
    cell(row, doc.file);
    const inputs = {};
    for (const field of ["vendor", "date", "currency", "total"]) {
      const input = document.createElement("input");
      input.name = field;
      input.value = doc[field] ?? "";
      inputs[field] = input;
      row.insertCell().append(input);
    }
    cell(row, doc.problems);
    const buttons = row.insertCell();
    for (const action of ["approve", "reject"]) {
      const button = document.createElement("button");
      button.textContent = action;
      button.className = action;
      button.addEventListener("click", () => {
        const fix = {};
        for (const [field, input] of Object.entries(inputs)) {
          if (action === "approve" && input.value !== String(doc[field] ?? "")) {
            fix[field] = input.value;
          }
        }
        decide(doc.id, action, fix).catch((e) => say(e.message, true));
      });
      buttons.append(button);
    }
  }
}

async function refresh() {
  await Promise.all([loadRuns(), loadReviews()]);
}

$("#login").addEventListener("submit", (event) => {
  event.preventDefault();
  apiKey = $("#key").value;
  sessionStorage.setItem("shoal-key", apiKey);
  refresh().then(() => say("connected")).catch((e) => say(e.message, true));
});

if (apiKey) refresh().catch((e) => say(e.message, true));
setInterval(() => { if (apiKey) refresh().catch(() => {}); }, 5000);
