// LayerLens report: the layer table (search, sort, pages) and image downloads. No network, no libraries but Plotly.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("layer-data").textContent);
  const cols = data.columns, rows = data.rows, PAGE = 100;
  const table = document.getElementById("layer-table"), search = document.getElementById("layer-search");
  const status = document.getElementById("layer-status"), more = document.getElementById("layer-more");
  let shown = rows.slice(), sortCol = -1, sortDir = 1, limit = PAGE;
  const text = rows.map(r => r.join(" ").toLowerCase());

  function cell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en") : v.toPrecision(4);
    return String(v);
  }
  function header() {
    const tr = document.createElement("tr");
    cols.forEach((c, i) => {
      const th = document.createElement("th");
      th.textContent = c + (i === sortCol ? (sortDir > 0 ? " ▲" : " ▼") : "");
      th.title = "Sort by " + c;
      th.addEventListener("click", () => { sortDir = i === sortCol ? -sortDir : 1; sortCol = i; apply(); });
      tr.appendChild(th);
    });
    return tr;
  }
  function render() {
    table.replaceChildren();
    const head = document.createElement("thead"); head.appendChild(header()); table.appendChild(head);
    const body = document.createElement("tbody");
    shown.slice(0, limit).forEach(r => {
      const tr = document.createElement("tr");
      r.forEach(v => { const td = document.createElement("td"); td.textContent = cell(v); tr.appendChild(td); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    status.textContent = `${Math.min(limit, shown.length).toLocaleString("en")} of ${shown.length.toLocaleString("en")} matching layers (${rows.length.toLocaleString("en")} in all)`;
    more.hidden = shown.length <= limit;
  }
  function apply() {
    const q = search.value.trim().toLowerCase();
    shown = rows.filter((r, i) => !q || text[i].includes(q));
    if (sortCol >= 0) {
      shown.sort((a, b) => {
        const x = a[sortCol], y = b[sortCol];
        if (x === y) return 0;
        if (x === null) return 1;
        if (y === null) return -1;
        return (typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y))) * sortDir;
      });
    }
    limit = PAGE;
    render();
  }
  search.addEventListener("input", apply);
  more.addEventListener("click", () => { limit += PAGE * 5; render(); });
  apply();

  document.querySelectorAll("button[data-download]").forEach(b => b.addEventListener("click", () => {
    const plot = document.getElementById(b.dataset.plot).querySelector(".js-plotly-plot");
    Plotly.downloadImage(plot, {format: b.dataset.download, filename: b.dataset.name, width: 1400, height: plot.clientHeight || 500, scale: b.dataset.download === "png" ? 2 : 1});
  }));
})();
