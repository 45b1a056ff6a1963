"""Joint courses in the browser: a staff member enrols and cancels (with the confirmation), a line manager's
approvals page, a provider marks attendance; each page passes axe-core."""

from __future__ import annotations

from tests.browser.conftest import axe_violations


def test_staff_enrols_in_an_open_course_and_cancels_after_confirming(new_page):
    page = new_page("karin.nystrom")
    page.goto("/seminars/")
    assert axe_violations(page) == []
    enrol_link = page.locator("main a.button", has_text="Enrol").first
    round_path = enrol_link.get_attribute("href")
    enrol_link.click()
    page.wait_for_url(f"**{round_path}")
    assert axe_violations(page) == []

    booking = page.locator("section[aria-labelledby=booking]")
    booking.locator("form button[type=submit]", has_text="Enrol").click()
    page.wait_for_load_state()
    status = booking.locator(".tag").first
    assert status.inner_text() in {"Confirmed", "Waiting for line manager approval", "On the waiting list"}
    assert page.locator("ul.messages").is_visible()
    assert axe_violations(page) == []  # the page with its one-time message

    # The booking is listed under "My course bookings".
    page.goto("/seminars/mine/")
    assert page.locator(f"main a[href='{round_path}']").count() >= 1
    assert axe_violations(page) == []

    # Cancelling asks first; dismissing the question keeps the booking.
    page.goto(round_path)
    page.once("dialog", lambda dialog: dialog.dismiss())
    booking.locator("button.danger").click()
    page.wait_for_timeout(300)
    assert booking.locator("button.danger").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    booking.locator("button.danger").click()
    page.wait_for_load_state()
    booking.locator("form button[type=submit]", has_text="Enrol").wait_for()
    assert "Cancelled" in booking.inner_text()


def test_line_manager_sees_the_approvals_page(new_page):
    page = new_page("per.olsson")
    page.goto("/seminars/approvals/")
    assert page.locator("main h1").count() == 1
    assert axe_violations(page) == []


def test_provider_marks_attendance_and_the_matrix_shows_it(new_page):
    page = new_page("sofia.ek")
    page.goto("/seminars/teaching/")
    assert axe_violations(page) == []
    page.locator("main ul a[href$='/attendance/']").first.click()
    page.wait_for_url("**/attendance/")
    assert axe_violations(page) == []

    form = page.locator("main form.card").first
    box = form.locator("input[type=checkbox]").first
    box_id = box.get_attribute("id")
    was_checked = box.is_checked()
    box.set_checked(not was_checked)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f"#{box_id}").is_checked() is (not was_checked)

    # Put it back as it was, so that other tests see the demo data unchanged.
    form = page.locator("main form.card").first
    form.locator(f"#{box_id}").set_checked(was_checked)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(f"#{box_id}").is_checked() is was_checked
