// Game days: every rate (0..1) each run recorded, grouped per run.
(function () {
  "use strict";
  var S = window.Sherlog;
  var el = document.getElementById("chart-gameday");
  if (!el) return;
  S.fetchReport("gameday").then(function (data) {
    var groups = data.runs.map(function (r) { return { name: r.name, values: r.figures }; });
    S.mount(el, function () {
      S.groupedBars(el, { title: "Game-day rates per run", groups: groups, keys: data.rate_fields });
      S.dataTable(el, [{ key: "run", label: "run" }].concat(data.rate_fields.map(function (k) { return { key: k, label: k }; })), data.rows);
    });
  }).catch(function (e) { S.fail(el, e); });
})();
