// Incident list: sortable columns (click or Enter/Space on a header).
(function () {
  "use strict";
  var table = document.getElementById("incident-table");
  if (!table) return;
  var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  headers.forEach(function (th, index) {
    th.tabIndex = 0;
    th.setAttribute("aria-sort", "none");
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > 1; });
      var numeric = th.dataset.sort === "num";
      function value(row) {
        var cell = row.cells[index];
        var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
        if (numeric) { return raw === "" ? Infinity : parseFloat(raw); }
        return raw.toLowerCase();
      }
      rows.sort(function (a, b) { var x = value(a), y = value(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
  });
})();
