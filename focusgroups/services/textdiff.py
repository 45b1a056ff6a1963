"""The edits that turn one text into another: how a whole-text save becomes an edit of a live document."""

from __future__ import annotations

import difflib

# Above this many characters on either side, a whole-text save is diffed line by line, not by character.
CHARACTER_DIFF_LIMIT = 4000


def text_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """A short list of ``(start, end, replacement)`` edits (character positions in ``old``, in order) that
    turn ``old`` into ``new``: the common start and end are kept, the middle diffed by character, or by
    line when it is long."""
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < limit - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    a, b = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if not a or not b:
        return [(prefix, prefix + len(a), b)] if a or b else []
    if max(len(a), len(b)) <= CHARACTER_DIFF_LIMIT:
        pieces_a: list[str] = list(a)
        pieces_b: list[str] = list(b)
    else:
        pieces_a, pieces_b = a.splitlines(keepends=True), b.splitlines(keepends=True)
    starts = [0]
    for piece in pieces_a:
        starts.append(starts[-1] + len(piece))
    edits = []
    matcher = difflib.SequenceMatcher(None, pieces_a, pieces_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append((prefix + starts[i1], prefix + starts[i2], "".join(pieces_b[j1:j2])))
    return edits
