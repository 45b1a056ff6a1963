// Other people's carets and selections, each labelled with the name the server stamped on their awareness
// frames. Colours are CSS classes (focusgroups.css): the page's Content-Security-Policy allows no inline
// style attributes, which the binding's own rendering sets.
import * as Y from "yjs";
import { Decoration, ViewPlugin, WidgetType } from "@codemirror/view";
import { StateEffect } from "@codemirror/state";

export const COLOURS = 6;
export const refreshCarets = StateEffect.define();

export function colourOf(clientId) {
  return "remote-c" + (Math.abs(clientId) % COLOURS);
}

class CaretWidget extends WidgetType {
  constructor(name, colour) {
    super();
    this.name = name;
    this.colour = colour;
  }

  eq(other) {
    return other.name === this.name && other.colour === this.colour;
  }

  toDOM() {
    const caret = document.createElement("span");
    caret.className = "remote-caret " + this.colour;
    caret.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.className = "remote-caret-name";
    label.textContent = this.name;
    caret.appendChild(label);
    return caret;
  }

  ignoreEvent() {
    return true;
  }
}

// session: {doc, ytext, awareness, names: Map<clientId, name>}; getSession() returns the current one (it is
// replaced when the editor re-syncs from scratch).
export function remoteCarets(getSession) {
  return ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.decorations = this.build(view);
        this.publish(view);
      }

      update(update) {
        const refreshed = update.transactions.some((tr) => tr.effects.some((e) => e.is(refreshCarets)));
        if (update.docChanged || refreshed || update.viewportChanged) {
          this.decorations = this.build(update.view);
        }
        if (update.selectionSet || update.docChanged || update.focusChanged) {
          this.publish(update.view);
        }
      }

      // Our own caret, as positions relative to the shared text so that others' edits do not move it.
      publish(view) {
        const session = getSession();
        if (!session || !view.hasFocus) { return; }
        const selection = view.state.selection.main;
        const anchor = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(session.ytext, selection.anchor));
        const head = Y.relativePositionToJSON(Y.createRelativePositionFromTypeIndex(session.ytext, selection.head));
        const current = session.awareness.getLocalState() || {};
        const before = current.cursor;
        if (before && JSON.stringify(before.anchor) === JSON.stringify(anchor) &&
            JSON.stringify(before.head) === JSON.stringify(head)) { return; }
        session.awareness.setLocalStateField("cursor", { anchor, head });
      }

      build(view) {
        const session = getSession();
        const ranges = [];
        if (!session) { return Decoration.none; }
        const length = view.state.doc.length;
        session.awareness.getStates().forEach((state, clientId) => {
          if (clientId === session.doc.clientID || !session.names.has(clientId)) { return; }
          const cursor = state && state.cursor;
          if (!cursor || !cursor.anchor || !cursor.head) { return; }
          let anchor, head;
          try {
            anchor = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.anchor), session.doc);
            head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(cursor.head), session.doc);
          } catch (error) {
            return;  // a malformed position from another client is not shown
          }
          if (!anchor || !head || anchor.type !== session.ytext || head.type !== session.ytext) { return; }
          const colour = colourOf(clientId);
          const from = Math.min(anchor.index, head.index, length);
          const to = Math.min(Math.max(anchor.index, head.index), length);
          if (from < to) {
            ranges.push(Decoration.mark({ class: "remote-selection " + colour }).range(from, to));
          }
          const at = Math.min(head.index, length);
          ranges.push(Decoration.widget({ widget: new CaretWidget(session.names.get(clientId), colour), side: 1 }).range(at));
        });
        return Decoration.set(ranges, true);
      }
    },
    { decorations: (plugin) => plugin.decorations }
  );
}

export function caretsChanged(view) {
  view.dispatch({ effects: refreshCarets.of(null) });
}
