"""Every use of the tenant escape hatch (``unscoped_objects``, ``unscoped()``) in organisations and the shared
layers is on a short, reviewed list, each with its reason. Seeds and migrations are left out: demo data
spans the programmes by design."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("organisations", "coordinator")

# (path, function) -> why it must see past the active scope
ALLOWED = {
    ("coordinator/core/jobs.py", "run_due_jobs"): "periodic jobs cover every programme",
    ("coordinator/core/notifications.py", "wants_email"): "the recipient's own preference, in any scope",
    ("coordinator/core/notifications.py", "_after_commit"): "outbox: runs after the request's scope is gone",
    ("coordinator/core/notifications.py", "_claim"): "outbox: compare-and-set by id, outside any request",
    ("coordinator/core/notifications.py", "deliver"): "outbox: the row just claimed by its id",
    ("coordinator/core/notifications.py", "_alert_coordinators"): "outbox: the failed message's programme",
    ("coordinator/core/notifications.py", "deliver_due"): "outbox: periodic job over every programme",
    ("coordinator/pages/context_processors.py", "layout"): "the person's own programmes, for the switcher",
    ("coordinator/pages/views/home.py", "set_language"): "the person's own row, identified by the session",
    ("coordinator/pages/views/feed.py", "calendar_feed"): "the secret token identifies the person",
    ("organisations/access/admin.py", "scoped"): "superusers administer every programme",
    ("organisations/permissions.py", "actor_for"): "the person's own rows, which decide the scope",
}


def _uses(path: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    relative = path.relative_to(ROOT).as_posix()

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            elif isinstance(child, ast.Attribute) and child.attr == "unscoped_objects":
                found.add((relative, function))
            elif isinstance(child, ast.Call) and getattr(child.func, "id", None) == "unscoped":
                found.add((relative, function))
            visit(child, name)

    visit(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_every_escape_from_the_tenant_scope_is_reviewed():
    uses: set[tuple[str, str]] = set()
    for package in CHECKED:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "seed" in parts or path.name in {"seed.py", "seed_demo.py"}:
                continue
            if path.name == "tenancy.py":
                continue  # where the escape hatch is defined
            uses |= _uses(path)
    assert sorted(uses) == sorted(ALLOWED)
