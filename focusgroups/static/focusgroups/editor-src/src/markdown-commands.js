// Markdown commands of the toolbar and its keyboard shortcuts: each works on the lines of the selection.
import { EditorSelection } from "@codemirror/state";

const PREFIX = /^(\s*)(#{1,6} |[-*+] \[[ xX]\] |[-*+] |\d+[.)] )?/;

function linesOf(state) {
  const seen = new Set();
  const lines = [];
  for (const range of state.selection.ranges) {
    for (let pos = range.from; pos <= range.to;) {
      const line = state.doc.lineAt(pos);
      if (!seen.has(line.number)) { seen.add(line.number); lines.push(line); }
      pos = line.to + 1;
    }
  }
  return lines;
}

// Gives each selected line the prefix (or takes it away when every line has it already).
function setPrefix(view, prefix, number) {
  if (view.state.readOnly) { return false; }
  const lines = linesOf(view.state);
  const wanted = (index) => (number ? (index + 1) + ". " : prefix);
  const all = lines.every((line, index) => (PREFIX.exec(line.text)[2] || "") === wanted(index));
  const changes = lines.map((line, index) => {
    const match = PREFIX.exec(line.text);
    const start = line.from + match[1].length;
    const existing = match[2] || "";
    return { from: start, to: start + existing.length, insert: all ? "" : wanted(index) };
  });
  view.dispatch(view.state.update({ changes, scrollIntoView: true, userEvent: "input.format" }));
  return true;
}

export const heading = (view) => setPrefix(view, "## ");
export const bulletList = (view) => setPrefix(view, "- ");
export const numberedList = (view) => setPrefix(view, "", true);
export const checklist = (view) => setPrefix(view, "- [ ] ");

// Ticks an open checkbox on each selected line, or clears a ticked one.
export const toggleCheckbox = (view) => {
  if (view.state.readOnly) { return false; }
  const changes = [];
  for (const line of linesOf(view.state)) {
    const match = /^(\s*[-*+] \[)([ xX])\]/.exec(line.text);
    if (match) {
      const at = line.from + match[1].length;
      changes.push({ from: at, to: at + 1, insert: match[2] === " " ? "x" : " " });
    }
  }
  if (!changes.length) { return checklist(view); }
  view.dispatch(view.state.update({ changes, userEvent: "input.format" }));
  return true;
};

// Makes the selection (or an empty text) a link and selects the address to type.
export const link = (view) => {
  if (view.state.readOnly) { return false; }
  const placeholder = "https://";
  view.dispatch(view.state.changeByRange((range) => {
    const label = view.state.sliceDoc(range.from, range.to);
    const insert = "[" + label + "](" + placeholder + ")";
    const start = range.from + label.length + 3;
    return {
      changes: { from: range.from, to: range.to, insert },
      range: EditorSelection.range(start, start + placeholder.length),
    };
  }), { scrollIntoView: true, userEvent: "input.format" });
  return true;
};

// The text of the line with the caret, without its Markdown list, checkbox or heading marks.
export function currentLineText(state) {
  const line = state.doc.lineAt(state.selection.main.head);
  return line.text.replace(PREFIX, "$1").trim();
}
