/* Live shared notes: presence, others' saved edits without reloading, and a merge view on conflicts.

The note page works without this script (a plain form POST with the base version). With it, saves go over
the group's websocket; nothing typed is ever replaced while it differs from the last saved text. */
(function () {
  "use strict";

  var root = document.getElementById("note-editor");
  if (!root || !window.WebSocket || !window.JSON) { return; }

  var noteId = parseInt(root.getAttribute("data-note"), 10);
  var canEdit = root.getAttribute("data-can-edit") === "true";
  var form = document.getElementById("note-form");
  var titleInput = document.getElementById("id_title");
  var bodyInput = document.getElementById("id_body");
  var versionInput = document.getElementById("id_base_version");
  var status = document.getElementById("note-status");
  var presenceList = document.getElementById("presence-list");
  var presenceStatus = document.getElementById("presence-status");
  var versionLabel = document.getElementById("note-version");
  var bodyView = document.getElementById("note-body-view");
  var conflictBox = document.getElementById("note-conflict");
  var text = JSON.parse(document.getElementById("note-strings").textContent);

  // The last saved text this editor started from: the editor is "unchanged" while it equals this.
  var pristine = {
    title: titleInput ? titleInput.value : "",
    body: bodyInput ? bodyInput.value : "",
    version: versionInput ? parseInt(versionInput.value, 10) : 0
  };
  var pending = null;
  var socket = null;
  var delay = 1000;
  var refused = false;
  var pinger = null;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  function say(message) {
    if (status) { status.textContent = message; }
  }

  function unchanged() {
    return (!titleInput || titleInput.value === pristine.title) && (!bodyInput || bodyInput.value === pristine.body);
  }

  function setVersion(version) {
    pristine.version = version;
    if (versionInput) { versionInput.value = String(version); }
    if (versionLabel) { versionLabel.textContent = String(version); }
  }

  function applySaved(note) {
    if (titleInput) { titleInput.value = note.title; }
    if (bodyInput) { bodyInput.value = note.body; }
    if (bodyView) { bodyView.textContent = note.body; }
    pristine.title = note.title;
    pristine.body = note.body;
    setVersion(note.version);
    var heading = document.getElementById("note-title");
    if (heading) { heading.textContent = note.title; }
  }

  function renderPresence(people) {
    if (!presenceList) { return; }
    presenceList.textContent = "";
    var names = [];
    people.forEach(function (entry) {
      var item = document.createElement("li");
      item.textContent = entry.name;
      presenceList.appendChild(item);
      names.push(entry.name);
    });
    if (presenceStatus) {
      presenceStatus.textContent = names.length ? format(text.presence, { names: names.join(", ") }) : text.nobody;
    }
  }

  function field(labelText, value, id) {
    var wrapper = document.createElement("div");
    wrapper.className = "field";
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = labelText;
    var area = document.createElement("textarea");
    area.id = id;
    area.readOnly = true;
    area.rows = 12;
    area.value = value;
    wrapper.appendChild(label);
    wrapper.appendChild(area);
    return wrapper;
  }

  function showConflict(message) {
    if (!conflictBox) { return; }
    var current = message.current;
    var yours = message.yours;
    conflictBox.textContent = "";
    var heading = document.createElement("h2");
    heading.id = "conflict-heading";
    heading.textContent = text.conflictTitle;
    conflictBox.appendChild(heading);
    var help = document.createElement("p");
    help.textContent = format(text.conflictHelp, { author: current.author || "", version: current.version });
    conflictBox.appendChild(help);
    var columns = document.createElement("div");
    columns.className = "columns merge-columns";
    var theirs = document.createElement("div");
    theirs.appendChild(field(format(text.savedLabel, { author: current.author || "", version: current.version }),
      (current.title ? current.title + "\n\n" : "") + current.body, "conflict-current"));
    var mine = document.createElement("div");
    mine.appendChild(field(text.yoursLabel, (yours.title ? yours.title + "\n\n" : "") + yours.body, "conflict-yours"));
    columns.appendChild(theirs);
    columns.appendChild(mine);
    conflictBox.appendChild(columns);
    var actions = document.createElement("div");
    actions.className = "actions";
    var useSaved = document.createElement("button");
    useSaved.type = "button";
    useSaved.className = "button small secondary";
    useSaved.textContent = text.useSaved;
    useSaved.addEventListener("click", function () {
      if (titleInput) { titleInput.value = current.title; }
      if (bodyInput) { bodyInput.value = current.body; bodyInput.focus(); }
    });
    actions.appendChild(useSaved);
    conflictBox.appendChild(actions);
    conflictBox.hidden = false;
    // Saving again now builds on the current version; the editor keeps the person's own text to merge.
    setVersion(current.version);
    pristine.title = current.title;
    pristine.body = current.body;
    if (titleInput) { titleInput.value = yours.title; }
    if (bodyInput) { bodyInput.value = yours.body; }
    heading.tabIndex = -1;
    heading.focus();
    say(text.conflictStatus);
  }

  function onMessage(event) {
    var data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (data.type === "hello") {
      renderPresence(data.presence || []);
      (data.notes || []).forEach(function (note) {
        if (note.id !== noteId) { return; }
        canEdit = canEdit && note.can_edit !== false;
        if (note.version !== pristine.version) {
          if (unchanged()) {
            applySaved(note);
          } else {
            // Saved meanwhile (e.g. while the socket was down): keep the person's text; saving shows both.
            say(format(text.changedMeanwhile, { version: note.version }));
            return;
          }
        }
      });
      if (!status || !status.textContent || status.textContent === text.offline) { say(text.connected); }
    } else if (data.type === "presence") {
      renderPresence(data.presence || []);
    } else if (data.type === "saved" && data.note === noteId) {
      var mine = pending && data.body === pending.body && data.title === pending.title &&
        data.version === pending.base + 1;
      if (mine) {
        pending = null;
        applySaved(data);
        if (conflictBox) { conflictBox.hidden = true; }
        say(format(text.savedMine, { version: data.version }));
      } else if (data.version > pristine.version) {
        if (unchanged()) {
          applySaved(data);
          say(format(text.savedOther, { author: data.author || "", version: data.version }));
        } else {
          // Keep what the person typed; their next save is refused and shows both texts to merge.
          say(format(text.savedOtherKept, { author: data.author || "", version: data.version }));
        }
      }
    } else if (data.type === "withdrawn" && data.note === noteId) {
      say(text.withdrawn);
    } else if (data.type === "conflict" && data.note === noteId) {
      pending = null;
      showConflict(data);
    } else if (data.type === "error" && (data.note === undefined || data.note === noteId)) {
      pending = null;
      if (data.code === "forbidden") {
        say(text.forbidden);
      } else if (data.errors) {
        var messages = [];
        Object.keys(data.errors).forEach(function (key) { messages = messages.concat(data.errors[key]); });
        say(text.failed + " " + messages.join(" "));
      } else {
        say(text.failed);
      }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket"));
    socket.onmessage = onMessage;
    socket.onopen = function () {
      delay = 1000;
      // Keeps this person on the presence roster (the server forgets silent sockets).
      if (pinger) { window.clearInterval(pinger); }
      pinger = window.setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify({ type: "ping" })); }
      }, 30000);
    };
    socket.onclose = function (event) {
      socket = null;
      if (pinger) { window.clearInterval(pinger); pinger = null; }
      if (pending) { pending = null; say(text.offline); }
      if (event.code >= 4000 && event.code < 5000) { refused = true; say(text.offline); return; }
      say(text.offline);
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      if (refused || !canEdit || !socket || socket.readyState !== WebSocket.OPEN) { return; }  // plain POST
      event.preventDefault();
      if (unchanged()) { say(text.nothing); return; }  // the server writes no version for the same text
      pending = {
        base: pristine.version,
        title: titleInput ? titleInput.value : "",
        body: bodyInput ? bodyInput.value : ""
      };
      socket.send(JSON.stringify({
        type: "save", note: noteId, base_version: pending.base, title: pending.title, body: pending.body
      }));
      say(text.saving);
    });
  }

  connect();
})();
