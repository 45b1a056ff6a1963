"""The committed front-end bundle of the shared-notes editor is what its pinned sources build, and only the
bundle (not its sources) is served."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "focusgroups" / "static" / "focusgroups" / "editor-src"
BUNDLE = ROOT / "focusgroups" / "static" / "focusgroups" / "notes-editor.js"


def test_committed_editor_bundle_equals_a_fresh_build():
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node and npm are not installed here; `make check-assets` runs this check where they are")
    installed = SOURCE / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (SOURCE / "package-lock.json").stat().st_mtime:
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SOURCE, check=True, capture_output=True)

    result = subprocess.run([node, "build.mjs", "--check"], cwd=SOURCE, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "The committed notes editor bundle equals a fresh build.\n"


def test_bundle_is_collected_and_its_sources_are_not():
    # What collectstatic gathers: every finder's files but those the staticfiles app ignores.
    patterns = apps.get_app_config("staticfiles").ignore_patterns
    listed = {path for finder in finders.get_finders() for path, _storage in finder.list(patterns)}

    assert "focusgroups/notes-editor.js" in listed
    assert [path for path in listed if "editor-src" in path or "node_modules" in path] == []


def test_bundle_needs_no_eval():
    # The pages' Content-Security-Policy allows no eval (the browser tests check inline styles).
    text = BUNDLE.read_text(encoding="utf-8")
    assert text.startswith("/* The focus groups' shared-notes editor. Built from editor-src/")
    assert "eval(" not in text
    assert "new Function" not in text
