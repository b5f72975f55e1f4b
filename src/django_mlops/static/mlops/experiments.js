// The compare page's charts: bar per metric, parallel coordinates, scatter, step curves.
// The numbers come embedded in the page (#chart-data); curves are fetched per metric from
// the server, already downsampled. Plotly gives hover values, zoom and legend toggles.
// How long the first drawing took is kept in window.mlopsChartMs (the browser benchmark).
(function () {
  "use strict";
  var script = document.currentScript;
  var dataNode = document.getElementById("chart-data");
  if (!dataNode || !window.Plotly) { return; }
  var data = JSON.parse(dataNode.textContent);
  var runs = data.runs;
  var columns = data.columns;
  var labels = runs.map(function (r) { return r.label; });
  var config = { responsive: true, displaylogo: false };
  var layoutBase = { margin: { t: 20, r: 20, b: 60, l: 60 }, height: 340, hovermode: "closest" };

  function byKey(key) {
    return columns.filter(function (c) { return c.key === key; })[0];
  }
  function fill(select, options, chosen) {
    if (!select) { return; }
    select.innerHTML = "";
    options.forEach(function (c) {
      var o = document.createElement("option");
      o.value = c.key;
      o.textContent = c.kind + ": " + c.label;
      if (c.key === chosen) { o.selected = true; }
      select.appendChild(o);
    });
  }
  function layout(extra) {
    return Object.assign({}, layoutBase, extra);
  }
  // Per chart, milliseconds from the start of the first drawing (the benchmark reads them).
  var started = performance.now();
  window.mlopsChartTimes = {};
  function done(id) {
    window.mlopsChartTimes[id] = performance.now() - started;
    document.getElementById(id).setAttribute("data-rendered", "1");
  }

  var metrics = columns.filter(function (c) { return c.kind === "metric" && c.numeric; });
  var numeric = columns.filter(function (c) { return c.numeric; });
  var varyingParams = columns.filter(function (c) { return c.kind === "param" && c.varies; });
  var firstMetric = metrics.length ? metrics[0].key : "";

  function drawBar() {
    var column = byKey(document.getElementById("bar-metric").value);
    if (!column) { return Promise.resolve(); }
    var trace = { type: "bar", x: labels, y: column.values, hovertemplate: "%{x}: %{y}<extra></extra>" };
    return Plotly.react("chart-bar", [trace], layout({ xaxis: { type: "category", title: { text: "run" } }, yaxis: { title: { text: column.label } } }), config)
      .then(function () { done("chart-bar"); });
  }

  // Parallel coordinates drawn as one SVG line per run over axes scaled to 0..1, rather
  // than Plotly's parcoords: that one is WebGL, and without a GPU it took ~1.7 s for 50 runs.
  // Each run is a legend entry (click to hide it); hover shows the real values.
  function scaled(column) {
    if (!column.numeric) {
      var names = Array.from(new Set(column.values));
      var step = names.length > 1 ? 1 / (names.length - 1) : 0;
      return { at: column.values.map(function (v) { return names.indexOf(v) * step; }), shown: column.values };
    }
    var present = column.values.filter(function (v) { return v !== null; });
    var low = Math.min.apply(null, present), high = Math.max.apply(null, present);
    var span = high - low || 1;
    return {
      at: column.values.map(function (v) { return v === null ? null : (v - low) / span; }),
      shown: column.values.map(function (v) { return v === null ? "—" : v; })
    };
  }
  function colour(fraction) {  // from indigo (low) to amber (high), by the chosen metric
    var from = [79, 70, 229], to = [245, 158, 11];
    var mix = from.map(function (c, i) { return Math.round(c + (to[i] - c) * fraction); });
    return "rgb(" + mix.join(",") + ")";
  }

  function drawParallel() {
    var column = byKey(document.getElementById("parallel-metric").value);
    if (!column) { return Promise.resolve(); }
    var axes = varyingParams.concat([column]);
    var scales = axes.map(scaled);
    var names = axes.map(function (c) { return c.label; });
    var tint = scaled(column).at;
    var traces = runs.map(function (run, r) {
      return {
        type: "scatter", mode: "lines+markers", name: run.label, x: names,
        y: scales.map(function (s) { return s.at[r]; }),
        customdata: scales.map(function (s) { return s.shown[r]; }),
        line: { color: colour(tint[r] === null ? 0 : tint[r]), width: 2 }, marker: { size: 5 },
        hovertemplate: run.label + " · %{x}: %{customdata}<extra></extra>"
      };
    });
    var extra = {
      xaxis: { type: "category" },
      yaxis: { range: [-0.05, 1.05], tickvals: [0, 1], ticktext: ["min", "max"], zeroline: false },
      showlegend: true
    };
    return Plotly.react("chart-parallel", traces, layout(extra), config)
      .then(function () { done("chart-parallel"); });
  }

  function drawScatter() {
    var x = byKey(document.getElementById("scatter-x").value);
    var y = byKey(document.getElementById("scatter-y").value);
    if (!x || !y) { return Promise.resolve(); }
    var trace = {
      type: "scatter", mode: "markers+text", x: x.values, y: y.values, text: labels,
      textposition: "top center", marker: { size: 10 },
      hovertemplate: "%{text}<br>" + x.label + ": %{x}<br>" + y.label + ": %{y}<extra></extra>"
    };
    var axes = { xaxis: { title: { text: x.label } }, yaxis: { title: { text: y.label } } };
    return Plotly.react("chart-scatter", [trace], layout(axes), config)
      .then(function () { done("chart-scatter"); });
  }

  function drawCurves() {
    var select = document.getElementById("curve-metric");
    if (!select) { return Promise.resolve(); }
    var url = script.getAttribute("data-curves-url") + "?runs=" + encodeURIComponent(script.getAttribute("data-runs")) +
      "&key=" + encodeURIComponent(select.value);
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        var traces = (body.series || []).map(function (s) {
          return { type: "scatter", mode: "lines", name: "#" + s.run, x: s.steps, y: s.values };
        });
        var axes = { xaxis: { title: { text: "step" } }, yaxis: { title: { text: body.key } }, showlegend: true };
        return Plotly.react("chart-curves", traces, layout(axes), config);
      })
      .then(function () { done("chart-curves"); });
  }

  fill(document.getElementById("bar-metric"), metrics, firstMetric);
  fill(document.getElementById("parallel-metric"), metrics, firstMetric);
  fill(document.getElementById("scatter-x"), numeric, varyingParams.length ? varyingParams[0].key : (numeric[0] || {}).key);
  fill(document.getElementById("scatter-y"), numeric, firstMetric);
  [["bar-metric", drawBar], ["parallel-metric", drawParallel], ["scatter-x", drawScatter],
   ["scatter-y", drawScatter], ["curve-metric", drawCurves]].forEach(function (pair) {
    var node = document.getElementById(pair[0]);
    if (node) { node.addEventListener("change", pair[1]); }
  });

  started = performance.now();
  // The curves' fetch goes out first; the charts draw one after another (one at a time is
  // what the main thread can do anyway, and it gives each chart its own time).
  var curves = drawCurves();
  drawBar().then(drawScatter).then(drawParallel).then(function () { return curves; }).then(function () {
    window.mlopsChartMs = performance.now() - started;
    document.querySelector(".charts").setAttribute("data-rendered", "1");
  });
})();
