// Answer quality: hit rate over time, calibration, feedback counts, LLM cost and latency.
(function () {
  "use strict";
  var S = window.Sherlog;
  var pct = d3.format(".0%");

  var hits = document.getElementById("chart-hits");
  S.fetchReport("hit-rate").then(function (data) {
    var x = data.trend.map(function (t) { return t.bucket; });
    var n = data.trend.map(function (t) { return t.cases; });
    S.mount(hits, function () {
      S.lines(hits, {
        title: "Top-1 and top-3 hit rate per " + data.bucket, x: x, yMax: 1, yFormat: pct, yLabel: "hit rate",
        emptyText: "No confirmed cause in this range", valueText: pct,
        series: [
          { name: "top-1", color: S.cssVar("--series-1"), values: data.trend.map(function (t) { return t.top1; }), counts: n },
          { name: "top-3", color: S.cssVar("--series-3"), values: data.trend.map(function (t) { return t.top3; }), counts: n }
        ]
      });
      S.dataTable(hits, [{ key: "bucket", label: data.bucket }, { key: "cases", label: "judged" }, { key: "top1_hits", label: "top-1 hits" },
        { key: "top3_hits", label: "top-3 hits" }, { key: "top1", label: "top-1" }, { key: "top3", label: "top-3" }], data.trend);
    });
  }).catch(function (e) { S.fail(hits, e); });

  var cal = document.getElementById("chart-calibration");
  S.fetchReport("calibration").then(function (data) {
    S.mount(cal, function () {
      S.calibration(cal, { title: "Calibration of the first answer's confidence, " + data.cases + " judged answers", bins: data.bins });
      S.dataTable(cal, [{ key: "low", label: "from" }, { key: "high", label: "to" }, { key: "count", label: "answers" },
        { key: "mean_confidence", label: "mean confidence" }, { key: "accuracy", label: "share right" }], data.bins);
    });
  }).catch(function (e) { S.fail(cal, e); });

  var fb = document.getElementById("chart-feedback");
  S.fetchReport("feedback").then(function (data) {
    var items = [
      { name: "up", value: data.votes.up, color: S.cssVar("--ok") },
      { name: "down", value: data.votes.down, color: S.cssVar("--bad") },
      { name: "fixed", value: data.votes.fixed, color: S.cssVar("--series-1") }
    ];
    S.mount(fb, function () {
      items.forEach(function (it, i) { it.color = S.cssVar(["--ok", "--bad", "--series-1"][i]); });
      S.bars(fb, { title: "Feedback votes, " + data.total + " in total", items: items, yLabel: "votes", yFormat: d3.format("d") });
      S.dataTable(fb, [{ key: "dimension", label: "by" }, { key: "name", label: "name" }, { key: "count", label: "count" }], data.rows);
    });
  }).catch(function (e) { S.fail(fb, e); });

  var llm = document.getElementById("chart-llm");
  S.fetchReport("llm").then(function (data) {
    S.mount(llm, function () {
      S.barsAndLine(llm, {
        title: "LLM cost and median latency per " + data.bucket + ", " + data.calls + " calls",
        x: data.trend.map(function (t) { return t.bucket; }),
        bars: data.trend.map(function (t) { return t.cost_usd; }), line: data.trend.map(function (t) { return t.latency_p50_ms; }),
        barLabel: "cost (USD)", lineLabel: "latency p50 (ms)", barFormat: d3.format("$.4~f"),
        barText: function (v) { return "$" + v.toFixed(4); }, lineText: function (v) { return Math.round(v) + " ms"; }
      });
      S.dataTable(llm, [{ key: "bucket", label: data.bucket }, { key: "calls", label: "calls" }, { key: "cost_usd", label: "cost USD" },
        { key: "latency_p50_ms", label: "latency p50 ms" }, { key: "latency_p95_ms", label: "latency p95 ms" }], data.trend);
    });
  }).catch(function (e) { S.fail(llm, e); });
})();
