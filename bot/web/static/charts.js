// Sherlog charts: small D3 helpers shared by the pages. Every chart is an <svg role="group"> with a label,
// marks (class "mark") reachable by keyboard (Tab into the chart, arrow keys between marks, a tooltip on
// focus and hover), a legend, and a "Show data" table for screen readers and copy-paste.
(function () {
  "use strict";
  var S = (window.Sherlog = window.Sherlog || {});
  var HEIGHT = 260;
  var MARGIN = { top: 14, right: 16, bottom: 36, left: 48 };
  var CATEGORY_COLORS = {
    cpu: "#4e79a7", memory: "#f28e2b", storage: "#76b7b2", database: "#e15759", network: "#59a14f",
    dns: "#edc948", tls: "#b07aa1", deploy: "#ff9da7", dependency: "#9c755f", capacity: "#86bcb6",
    application: "#d37295", security: "#8cd17d", hardware: "#bab0ac", unknown: "#8f8f8f"
  };

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  S.cssVar = cssVar;
  S.colorFor = function (groupBy, key, index) {
    if (groupBy === "severity") return cssVar("--sev-" + key) || "#888";
    if (groupBy === "category" && CATEGORY_COLORS[key]) return CATEGORY_COLORS[key];
    return d3.schemeTableau10[index % 10];
  };

  // the page's filters (query string) plus report-specific parameters
  S.reportUrl = function (name, extra) {
    var params = new URLSearchParams(window.location.search);
    params.delete("q"); params.delete("status");
    new URLSearchParams(extra || "").forEach(function (v, k) { params.set(k, v); });
    var qs = params.toString();
    return "/api/v1/reports/" + name + (qs ? "?" + qs : "");
  };
  S.fetchReport = function (name, extra) {
    return fetch(S.reportUrl(name, extra), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) return r.json().catch(function () { return {}; }).then(function (b) { throw new Error(b.detail || ("HTTP " + r.status)); });
        return r.json();
      });
  };

  var tooltip = null;
  function showTip(text, x, y) {
    tooltip = tooltip || document.getElementById("tooltip");
    if (!tooltip) return;
    tooltip.textContent = text; tooltip.hidden = false;
    var w = tooltip.offsetWidth;
    tooltip.style.left = Math.max(4, Math.min(window.innerWidth - w - 4, x + 12)) + "px";
    tooltip.style.top = Math.max(4, y - 34) + "px";
  }
  function hideTip() { if (tooltip) tooltip.hidden = true; }

  // marks: a d3 selection; label(d) gives the accessible text
  function interactive(svgNode, marks, label) {
    marks.attr("class", function () { return (this.getAttribute("class") || "") + " mark"; })
      .attr("tabindex", function (_d, i) { return i === 0 ? 0 : -1; })
      .attr("role", "img")
      .attr("aria-label", label)
      .on("mouseenter", function (event, d) { showTip(label(d), event.clientX, event.clientY); })
      .on("mousemove", function (event, d) { showTip(label(d), event.clientX, event.clientY); })
      .on("mouseleave", hideTip)
      .on("focus", function (_event, d) { var b = this.getBoundingClientRect(); showTip(label(d), b.x + b.width / 2, b.y); })
      .on("blur", hideTip);
    var nodes = marks.nodes();
    marks.on("keydown", function (event) {
      var i = nodes.indexOf(this), j = i;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") j = Math.min(nodes.length - 1, i + 1);
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") j = Math.max(0, i - 1);
      else if (event.key === "Home") j = 0;
      else if (event.key === "End") j = nodes.length - 1;
      else if (event.key === "Escape") { hideTip(); return; }
      else return;
      event.preventDefault();
      nodes[i].setAttribute("tabindex", -1); nodes[j].setAttribute("tabindex", 0); nodes[j].focus();
    });
  }

  function frame(el, title, height) {
    el.innerHTML = "";
    var width = Math.max(280, el.clientWidth || 600);
    var h = height || HEIGHT;
    var svg = d3.select(el).append("svg").attr("viewBox", "0 0 " + width + " " + h)
      .attr("role", "group").attr("aria-label", title);
    svg.append("title").text(title);
    return { svg: svg, width: width, height: h, iw: width - MARGIN.left - MARGIN.right, ih: h - MARGIN.top - MARGIN.bottom,
      g: svg.append("g").attr("transform", "translate(" + MARGIN.left + "," + MARGIN.top + ")") };
  }

  function empty(f, text) {
    f.svg.append("text").attr("class", "empty").attr("x", f.width / 2).attr("y", f.height / 2)
      .attr("text-anchor", "middle").text(text || "No data in this range");
  }

  function yAxis(f, y, label, fmt) {
    f.g.append("g").attr("class", "gridline").call(d3.axisLeft(y).ticks(5).tickSize(-f.iw).tickFormat(""));
    f.g.append("g").attr("class", "axis").call(d3.axisLeft(y).ticks(5).tickFormat(fmt || null));
    if (label) f.svg.append("text").attr("x", 4).attr("y", 10).text(label);
  }

  function xAxisBand(f, x, values) {
    var every = Math.ceil(values.length / Math.max(2, Math.floor(f.iw / 64)));
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")")
      .call(d3.axisBottom(x).tickValues(values.filter(function (_v, i) { return i % every === 0; }))
        .tickFormat(function (d) { return String(d).slice(5); }));
  }

  function legend(el, items) {
    var ul = d3.select(el).append("ul").attr("class", "legend").attr("aria-label", "Legend");
    items.forEach(function (it) {
      var li = ul.append("li");
      li.append("span").attr("class", "swatch").style("background", it.color).style("opacity", it.opacity || 1);
      li.append("span").text(it.name);
    });
  }

  S.dataTable = function (el, columns, rows) {
    var details = d3.select(el).append("details").attr("class", "data-table");
    details.append("summary").text("Show data");
    var wrap = details.append("div").attr("class", "table-wrap");
    var table = wrap.append("table");
    table.append("thead").append("tr").selectAll("th").data(columns).join("th").attr("scope", "col").text(function (c) { return c.label; });
    table.append("tbody").selectAll("tr").data(rows).join("tr").selectAll("td")
      .data(function (r) { return columns.map(function (c) { var v = r[c.key]; return v === null || v === undefined ? "—" : v; }); })
      .join("td").text(function (v) { return v; });
  };

  // stacked bars per day: days [{day, counts: {key: n}}], keys [..]
  S.stackedBars = function (el, opts) {
    var f = frame(el, opts.title);
    var total = d3.sum(opts.days, function (d) { return d.total; });
    if (!total) { empty(f); return; }
    var stack = d3.stack().keys(opts.keys).value(function (d, k) { return d.counts[k] || 0; })(opts.days);
    var x = d3.scaleBand().domain(opts.days.map(function (d) { return d.day; })).range([0, f.iw]).padding(0.15);
    var y = d3.scaleLinear().domain([0, d3.max(opts.days, function (d) { return d.total; })]).nice().range([f.ih, 0]);
    yAxis(f, y, opts.yLabel, d3.format("d"));
    xAxisBand(f, x, x.domain());
    var cells = [];
    stack.forEach(function (layer, li) {
      layer.forEach(function (seg) {
        var v = seg[1] - seg[0];
        if (v > 0) cells.push({ key: layer.key, day: seg.data.day, y0: seg[0], y1: seg[1], value: v, color: opts.color(layer.key, li) });
      });
    });
    var marks = f.g.append("g").selectAll("rect").data(cells).join("rect")
      .attr("x", function (d) { return x(d.day); }).attr("width", x.bandwidth())
      .attr("y", function (d) { return y(d.y1); }).attr("height", function (d) { return Math.max(1, y(d.y0) - y(d.y1)); })
      .attr("fill", function (d) { return d.color; })
      .attr("data-key", function (d) { return d.key; }).attr("data-day", function (d) { return d.day; })
      .attr("data-value", function (d) { return d.value; });
    interactive(f.svg.node(), marks, function (d) { return d.day + ": " + d.value + " " + d.key + " incident" + (d.value === 1 ? "" : "s"); });
    legend(el, opts.keys.map(function (k, i) { return { name: k, color: opts.color(k, i) }; }));
  };

  // lines over buckets: series [{name, color, dash, values: [number|null]}], x: [bucket]
  S.lines = function (el, opts) {
    var f = frame(el, opts.title);
    var all = [];
    opts.series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v !== undefined) all.push(v); }); });
    if (!all.length) { empty(f, opts.emptyText); return; }
    var x = d3.scalePoint().domain(opts.x).range([0, f.iw]).padding(0.5);
    var y = d3.scaleLinear().domain([0, opts.yMax || d3.max(all) || 1]).nice().range([f.ih, 0]);
    yAxis(f, y, opts.yLabel, opts.yFormat);
    xAxisBand(f, x, opts.x);
    var points = [];
    opts.series.forEach(function (s) {
      var line = d3.line().defined(function (v) { return v !== null && v !== undefined; })
        .x(function (_v, i) { return x(opts.x[i]); }).y(function (v) { return y(v); });
      f.g.append("path").datum(s.values).attr("fill", "none").attr("stroke", s.color).attr("stroke-width", 2)
        .attr("stroke-dasharray", s.dash || null).attr("d", line).attr("aria-hidden", "true");
      s.values.forEach(function (v, i) { if (v !== null && v !== undefined) points.push({ series: s.name, bucket: opts.x[i], value: v, color: s.color, n: s.counts ? s.counts[i] : null }); });
    });
    var marks = f.g.append("g").selectAll("circle").data(points).join("circle")
      .attr("cx", function (d) { return x(d.bucket); }).attr("cy", function (d) { return y(d.value); }).attr("r", 4)
      .attr("fill", function (d) { return d.color; }).attr("data-series", function (d) { return d.series; });
    interactive(f.svg.node(), marks, function (d) {
      return d.series + " " + d.bucket + ": " + (opts.valueText ? opts.valueText(d.value) : d.value) + (d.n !== null ? " (" + d.n + " incidents)" : "");
    });
    legend(el, opts.series.map(function (s) { return { name: s.name + (s.dash ? " (dashed)" : ""), color: s.color }; }));
  };

  // horizontal stacked bars: items [{name, confirmed, suggested}]
  S.hbars = function (el, opts) {
    var rows = opts.items;
    var f = frame(el, opts.title, Math.max(140, rows.length * 24 + MARGIN.top + MARGIN.bottom));
    if (!rows.length) { empty(f); return; }
    var left = Math.min(190, 8 + 6.4 * d3.max(rows, function (r) { return r.name.length; }));
    var iw = f.width - left - MARGIN.right;
    f.g.attr("transform", "translate(" + left + "," + MARGIN.top + ")");
    var y = d3.scaleBand().domain(rows.map(function (r) { return r.name; })).range([0, f.ih]).padding(0.2);
    var x = d3.scaleLinear().domain([0, d3.max(rows, function (r) { return r.confirmed + r.suggested; })]).nice().range([0, iw]);
    f.g.append("g").attr("class", "gridline").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x).ticks(5).tickSize(-f.ih).tickFormat(""));
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x).ticks(5).tickFormat(d3.format("d")));
    f.g.append("g").attr("class", "axis").call(d3.axisLeft(y));
    var color = opts.color || cssVar("--series-1");
    var segs = [];
    rows.forEach(function (r) {
      if (r.confirmed) segs.push({ name: r.name, part: "confirmed", x0: 0, x1: r.confirmed, value: r.confirmed });
      if (r.suggested) segs.push({ name: r.name, part: "suggested", x0: r.confirmed, x1: r.confirmed + r.suggested, value: r.suggested });
    });
    var marks = f.g.append("g").selectAll("rect").data(segs).join("rect")
      .attr("y", function (d) { return y(d.name); }).attr("height", y.bandwidth())
      .attr("x", function (d) { return x(d.x0); }).attr("width", function (d) { return Math.max(1, x(d.x1) - x(d.x0)); })
      .attr("fill", color).attr("fill-opacity", function (d) { return d.part === "confirmed" ? 1 : 0.35; })
      .attr("data-part", function (d) { return d.part; });
    interactive(f.svg.node(), marks, function (d) { return d.name + ": " + d.value + " " + d.part; });
    legend(el, [{ name: "confirmed", color: color }, { name: "Sherlog's answer, unconfirmed", color: color, opacity: 0.35 }]);
  };

  // simple vertical bars: items [{name, value, color}]
  S.bars = function (el, opts) {
    var f = frame(el, opts.title);
    if (!d3.sum(opts.items, function (d) { return d.value; })) { empty(f); return; }
    var x = d3.scaleBand().domain(opts.items.map(function (d) { return d.name; })).range([0, f.iw]).padding(0.3);
    var y = d3.scaleLinear().domain([0, d3.max(opts.items, function (d) { return d.value; })]).nice().range([f.ih, 0]);
    yAxis(f, y, opts.yLabel, opts.yFormat);
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x));
    var marks = f.g.append("g").selectAll("rect").data(opts.items.filter(function (d) { return d.value > 0; })).join("rect")
      .attr("x", function (d) { return x(d.name); }).attr("width", x.bandwidth())
      .attr("y", function (d) { return y(d.value); }).attr("height", function (d) { return f.ih - y(d.value); })
      .attr("fill", function (d) { return d.color; });
    interactive(f.svg.node(), marks, function (d) { return d.name + ": " + (opts.valueText ? opts.valueText(d.value) : d.value); });
  };

  // calibration: bins [{mean_confidence, accuracy, count, low, high}]
  S.calibration = function (el, opts) {
    var f = frame(el, opts.title);
    var bins = opts.bins.filter(function (b) { return b.count > 0; });
    var side = Math.min(f.iw, f.ih);
    var x = d3.scaleLinear().domain([0, 1]).range([0, side]);
    var y = d3.scaleLinear().domain([0, 1]).range([f.ih, f.ih - side]);
    f.g.append("g").attr("class", "gridline").call(d3.axisLeft(y).ticks(5).tickSize(-side).tickFormat(""));
    f.g.append("g").attr("class", "axis").call(d3.axisLeft(y).ticks(5).tickFormat(d3.format(".0%")));
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x).ticks(5).tickFormat(d3.format(".0%")));
    f.g.append("line").attr("class", "diag").attr("x1", x(0)).attr("y1", y(0)).attr("x2", x(1)).attr("y2", y(1));
    f.svg.append("text").attr("x", MARGIN.left + side / 2).attr("y", f.height - 4).attr("text-anchor", "middle").text("confidence of first answer");
    f.svg.append("text").attr("x", 4).attr("y", 10).text("share right");
    if (!bins.length) { empty(f, "No confirmed cause in this range"); return; }
    var r = d3.scaleSqrt().domain([0, d3.max(bins, function (b) { return b.count; })]).range([3, 13]);
    var marks = f.g.append("g").selectAll("circle").data(bins).join("circle")
      .attr("cx", function (b) { return x(b.mean_confidence); }).attr("cy", function (b) { return y(b.accuracy); })
      .attr("r", function (b) { return r(b.count); }).attr("fill", cssVar("--series-1")).attr("fill-opacity", 0.75)
      .attr("stroke", cssVar("--surface"));
    interactive(f.svg.node(), marks, function (b) {
      return "confidence " + Math.round(b.low * 100) + "–" + Math.round(b.high * 100) + "%: mean " + d3.format(".0%")(b.mean_confidence) +
        ", right " + d3.format(".0%")(b.accuracy) + " of " + b.count;
    });
  };

  // bars with a line on a second axis: x buckets, bars [number], line [number|null]
  S.barsAndLine = function (el, opts) {
    var f = frame(el, opts.title);
    if (!d3.sum(opts.bars) && !opts.line.some(function (v) { return v !== null; })) { empty(f); return; }
    var x = d3.scaleBand().domain(opts.x).range([0, f.iw]).padding(0.2);
    var y = d3.scaleLinear().domain([0, d3.max(opts.bars) || 1]).nice().range([f.ih, 0]);
    var y2 = d3.scaleLinear().domain([0, d3.max(opts.line) || 1]).nice().range([f.ih, 0]);
    yAxis(f, y, opts.barLabel, opts.barFormat);
    f.g.append("g").attr("class", "axis").attr("transform", "translate(" + f.iw + ",0)").call(d3.axisRight(y2).ticks(5));
    f.svg.append("text").attr("x", f.width - 4).attr("y", 10).attr("text-anchor", "end").text(opts.lineLabel);
    xAxisBand(f, x, opts.x);
    var items = opts.x.map(function (b, i) { return { bucket: b, value: opts.bars[i], line: opts.line[i] }; });
    var bars = f.g.append("g").selectAll("rect").data(items.filter(function (d) { return d.value > 0; })).join("rect")
      .attr("x", function (d) { return x(d.bucket); }).attr("width", x.bandwidth())
      .attr("y", function (d) { return y(d.value); }).attr("height", function (d) { return f.ih - y(d.value); })
      .attr("fill", cssVar("--series-1")).attr("fill-opacity", 0.8);
    var line = d3.line().defined(function (d) { return d.line !== null; })
      .x(function (d) { return x(d.bucket) + x.bandwidth() / 2; }).y(function (d) { return y2(d.line); });
    f.g.append("path").datum(items).attr("fill", "none").attr("stroke", cssVar("--series-2")).attr("stroke-width", 2).attr("d", line).attr("aria-hidden", "true");
    var dots = f.g.append("g").selectAll("circle").data(items.filter(function (d) { return d.line !== null; })).join("circle")
      .attr("cx", function (d) { return x(d.bucket) + x.bandwidth() / 2; }).attr("cy", function (d) { return y2(d.line); }).attr("r", 3.5)
      .attr("fill", cssVar("--series-2"));
    interactive(f.svg.node(), bars, function (d) { return d.bucket + ": " + opts.barText(d.value); });
    interactive(f.svg.node(), dots, function (d) { return d.bucket + ": " + opts.lineText(d.line); });
    legend(el, [{ name: opts.barLabel, color: cssVar("--series-1") }, { name: opts.lineLabel, color: cssVar("--series-2") }]);
  };

  // grouped bars: groups [{name, values: {key: v}}], keys [..]
  S.groupedBars = function (el, opts) {
    var f = frame(el, opts.title);
    if (!opts.groups.length || !opts.keys.length) { empty(f, "No rate recorded"); return; }
    var x0 = d3.scaleBand().domain(opts.groups.map(function (g) { return g.name; })).range([0, f.iw])
      .padding(Math.min(0.7, Math.max(0.2, 1 - (opts.groups.length * opts.keys.length * 70) / f.iw)));
    var x1 = d3.scaleBand().domain(opts.keys).range([0, x0.bandwidth()]).padding(0.08);
    var y = d3.scaleLinear().domain([0, 1]).range([f.ih, 0]);
    yAxis(f, y, null, d3.format(".0%"));
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x0));
    var cells = [];
    opts.groups.forEach(function (g) { opts.keys.forEach(function (k, i) { var v = g.values[k]; if (typeof v === "number") cells.push({ group: g.name, key: k, value: v, color: d3.schemeTableau10[i % 10] }); }); });
    var marks = f.g.append("g").selectAll("rect").data(cells).join("rect")
      .attr("x", function (d) { return x0(d.group) + x1(d.key); }).attr("width", x1.bandwidth())
      .attr("y", function (d) { return Math.min(y(d.value), f.ih - 2); }).attr("height", function (d) { return Math.max(2, f.ih - y(d.value)); })
      .attr("fill", function (d) { return d.color; });
    interactive(f.svg.node(), marks, function (d) { return d.group + " " + d.key.replace(/_/g, " ") + ": " + d3.format(".1%")(d.value); });
    legend(el, opts.keys.map(function (k, i) { return { name: k, color: d3.schemeTableau10[i % 10] }; }));
  };

  // events on a time axis, one lane per kind: events [{ts, kind, title}]
  S.timeline = function (el, opts) {
    var kinds = opts.kinds.filter(function (k) { return opts.events.some(function (e) { return e.kind === k; }); });
    var f = frame(el, opts.title, Math.max(120, kinds.length * 26 + MARGIN.top + MARGIN.bottom));
    if (!opts.events.length) { empty(f); return; }
    var left = 78;
    f.g.attr("transform", "translate(" + left + "," + MARGIN.top + ")");
    var iw = f.width - left - MARGIN.right;
    var times = opts.events.map(function (e) { return new Date(e.ts); });
    var ext = d3.extent(times);
    if (+ext[0] === +ext[1]) ext = [new Date(+ext[0] - 60000), new Date(+ext[1] + 60000)];
    var x = d3.scaleUtc().domain(ext).range([0, iw]).nice();
    var y = d3.scaleBand().domain(kinds).range([0, f.ih]).padding(0.3);
    f.g.append("g").attr("class", "axis").attr("transform", "translate(0," + f.ih + ")").call(d3.axisBottom(x).ticks(Math.max(2, Math.floor(iw / 90))));
    f.g.append("g").attr("class", "axis").call(d3.axisLeft(y));
    var palette = { alert: "--sev-critical", signal: "--series-4", analysis: "--series-1", chat: "--series-3", ack: "--warn", feedback: "--warn", resolved: "--ok", opened: "--muted" };
    var marks = f.g.append("g").selectAll("circle").data(opts.events).join("circle")
      .attr("cx", function (e) { return x(new Date(e.ts)); }).attr("cy", function (e) { return y(e.kind) + y.bandwidth() / 2; })
      .attr("r", 5).attr("fill", function (e) { return cssVar(palette[e.kind] || "--muted"); });
    interactive(f.svg.node(), marks, function (e) { return e.ts.slice(0, 19).replace("T", " ") + " UTC " + e.kind + ": " + e.title; });
  };

  // draw now, and again when the container is resized or the theme changes
  S.mount = function (el, draw) {
    draw();
    var last = el.clientWidth, timer = null;
    if (window.ResizeObserver) {
      new ResizeObserver(function () {
        if (Math.abs(el.clientWidth - last) < 8) return;
        last = el.clientWidth; clearTimeout(timer); timer = setTimeout(draw, 120);
      }).observe(el);
    }
    document.addEventListener("sherlog:theme", draw);
  };
  S.fail = function (el, error) {
    el.innerHTML = "";
    d3.select(el).append("p").attr("class", "error").attr("role", "alert").text("Could not load this chart: " + error.message);
  };
})();
