/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  // Ask before destructive actions: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // On a phone the menu folds behind one button (without JavaScript it stays open).
  var header = document.querySelector(".site-header");
  var toggle = document.getElementById("menu-toggle");
  if (header && toggle) {
    var setOpen = function (open) {
      header.classList.toggle("open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    header.classList.add("collapsible");
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  // Live notifications: update the bell and announce new ones to screen readers.
  var bell = document.getElementById("notification-bell");
  if (!bell || !window.WebSocket) { return; }
  var count = document.getElementById("notification-count");
  var live = document.getElementById("live-region");
  var toasts = document.getElementById("toasts");
  var delay = 1000;

  function show(message) {
    var current = parseInt(count.getAttribute("data-count") || "0", 10) + 1;
    count.setAttribute("data-count", String(current));
    count.textContent = String(current);
    if (live) { live.textContent = message.title; }
    if (toasts) {
      var toast = document.createElement("div");
      toast.className = "toast";
      var link = document.createElement(message.url ? "a" : "span");
      if (message.url) { link.href = message.url; }
      link.textContent = message.title;
      toast.appendChild(link);
      toasts.appendChild(toast);
      window.setTimeout(function () { toast.remove(); }, 8000);
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + bell.getAttribute("data-socket"));
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (data.type === "notification") { show(data); }
    };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function (event) {
      if (event.code >= 4000 && event.code < 5000) { return; }  // refused: do not retry
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
