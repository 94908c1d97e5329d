// Overview: incidents per day (by category or severity), MTTA/MTTR trend, top root-cause kinds and services.
(function () {
  "use strict";
  var S = window.Sherlog;
  var perDay = document.getElementById("chart-per-day");
  var groupBy = "category";
  var perDayData = null;

  function drawPerDay() {
    if (!perDayData) return;
    S.stackedBars(perDay, {
      title: "Incidents per day by " + perDayData.group_by + ", " + perDayData.total + " in total",
      days: perDayData.days, keys: perDayData.keys, yLabel: "incidents",
      color: function (k, i) { return S.colorFor(perDayData.group_by, k, i); }
    });
    S.dataTable(perDay, [{ key: "day", label: "day" }, { key: perDayData.group_by, label: perDayData.group_by }, { key: "count", label: "incidents" }], perDayData.rows);
  }
  function loadPerDay() {
    perDay.setAttribute("aria-busy", "true");
    S.fetchReport("incidents-per-day", "group_by=" + groupBy).then(function (data) {
      perDayData = data; drawPerDay(); perDay.setAttribute("aria-busy", "false"); perDay.dataset.loaded = groupBy;
    }).catch(function (e) { S.fail(perDay, e); });
  }
  document.querySelectorAll("[data-group-by]").forEach(function (button) {
    button.addEventListener("click", function () {
      groupBy = button.dataset.groupBy;
      document.querySelectorAll("[data-group-by]").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      var csv = perDay.closest(".card").querySelector("a.csv");
      if (csv) csv.href = S.reportUrl("incidents-per-day", "group_by=" + groupBy + "&format=csv");
      loadPerDay();
    });
  });
  S.mount(perDay, drawPerDay);
  loadPerDay();

  var times = document.getElementById("chart-times");
  S.fetchReport("response-times").then(function (data) {
    var x = data.trend.map(function (t) { return t.bucket; });
    var pick = function (m, p) { return data.trend.map(function (t) { return t[m][p]; }); };
    S.mount(times, function () {
      S.lines(times, {
        title: "Minutes to acknowledge and to resolve per " + data.bucket + " (median and p90)", x: x, yLabel: "minutes",
        valueText: function (v) { return v.toFixed(1) + " min"; },
        series: [
          { name: "MTTR p50", color: S.cssVar("--series-1"), values: pick("mttr", "p50"), counts: pick("mttr", "count") },
          { name: "MTTR p90", color: S.cssVar("--series-1"), dash: "5 4", values: pick("mttr", "p90"), counts: pick("mttr", "count") },
          { name: "MTTA p50", color: S.cssVar("--series-2"), values: pick("mtta", "p50"), counts: pick("mtta", "count") },
          { name: "MTTA p90", color: S.cssVar("--series-2"), dash: "5 4", values: pick("mtta", "p90"), counts: pick("mtta", "count") }
        ]
      });
      S.dataTable(times, [{ key: "bucket", label: data.bucket }, { key: "mtta_count", label: "acked" }, { key: "mtta_p50", label: "MTTA p50" },
        { key: "mtta_p90", label: "MTTA p90" }, { key: "mttr_count", label: "resolved" }, { key: "mttr_p50", label: "MTTR p50" }, { key: "mttr_p90", label: "MTTR p90" }], data.rows);
    });
  }).catch(function (e) { S.fail(times, e); });

  var kinds = document.getElementById("chart-kinds");
  var services = document.getElementById("chart-services");
  S.fetchReport("root-causes").then(function (data) {
    var cols = [{ key: "name", label: "name" }, { key: "confirmed", label: "confirmed" }, { key: "suggested", label: "Sherlog, unconfirmed" }];
    S.mount(kinds, function () {
      S.hbars(kinds, { title: "Top root-cause kinds", items: data.kinds, color: S.cssVar("--series-1") });
      S.dataTable(kinds, cols, data.kinds);
    });
    S.mount(services, function () {
      S.hbars(services, { title: "Top root-cause services", items: data.services, color: S.cssVar("--series-3") });
      S.dataTable(services, cols, data.services);
    });
  }).catch(function (e) { S.fail(kinds, e); S.fail(services, e); });
})();
