// Draws every chart with the inlined Vega-Embed and runs the sample browser. No network access.
(function () {
  "use strict";
  const read = (id) => JSON.parse(document.getElementById(id).textContent);

  // Charts: each failure is shown in place and logged; the page marks itself ready when all settle.
  const charts = read("charts-data");
  const options = { renderer: "svg", actions: { export: true, source: false, compiled: false, editor: false } };
  const drawn = charts.map((c) =>
    vegaEmbed("#" + c.id, c.spec, options).catch((err) => {
      const el = document.getElementById(c.id);
      el.textContent = "This chart could not be drawn: " + err;
      el.className = "error";
      console.error("chart " + c.id + ": " + err);
      throw err;
    })
  );
  Promise.allSettled(drawn).then((results) => {
    const failed = results.filter((r) => r.status === "rejected").length;
    document.body.dataset.ready = failed ? "error" : "true";
  });

  // Sample browser: pick a run, filter to errors or failures, search the texts.
  const runs = read("browser-data");
  const meta = read("browser-meta");
  const runSelect = document.getElementById("run-select");
  const filter = document.getElementById("sample-filter");
  const search = document.getElementById("sample-search");
  const body = document.querySelector("#samples tbody");
  const count = document.getElementById("sample-count");
  if (!runSelect) return;

  runs.forEach((run, i) => {
    const opt = document.createElement("option");
    opt.value = String(i);
    opt.textContent = `${run.task} · ${run.model} · ${run.status} · ${run.run_id}`;
    runSelect.appendChild(opt);
  });

  const failed = (run, s) => {
    if (s.error) return true;
    const main = run.main_metric && s.scores ? s.scores[run.main_metric] : undefined;
    return main !== undefined && main !== null && main <= 0;
  };

  const cell = (tr, text, cls) => {
    const td = document.createElement("td");
    td.textContent = text == null ? "" : text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  };

  function render() {
    body.replaceChildren();
    const run = runs[Number(runSelect.value)];
    if (!run) {
      count.textContent = "No runs in the registry yet.";
      return;
    }
    const mode = filter.value;
    const needle = search.value.trim().toLowerCase();
    let shown = 0;
    for (const s of run.samples) {
      if (mode === "errors" && !s.error) continue;
      if (mode === "failures" && !failed(run, s)) continue;
      const scores = Object.entries(s.scores || {}).map(([k, v]) => `${k}=${v}`).join("\n");
      if (needle && ![s.id, s.prompt, s.output, s.error, scores].join("\n").toLowerCase().includes(needle)) continue;
      const tr = document.createElement("tr");
      tr.dataset.sample = s.id;
      if (failed(run, s)) tr.className = "failed";
      cell(tr, s.id);
      cell(tr, s.prompt, "text");
      cell(tr, s.output, "text");
      cell(tr, scores, "text");
      cell(tr, s.error, "text err");
      body.appendChild(tr);
      shown += 1;
    }
    count.textContent =
      `${shown} of ${run.samples.length} embedded samples shown (the run has ${run.n_samples}, ${run.n_errors} with an error). ` +
      `The page embeds ${meta.shown_runs} of ${meta.total_runs} runs and ${meta.shown_samples} of ${meta.total_samples} samples.`;
  }

  [runSelect, filter].forEach((el) => el.addEventListener("change", render));
  search.addEventListener("input", render);
  render();
})();
