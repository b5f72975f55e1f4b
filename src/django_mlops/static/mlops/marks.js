// Outline the steps named in ?mark= on a run's DAG (the "what changed" panel links here).
// The names arrive as JSON (#dag-marks); each step's SVG group is #node-<name>.
(function () {
  "use strict";
  var node = document.getElementById("dag-marks");
  if (!node) { return; }
  JSON.parse(node.textContent).forEach(function (name) {
    var step = document.getElementById("node-" + name);
    if (step) { step.classList.add("marked"); }
  });
})();
