"""The release in the keys of kept pages, answers and feeds: a deploy never serves what older code built."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from coordinator.core import content, release


@pytest.fixture(autouse=True)
def _fresh_release():
    release.release.cache_clear()
    yield
    release.release.cache_clear()


def _project(tmp_path: Path) -> Path:
    (tmp_path / "shadowing" / "__pycache__").mkdir(parents=True)
    (tmp_path / "templates").mkdir()
    (tmp_path / "shadowing" / "views.py").write_text("def view(): return 1\n")
    (tmp_path / "templates" / "page.html").write_text("<p>{{ x }}</p>\n")
    return tmp_path


def test_the_digest_follows_code_templates_and_names_but_not_bytecode_or_other_files(tmp_path):
    base = _project(tmp_path)
    first = release.source_digest(base)
    assert len(first) == 16
    assert release.source_digest(base) == first
    (base / "shadowing" / "__pycache__" / "views.cpython-311.pyc").write_bytes(b"\x00\x01")
    (base / "shadowing" / "notes.md").write_text("not code\n")
    (base / "bench").mkdir()
    (base / "bench" / "load.py").write_text("x = 1\n")
    assert release.source_digest(base) == first
    (base / "shadowing" / "views.py").write_text("def view(): return 2\n")
    changed_code = release.source_digest(base)
    assert changed_code != first
    (base / "templates" / "page.html").write_text("<p>{{ y }}</p>\n")
    changed_template = release.source_digest(base)
    assert changed_template not in {first, changed_code}
    (base / "templates" / "page.html").rename(base / "templates" / "other.html")
    assert release.source_digest(base) != changed_template


def test_a_named_release_is_used_as_it_is():
    with override_settings(RELEASE="2026.12.1-abc123"):
        assert release.release() == "2026.12.1-abc123"


def test_without_a_name_the_release_is_the_digest_of_this_project():
    from django.conf import settings

    with override_settings(RELEASE=""):
        assert release.release() == release.source_digest(Path(settings.BASE_DIR))


def test_a_kept_page_part_is_keyed_by_the_release():
    templates = ("base.html",)
    with override_settings(RELEASE="one"):
        first = content.cache_key("catalogue", 7, 3, templates)
    release.release.cache_clear()
    with override_settings(RELEASE="two"):
        second = content.cache_key("catalogue", 7, 3, templates)
    assert first.endswith(":one")
    assert second.endswith(":two")
    assert first.removesuffix(":one") == second.removesuffix(":two")
