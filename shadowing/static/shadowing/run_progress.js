// A matching run's live progress: the socket sends the step, how many are placed so far and the distance
// from the best possible; when the run is finished the page reloads to show the proposal. Without
// JavaScript the page reloads itself every few seconds (a meta refresh inside noscript) instead.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box || !window.WebSocket) { return; }
  var phase = document.getElementById("progress-phase");
  var placed = document.getElementById("progress-placed");
  var gap = document.getElementById("progress-gap");
  var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + window.location.host + box.getAttribute("data-socket"));
  socket.onmessage = function (event) {
    var data = JSON.parse(event.data);
    if (data.type !== "progress") { return; }
    if (data.finished) { window.location.reload(); return; }
    phase.textContent = data.phase_label || data.status_label;
    placed.textContent = new Intl.NumberFormat(document.documentElement.lang || undefined).format(data.placed);
    if (data.gap !== null && data.gap !== undefined) {
      gap.textContent = new Intl.NumberFormat(document.documentElement.lang || undefined, {
        style: "percent", maximumFractionDigits: 2
      }).format(data.gap);
    }
  };
  socket.onclose = function () { window.setTimeout(function () { window.location.reload(); }, 5000); };
})();
