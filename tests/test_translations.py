"""The interface speaks Swedish and Danish: both catalogues are complete (nothing untranslated or fuzzy,
placeholders intact) and up to date with the source (no translatable text missing from them), and a person
gets a message in their own language."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ["sv", "da"]
SOURCES = ["coordinator", "organisations", "shadowing", "seminars", "focusgroups", "templates", "manage.py"]


def _catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete(language):
    catalogue = _catalogue(language)
    assert catalogue.metadata["Language"] == language
    assert catalogue.metadata["Plural-Forms"].startswith("nplurals=2;")
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_compiles_with_matching_placeholders(language):
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt is not installed (apt-get install gettext; .ci/run installs it)")
    path = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", "/dev/null", str(path)], capture_output=True, text=True
    )
    assert (result.returncode, result.stderr) == (0, "")


def test_catalogues_hold_every_translatable_text(tmp_path):
    """makemessages on a copy of the source finds no text that the committed catalogues lack."""
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext is not installed (apt-get install gettext; .ci/run installs it)")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "locale" / "sv" / "LC_MESSAGES").mkdir(parents=True)
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "sv",
            "-e",
            "html,txt,py",
            "--no-location",
            "--verbosity",
            "0",
        ],
        cwd=tmp_path,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "VAR_DIR": str(tmp_path / "var")},
    )
    found = {(e.msgctxt, e.msgid) for e in polib.pofile(str(tmp_path / "locale/sv/LC_MESSAGES/django.po"))}
    for language in LANGUAGES:
        committed = {(e.msgctxt, e.msgid) for e in _catalogue(language) if not e.obsolete}
        assert sorted(found - committed, key=str) == [], f"run `make messages-update` ({language})"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("sv", "Min sida"), ("da", "Min side"), ("en", "My page")],
)
def test_interface_text_in_each_language(language, expected):
    with translation.override(language):
        assert translation.gettext("My page") == expected
