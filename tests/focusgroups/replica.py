"""A client's copy of a note's live document, as the browser's Yjs holds it (for the tests)."""

from __future__ import annotations

import base64

from pycrdt import Doc, Text


class Replica:
    """A client's copy of the note's document, as the browser's Yjs holds it."""

    def __init__(self) -> None:
        self.doc = Doc()
        self.text = self.doc.get("body", type=Text)

    def edit(self, index: int, insert: str = "", delete: int = 0) -> bytes:
        """Delete ``delete`` characters at character ``index`` and insert ``insert`` there; the update."""
        before = self.doc.get_state()
        current = str(self.text)
        # pycrdt counts positions in UTF-8 bytes.
        offset = len(current[:index].encode())
        length = len(current[index : index + delete].encode())
        with self.doc.transaction():
            if length:
                del self.text[offset : offset + length]
            if insert:
                self.text.insert(offset, insert)
        update: bytes = self.doc.get_update(before)
        return update

    def apply(self, encoded: str) -> None:
        self.doc.apply_update(base64.b64decode(encoded))

    def __str__(self) -> str:
        return str(self.text)
