"""`make screenshots`: the main pages at desktop and phone width, for a reviewer to look at.

Skipped in `make test-browser` unless SCREENSHOTS_DIR is set (the make target sets it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

# (file name, demo user, path)
PAGES = [
    ("landing", None, "/"),
    ("login", None, "/login/"),
    ("start-staff", "amina.hassan", "/"),
    ("start-coordinator", "johan.bergstrom", "/"),
    ("start-line-manager", "per.olsson", "/"),
    ("start-host", "karin.nystrom", "/"),
    ("start-provider", "sofia.ek", "/"),
    ("start-convener", "lina.bjork", "/"),
    ("my-page", "amina.hassan", "/me/"),
    ("settings", "amina.hassan", "/me/settings/"),
    ("notifications", "amina.hassan", "/notifications/"),
    ("organisations", "johan.bergstrom", "/organisations/"),
    ("shadowing-workplaces", "amina.hassan", "/shadowing/"),
    ("shadowing-request-form", "amina.hassan", "/shadowing/requests/new/"),
    ("shadowing-mine", "amina.hassan", "/shadowing/mine/"),
    ("shadowing-approvals", "per.olsson", "/shadowing/approvals/"),
    ("shadowing-host", "karin.nystrom", "/shadowing/host/"),
    ("shadowing-host-visitors", "per.olsson", "/shadowing/host/visitors/"),
    ("shadowing-matching", "johan.bergstrom", "/shadowing/coordinate/"),
    ("shadowing-overview", "johan.bergstrom", "/shadowing/coordinate/overview/"),
    ("start-danish-programme", "mette.sorensen", "/"),
    ("courses", "amina.hassan", "/seminars/"),
    ("my-bookings", "amina.hassan", "/seminars/mine/"),
    ("course-approvals", "per.olsson", "/seminars/approvals/"),
    ("teaching", "sofia.ek", "/seminars/teaching/"),
    ("course-admin", "johan.bergstrom", "/seminars/manage/"),
    ("course-demand", "johan.bergstrom", "/seminars/manage/demand/"),
    ("course-report", "johan.bergstrom", "/seminars/manage/report/"),
    ("barometer", "johan.bergstrom", "/barometer/"),
    ("focusgroups", "johan.bergstrom", "/focusgroups/"),
    ("focusgroup", "lina.bjork", "/focusgroups/1/"),
    ("focusgroup-notes", "amina.hassan", "/focusgroups/notes/1/"),
    ("focusgroup-note-history", "amina.hassan", "/focusgroups/notes/1/history/?a=1&b=3"),
    ("focusgroup-actions", "amina.hassan", "/focusgroups/actions/mine/"),
    ("focusgroup-meeting", "lina.bjork", "/focusgroups/meetings/1/"),
    ("glossary", "amina.hassan", "/focusgroups/glossary/"),
    ("glossary-concept", "amina.hassan", "/focusgroups/glossary/1/"),
    ("my-data", "amina.hassan", "/me/data/"),
    ("shadowing-pairs", "johan.bergstrom", "/shadowing/coordinate/pairs/"),
    ("audit-trail", "eva.lindgren", "/organisations/audit/"),
    ("programme-settings", "eva.lindgren", "/organisations/programme/"),
    ("programme-checklist", "eva.lindgren", "/organisations/programme/checklist/"),
    ("work-roles", "eva.lindgren", "/organisations/work-roles/"),
    ("people-invitations", "eva.lindgren", "/organisations/people/invitations/"),
    ("imports", "eva.lindgren", "/imports/"),
    ("focusgroup-group-notes", "lina.bjork", "/focusgroups/1/notes/"),
    ("focusgroup-group-actions", "lina.bjork", "/focusgroups/1/actions/"),
]
# Pages of one object: (file name, demo user, a page that links to one, the address pattern of the link).
LINKED_PAGES = [
    ("organisation", "johan.bergstrom", "/organisations/", r"^/organisations/\d+/$"),
    ("shadowing-request", "amina.hassan", "/shadowing/mine/", r"^/shadowing/requests/\d+/$"),
    ("shadowing-placement", "amina.hassan", "/shadowing/mine/", r"^/shadowing/placements/\d+/$"),
    ("shadowing-run", "johan.bergstrom", "/shadowing/coordinate/", r"^/shadowing/coordinate/runs/\d+/$"),
    ("shadowing-visit-days", "karin.nystrom", "/shadowing/host/", r"^/shadowing/host/workplaces/\d+/slots/$"),
    ("course", "amina.hassan", "/seminars/", r"^/seminars/courses/\d+/$"),
    ("course-round", "amina.hassan", "/seminars/", r"^/seminars/rounds/\d+/$"),
    ("round-admin", "johan.bergstrom", "/seminars/manage/", r"^/seminars/manage/rounds/\d+/$"),
    ("round-costs", "johan.bergstrom", "/seminars/manage/report/", r"^/seminars/manage/rounds/\d+/costs/$"),
    ("attendance", "sofia.ek", "/seminars/teaching/", r"^/seminars/rounds/\d+/attendance/$"),
]
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


LANGUAGES = ("sv", "da", "en")
LOCALES = {"sv": "sv-SE", "da": "da-DK", "en": "en-GB"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize(("name", "username", "path"), PAGES)
def test_screenshot(new_page, name, username, path, size, language):
    target = os.environ.get("SCREENSHOTS_DIR")
    if not target:
        pytest.skip("set SCREENSHOTS_DIR (make screenshots) to write screenshots")
    width, height = SIZES[size]
    # Signed in, the switch sets the language; signed out, the browser's language decides.
    page = new_page(username, width=width, height=height, language=language, locale=LOCALES[language])
    response = page.goto(path)
    assert response is not None and response.status == 200
    Path(target, language).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(target) / language / f"{name}-{size}.png"), full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize(("name", "username", "via", "pattern"), LINKED_PAGES)
def test_screenshot_of_one_object(new_page, name, username, via, pattern, size, language):
    target = os.environ.get("SCREENSHOTS_DIR")
    if not target:
        pytest.skip("set SCREENSHOTS_DIR (make screenshots) to write screenshots")
    width, height = SIZES[size]
    page = new_page(username, width=width, height=height, language=language, locale=LOCALES[language])
    page.goto(via)
    paths = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => new URL(a.href).pathname)")
    path = next((p for p in paths if re.search(pattern, p)), None)
    assert path is not None, f"{via} links no page like {pattern}"
    response = page.goto(path)
    assert response is not None and response.status == 200
    Path(target, language).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(target) / language / f"{name}-{size}.png"), full_page=True)
