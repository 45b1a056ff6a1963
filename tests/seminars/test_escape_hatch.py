"""Every use of the tenancy escape hatch (``unscoped_objects``, ``unscoped()``) in the seminars app outside
its demo data and migrations is on a short reviewed list, each with its reason."""

from __future__ import annotations

import ast
from pathlib import Path

import seminars

APP = Path(seminars.__file__).parent

# (file, function): why it must see past the scope.
ALLOWED = {
    ("services/_seats.py", "adjust_seats"): "updates the round locked through the scoped manager, by pk",
}


def _escape_hatch_uses() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP).as_posix()
        if relative.startswith(("seed/", "migrations/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                uses_manager = isinstance(node, ast.Attribute) and node.attr == "unscoped_objects"
                uses_block = (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name | ast.Attribute)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "unscoped"
                )
                if uses_manager or uses_block:
                    found.add((relative, function.name))
    return found


def test_every_escape_hatch_use_is_on_the_reviewed_list() -> None:
    assert _escape_hatch_uses() == set(ALLOWED)
