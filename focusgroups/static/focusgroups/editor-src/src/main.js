/* The shared note, written together: a CodeMirror editor bound to a Yjs document that is synced over the
focus group's websocket (frames doc.sync, doc.update, doc.awareness,
doc.version). Every keystroke merges; nothing blocks and there is no conflict dialog. Edits made while the
socket is down stay in the document and are sent, merged, when it comes back.

Without this script the page is a plain form with a version check; this script replaces its text field with
the live editor and says so only once it runs. */
import * as Y from "yjs";
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from "y-protocols/awareness";
import { toBase64, fromBase64 } from "lib0/buffer";
import * as decoding from "lib0/decoding";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap, drawSelection, highlightActiveLine, placeholder } from "@codemirror/view";
import { defaultKeymap } from "@codemirror/commands";
import { markdownLanguage } from "@codemirror/lang-markdown";
import { LanguageSupport, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { remoteCarets, caretsChanged } from "./remote-carets.js";
import { heading, bulletList, numberedList, checklist, toggleCheckbox, link, currentLineText } from "./markdown-commands.js";

const BATCH_MS = 40;
const REMOTE = "remote";
// The editor's styles go into a <style> element, which the page's Content-Security-Policy admits only with
// the request's nonce; the script tag carries it (readable by script, hidden from the DOM's attributes).
const NONCE = (document.currentScript && document.currentScript.nonce) || "";

function start(root) {
  const noteId = parseInt(root.getAttribute("data-note"), 10);
  const text = JSON.parse(document.getElementById("note-strings").textContent);
  let canEdit = root.getAttribute("data-can-edit") === "true";
  const form = document.getElementById("note-form");
  const titleInput = document.getElementById("id_title");
  const bodyInput = document.getElementById("id_body");
  const bodyView = document.getElementById("note-body-view");
  const status = document.getElementById("note-status");
  const presence = document.getElementById("note-presence");
  const presenceList = document.getElementById("presence-list");
  const presenceStatus = document.getElementById("presence-status");
  const versionLabel = document.getElementById("note-version");
  const versionInput = document.getElementById("id_base_version");
  const lastSaved = document.getElementById("note-last-saved");
  const lastSavedText = document.getElementById("note-last-saved-text");
  const conflictBox = document.getElementById("note-conflict");
  const myName = root.getAttribute("data-my-name") || "";
  const actionUrl = root.getAttribute("data-action-url");
  const apiUrl = root.getAttribute("data-api");
  const lang = document.documentElement.lang || undefined;

  let socket = null;
  let delay = 1000;
  let refused = false;
  let pinger = null;
  let synced = false;
  let version = versionInput ? parseInt(versionInput.value, 10) : parseInt(versionLabel ? versionLabel.textContent : "0", 10);
  let savedTitle = titleInput ? titleInput.value : "";
  let pending = [];
  let batch = null;
  let session = null;
  let view = null;
  const editable = new Compartment();

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match);
  }

  function say(message) {
    if (status) { status.textContent = message; }
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function showSaved(name, at) {
    if (!lastSaved || !lastSavedText || !name) { return; }
    const when = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" })
      .format(at ? new Date(at) : new Date());
    lastSavedText.textContent = format(text.lastSaved, { name, when });
    lastSaved.hidden = false;
  }

  function setVersion(number) {
    if (typeof number !== "number" || number < version) { return; }
    version = number;
    if (versionLabel) { versionLabel.textContent = String(number); }
    if (versionInput) { versionInput.value = String(number); }
  }

  // --- The shared document -----------------------------------------------------------------------------

  function newSession() {
    const doc = new Y.Doc();
    const ytext = doc.getText("body");
    const awareness = new Awareness(doc);
    awareness.setLocalState({});
    const made = { doc, ytext, awareness, names: new Map() };
    doc.on("update", (update, origin) => {
      if (origin === REMOTE || session !== made) { return; }
      pending.push(update);
      if (!batch) { batch = window.setTimeout(flush, BATCH_MS); }
    });
    awareness.on("update", ({ added, updated, removed }, origin) => {
      if (session !== made) { return; }
      if (origin === "local") {
        const update = encodeAwarenessUpdate(awareness, [doc.clientID]);
        send({ type: "doc.awareness", note: noteId, client: doc.clientID, update: toBase64(update) });
      } else if (view && added.concat(updated, removed).length) {
        removed.forEach((id) => made.names.delete(id));
        caretsChanged(view);
      }
    });
    return made;
  }

  // Local changes of the last few milliseconds go out as one update; while offline they stay in the
  // document and reach the server through the next doc.sync.
  function flush() {
    batch = null;
    if (!pending.length || !synced || !canEdit) { return; }
    const update = Y.mergeUpdates(pending);
    if (send({ type: "doc.update", note: noteId, update: toBase64(update) })) {
      pending = [];
      showSaved(myName);
    }
  }

  function requestSync() {
    synced = false;
    send({ type: "doc.sync", note: noteId, sv: toBase64(Y.encodeStateVector(session.doc)) });
  }

  function onSync(frame) {
    try {
      if (frame.update) { Y.applyUpdate(session.doc, fromBase64(frame.update), REMOTE); }
    } catch (error) {
      say(text.failed);
      return;
    }
    canEdit = frame.can_edit === true;
    synced = true;
    pending = [];
    if (!view) { mount(); }
    setEditable();
    if (canEdit && frame.sv) {
      // What we wrote while the server could not hear us: one update with all of it.
      const missing = Y.encodeStateAsUpdate(session.doc, fromBase64(frame.sv));
      if (missing.length > 2) {  // two bytes: an update with nothing in it
        send({ type: "doc.update", note: noteId, update: toBase64(missing) });
      }
    }
    // Show our caret to those who joined meanwhile.
    const state = session.awareness.getLocalState();
    if (state) { session.awareness.setLocalState(state); }
    say(canEdit ? text.connected : text.connectedReader);
  }

  // The server refused our edits: start again from its document, read-only.
  function restartReadOnly() {
    canEdit = false;
    pending = [];
    const old = session;
    removeAwarenessStates(old.awareness, [old.doc.clientID], "gone");
    session = newSession();
    if (view) {
      view.setState(editorState());
    }
    setEditable();
    old.awareness.destroy();
    old.doc.destroy();
    requestSync();
  }

  function readAwareness(frame) {
    // One client's state per frame, under the client id the frame names: a peer cannot move someone else's
    // caret. The name shown is the one the server stamped on the frame.
    if (!frame.user || typeof frame.user.name !== "string" || typeof frame.client !== "number") { return; }
    let update;
    try {
      update = fromBase64(frame.update);
      const decoder = decoding.createDecoder(update);
      if (decoding.readVarUint(decoder) !== 1 || decoding.readVarUint(decoder) !== frame.client) { return; }
    } catch (error) {
      return;
    }
    if (frame.client === session.doc.clientID) { return; }
    session.names.set(frame.client, frame.user.name);
    try {
      applyAwarenessUpdate(session.awareness, update, REMOTE);
    } catch (error) {
      session.names.delete(frame.client);
    }
  }

  // --- The editor ----------------------------------------------------------------------------------------

  function editorState() {
    return EditorState.create({
      doc: session.ytext.toString(),
      extensions: [
        yCollab(session.ytext, null, { undoManager: new Y.UndoManager(session.ytext) }),
        remoteCarets(() => session),
        editable.of(editableExtensions()),
        keymap.of([
          { key: "Mod-Alt-1", run: heading },
          { key: "Mod-Shift-8", run: bulletList },
          { key: "Mod-Shift-7", run: numberedList },
          { key: "Mod-Shift-9", run: checklist },
          { key: "Mod-Enter", run: toggleCheckbox },
          { key: "Mod-k", run: link },
          { key: "Mod-Shift-a", run: () => { createAction(); return true; } },
          ...yUndoManagerKeymap,
          ...defaultKeymap,
        ]),
        new LanguageSupport(markdownLanguage),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        drawSelection(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        EditorView.cspNonce.of(NONCE),
        placeholder(text.placeholder),
        EditorView.contentAttributes.of({
          "aria-labelledby": "note-live-label",
          "aria-describedby": "note-live-help",
          id: "note-live-text",
        }),
      ],
    });
  }

  function editableExtensions() {
    return [
      EditorState.readOnly.of(!canEdit),
      EditorView.contentAttributes.of({ "aria-readonly": canEdit ? "false" : "true" }),
    ];
  }

  function setEditable() {
    if (!view) { return; }
    view.dispatch({ effects: editable.reconfigure(editableExtensions()) });
    toolbarButtons.forEach((button) => { button.disabled = !canEdit && button.dataset.edits === "true"; });
    root.setAttribute("data-can-edit", canEdit ? "true" : "false");
    if (saveButton) { saveButton.disabled = !canEdit; }
  }

  const toolbarButtons = [];
  let saveButton = null;

  function button(label, shortcut, run, edits) {
    const item = document.createElement("button");
    item.type = "button";
    item.className = "button small secondary";
    item.textContent = label;
    item.tabIndex = toolbarButtons.length === 0 ? 0 : -1;
    item.dataset.edits = edits ? "true" : "false";
    if (shortcut) {
      item.setAttribute("aria-keyshortcuts", shortcut.replace("Mod", navigator.platform.indexOf("Mac") === 0 ? "Meta" : "Control"));
      item.title = label + " (" + shortcut.replace("Mod", navigator.platform.indexOf("Mac") === 0 ? "⌘" : "Ctrl") + ")";
    }
    item.addEventListener("click", () => {
      if (!view) { return; }
      run(view);
      view.focus();
    });
    toolbarButtons.push(item);
    return item;
  }

  function buildToolbar() {
    const bar = document.createElement("div");
    bar.className = "note-toolbar";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", text.toolbar);
    bar.setAttribute("aria-controls", "note-live-text");
    bar.appendChild(button(text.heading, "Mod-Alt-1", heading, true));
    bar.appendChild(button(text.bulletList, "Mod-Shift-8", bulletList, true));
    bar.appendChild(button(text.numberedList, "Mod-Shift-7", numberedList, true));
    bar.appendChild(button(text.checklist, "Mod-Shift-9", checklist, true));
    bar.appendChild(button(text.toggleCheckbox, "Mod-Enter", toggleCheckbox, true));
    bar.appendChild(button(text.link, "Mod-k", link, true));
    if (actionUrl) {
      const item = button(text.createAction, "Mod-Shift-a", () => createAction(), false);
      item.id = "note-create-action";
      bar.appendChild(item);
    }
    // Arrow keys move along the toolbar; Tab leaves it (one stop in the tab order).
    bar.addEventListener("keydown", (event) => {
      const index = toolbarButtons.indexOf(document.activeElement);
      if (index < 0) { return; }
      let next = null;
      if (event.key === "ArrowRight") { next = (index + 1) % toolbarButtons.length; }
      if (event.key === "ArrowLeft") { next = (index - 1 + toolbarButtons.length) % toolbarButtons.length; }
      if (event.key === "Home") { next = 0; }
      if (event.key === "End") { next = toolbarButtons.length - 1; }
      if (next === null) { return; }
      event.preventDefault();
      toolbarButtons.forEach((b, i) => { b.tabIndex = i === next ? 0 : -1; });
      toolbarButtons[next].focus();
    });
    return bar;
  }

  function mount() {
    const live = document.createElement("div");
    live.className = "note-live field";
    live.id = "note-live";
    const label = document.createElement("span");
    label.className = "label";
    label.id = "note-live-label";
    label.textContent = canEdit ? text.bodyLabel : text.bodyLabelReadOnly;
    live.appendChild(label);
    live.appendChild(buildToolbar());
    const holder = document.createElement("div");
    holder.className = "note-live-editor";
    live.appendChild(holder);
    const help = document.createElement("p");
    help.className = "meta";
    help.id = "note-live-help";
    help.textContent = text.editorHelp;
    live.appendChild(help);

    const replaced = bodyInput ? bodyInput.closest(".field") || bodyInput : bodyView;
    if (replaced) {
      replaced.insertAdjacentElement("afterend", live);
      replaced.hidden = true;
    } else {
      root.prepend(live);
    }
    if (bodyInput) { bodyInput.disabled = true; }  // the live document is the text now, not the form field
    if (conflictBox) { conflictBox.hidden = true; }
    view = new EditorView({ state: editorState(), parent: holder });
    if (saveButton) { saveButton.textContent = text.saveVersion; }
  }

  // "Create an action from this line": the group's action form, filled in with the line and linked to it.
  function createAction() {
    if (!actionUrl || !view) { return; }
    const line = currentLineText(view.state);
    const target = actionUrl + "?note=" + noteId + "&line=" + encodeURIComponent(line) + "#new-action";
    flush();
    // Let the last keystrokes leave before the page changes.
    let waited = 0;
    const go = () => {
      if (socket && socket.bufferedAmount > 0 && waited < 2000) { waited += 25; window.setTimeout(go, 25); return; }
      window.location.assign(target);
    };
    go();
  }

  // --- Title and named versions ----------------------------------------------------------------------

  function csrfToken() {
    const field = form ? form.querySelector("input[name=csrfmiddlewaretoken]") : null;
    return field ? field.value : "";
  }

  async function saveTitle(title) {
    const response = await fetch(apiUrl, {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
        "If-Match": '"' + version + '"',
      },
      body: JSON.stringify({ title }),
    });
    if (response.ok) {
      const note = await response.json();
      savedTitle = note.title;
      setTitle(note.title);
      if (typeof note.version === "number") { setVersion(note.version); }
      return true;
    }
    if (response.status === 412) { say(text.titleChanged); return false; }
    let detail = "";
    try {
      const body = await response.json();
      detail = Object.values(body).flat().join(" ");
    } catch (error) { detail = ""; }
    say((text.failed + " " + detail).trim());
    return false;
  }

  function setTitle(title) {
    const heading = document.getElementById("note-title");
    if (heading) { heading.textContent = title; }
    if (titleInput && titleInput.value === savedTitle) { titleInput.value = title; }
    savedTitle = title;
  }

  if (form) {
    saveButton = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async (event) => {
      if (!view || refused) { return; }  // not live yet: the plain form with its version check
      event.preventDefault();
      if (!canEdit) { say(text.forbidden); return; }
      flush();
      if (titleInput && titleInput.value !== savedTitle) {
        say(text.saving);
        if (!(await saveTitle(titleInput.value))) { return; }
      }
      if (send({ type: "doc.version", note: noteId })) { say(text.saving); } else { say(text.offline); }
    });
  }

  // --- The socket ------------------------------------------------------------------------------------

  function renderPresence(people) {
    if (!presenceList) { return; }
    presenceList.textContent = "";
    const names = [];
    people.forEach((entry) => {
      const item = document.createElement("li");
      item.textContent = entry.name;
      presenceList.appendChild(item);
      names.push(entry.name);
    });
    if (presenceStatus) {
      presenceStatus.textContent = names.length ? format(text.presence, { names: names.join(", ") }) : text.nobody;
    }
  }

  function onMessage(event) {
    let data;
    try { data = JSON.parse(event.data); } catch (error) { return; }
    if (data.type === "hello") {
      renderPresence(data.presence || []);
    } else if (data.type === "presence") {
      renderPresence(data.presence || []);
    } else if (data.note !== noteId) {
      return;
    } else if (data.type === "doc.sync") {
      onSync(data);
    } else if (data.type === "doc.update") {
      // Applying an update twice, or before the sync answer, is harmless: the document keeps each once.
      try {
        Y.applyUpdate(session.doc, fromBase64(data.update), REMOTE);
      } catch (error) {
        requestSync();
        return;
      }
      if (data.by && data.by.name) { showSaved(data.by.name); }
    } else if (data.type === "doc.awareness") {
      readAwareness(data);
    } else if (data.type === "doc.versioned") {
      setVersion(data.version);
      if (data.by && data.by.name) {
        showSaved(data.by.name, data.at);
        say(format(text.versioned, { version: data.version, author: data.by.name }));
      }
    } else if (data.type === "saved") {
      setVersion(data.version);
      if (typeof data.title === "string" && data.title !== savedTitle) { setTitle(data.title); }
      if (data.author) { showSaved(data.author, data.at); }
    } else if (data.type === "withdrawn") {
      say(text.withdrawn);
    } else if (data.type === "error") {
      if (data.code === "forbidden") {
        say(text.forbidden);
        if (canEdit) { restartReadOnly(); }
      } else if (data.code === "invalid" || data.code === "not_found") {
        say(text.failed);
        requestSync();
      }
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket"));
    socket.onmessage = onMessage;
    socket.onopen = () => {
      delay = 1000;
      requestSync();
      // Keeps this person on the presence roster (the server forgets silent sockets).
      if (pinger) { window.clearInterval(pinger); }
      pinger = window.setInterval(() => send({ type: "ping" }), 30000);
    };
    socket.onclose = (event) => {
      socket = null;
      synced = false;
      if (pinger) { window.clearInterval(pinger); pinger = null; }
      // Others' carets are stale once we stop hearing them.
      const others = Array.from(session.awareness.getStates().keys()).filter((id) => id !== session.doc.clientID);
      removeAwarenessStates(session.awareness, others, REMOTE);
      if (event.code >= 4000 && event.code < 5000) {
        // Refused for good (the right to this group is gone, or the session ended): read-only from now on.
        refused = true;
        canEdit = false;
        setEditable();
        say(text.refused);
        return;
      }
      say(canEdit ? text.offlineEditing : text.offline);
      window.setTimeout(connect, delay + Math.floor(Math.random() * 250));
      delay = Math.min(delay * 2, 30000);
    };
  }

  window.addEventListener("pagehide", () => {
    if (session) { removeAwarenessStates(session.awareness, [session.doc.clientID], "local"); }
  });

  session = newSession();
  if (presence) { presence.hidden = false; }
  if (presenceStatus) { presenceStatus.textContent = text.connecting; }
  say(text.connecting);
  connect();
}

const root = document.getElementById("note-editor");
if (root && window.WebSocket && window.JSON) { start(root); }
