from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone, translation

from coordinator.core.tenancy import unscoped
from organisations.access.views import ProgrammeMixin
from organisations.models import Person, PlatformRole
from shadowing import urls as shadowing_urls
from shadowing.models import (
    AvailabilityWindow,
    MatchingRun,
    Placement,
    PlacementEvent,
    Preference,
    Reflection,
    ShadowingRequest,
    Slot,
)
from shadowing.services import matching_runs
from tests.factories import make_member
from tests.factories.shadowing import SlotFactory, WorkplaceFactory, future_weekday, make_request

R = PlatformRole
P = Placement.Status
RS = ShadowingRequest.Status


def url(name, *args):
    return reverse(f"shadowing:{name}", args=args)


def test_every_shadowing_page_is_built_on_the_programme_base():
    for pattern in shadowing_urls.urlpatterns:
        assert isinstance(pattern, URLPattern)
        assert issubclass(pattern.callback.view_class, ProgrammeMixin), pattern.name


# --- Who may open what ----------------------------------------------------------------------------------

STAFF_PAGES = ["workplaces", "mine", "request-create", "approvals"]
HOST_PAGES = ["host", "host-visitors", "workplace-create"]
COORDINATOR_PAGES = ["dashboard", "overview", "pairs"]


@pytest.mark.parametrize("name", STAFF_PAGES + HOST_PAGES + COORDINATOR_PAGES)
def test_anonymous_is_sent_to_sign_in(client, db, name):
    response = client.get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_staff_pages_render(web, shadower, workplace_a, name):
    response = web(shadower).get(url(name))
    assert response.status_code == 200
    assert response.content.count(b"<h1>") == 1


@pytest.mark.parametrize("name", HOST_PAGES + COORDINATOR_PAGES)
def test_staff_gets_403_on_host_and_coordinator_pages(web, shadower, name):
    assert web(shadower).get(url(name)).status_code == 403


@pytest.mark.parametrize("name", COORDINATOR_PAGES)
def test_host_gets_403_on_coordinator_pages_and_coordinator_200(web, host_a, coordinator, name):
    assert web(host_a).get(url(name)).status_code == 403
    assert web(coordinator).get(url(name)).status_code == 200


@pytest.mark.parametrize("name", HOST_PAGES)
def test_host_pages_render_for_host(web, host_a, workplace_a, name):
    response = web(host_a).get(url(name))
    assert response.status_code == 200
    assert response.content.count(b"<h1>") == 1


@pytest.mark.parametrize("name", ["slots", "workplace-edit", "slots-remove-free"])
def test_other_organisations_workplace_answers_404_to_its_host_pages(web, host_b, workplace_a, name):
    assert web(host_b).get(url(name, workplace_a.pk)).status_code == 404


def test_other_programme_objects_answer_404(web, outsider, coordinator, foreign):
    client = web(coordinator)
    assert client.get(url("workplace-detail", foreign["workplace"].pk)).status_code == 404
    assert client.get(url("placement-detail", foreign["placement"].pk)).status_code == 404
    assert client.get(url("request-detail", foreign["request"].pk)).status_code == 404
    assert client.post(url("placement-accept", foreign["placement"].pk)).status_code == 404
    foreign["placement"].refresh_from_db()
    assert foreign["placement"].status == P.AWAITING_HOST


def test_unpublished_workplace_is_hidden_from_other_organisations(web, programme, org_a, host_a, shadower):
    draft = WorkplaceFactory(programme=programme, organisation=org_a, contact=host_a, is_published=False)
    assert web(shadower).get(url("workplace-detail", draft.pk)).status_code == 404
    assert web(host_a).get(url("workplace-detail", draft.pk)).status_code == 200


def test_placement_is_visible_only_to_the_people_concerned(
    web, programme, shadower, staff_a, host_a, host_b, slot_a, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.AWAITING_HOST)
    assert web(shadower).get(url("placement-detail", placement.pk)).status_code == 200
    assert web(host_a).get(url("placement-detail", placement.pk)).status_code == 200
    assert web(staff_a).get(url("placement-detail", placement.pk)).status_code == 404
    assert web(host_b).get(url("placement-detail", placement.pk)).status_code == 404


# --- Staff: requesting a visit --------------------------------------------------------------------------


def _request_data(workplace, **overrides):
    today = timezone.localdate()
    data = {
        "learning_goals": "Förstå mottagandet av asylsökande.",
        "days": "2",
        "consecutive": "on",
        "languages": ["sv"],
        "window_1_starts_on": (today + timedelta(days=7)).isoformat(),
        "window_1_ends_on": (today + timedelta(days=40)).isoformat(),
        "window_2_starts_on": (today + timedelta(days=60)).isoformat(),
        "window_2_ends_on": (today + timedelta(days=70)).isoformat(),
        "preference_1": f"w{workplace.pk}",
        "preference_2": f"o{workplace.organisation_id}",
    }
    data.update(overrides)
    return data


def test_request_a_visit_creates_request_with_windows_and_ranked_preferences(
    web, shadower, workplace_a, topic
):
    response = web(shadower).post(url("request-create"), _request_data(workplace_a, topics=[topic.pk]))

    created = ShadowingRequest.unscoped_objects.get(requester=shadower)
    assert response.status_code == 302
    assert response["Location"] == url("request-detail", created.pk)
    assert (created.status, created.days, created.consecutive, created.languages) == (
        RS.PENDING_APPROVAL,
        2,
        True,
        ["sv"],
    )
    assert AvailabilityWindow.unscoped_objects.filter(request=created).count() == 2
    assert list(
        Preference.unscoped_objects.filter(request=created)
        .order_by("rank")
        .values_list("rank", "workplace_id", "organisation_id")
    ) == [(1, workplace_a.pk, None), (2, None, workplace_a.organisation_id)]


def test_request_form_error_keeps_everything_typed(web, shadower, workplace_a):
    today = timezone.localdate()
    data = _request_data(
        workplace_a,
        learning_goals="Mina mål " + "x" * 5000,
        window_3_starts_on=(today + timedelta(days=90)).isoformat(),
        window_3_ends_on=(today + timedelta(days=80)).isoformat(),
    )

    response = web(shadower).post(url("request-create"), data)

    content = response.content.decode()
    assert response.status_code == 400
    assert ShadowingRequest.unscoped_objects.count() == 0
    assert "Ensure this value has at most 5000 characters" in content
    assert "The window must end on or after its start." in content
    assert data["learning_goals"] in content
    assert f'value="{data["window_2_starts_on"]}"' in content
    assert f'value="{data["window_3_starts_on"]}"' in content
    assert f'<option value="w{workplace_a.pk}" selected>' in content


@pytest.mark.parametrize("number", ["99999999999999999999", "9223372036854775808", "-9223372036854775809"])
def test_request_form_answers_a_topic_number_beyond_the_database_with_a_form_error(
    web, shadower, workplace_a, number
):
    response = web(shadower).post(url("request-create"), _request_data(workplace_a, topics=[number]))

    assert response.status_code == 400
    refused = f"Select a valid choice. {number} is not one of the available choices."
    assert refused in response.content.decode()
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_request_form_never_offers_own_organisation(web, shadower, workplace_a, workplace_b):
    content = web(shadower).get(url("request-create")).content.decode()
    assert f'value="w{workplace_a.pk}"' in content
    assert f'value="w{workplace_b.pk}"' not in content
    assert f'value="o{workplace_b.organisation_id}"' not in content


def test_request_form_offers_only_organisations_with_a_published_workplace(
    web, programme, shadower, workplace_a
):
    from tests.factories import OrganisationFactory

    without = OrganisationFactory(name="Byrå utan arbetsplats", programmes=[programme])
    content = web(shadower).get(url("request-create")).content.decode()
    assert f'value="o{workplace_a.organisation_id}"' in content
    assert f'value="o{without.pk}"' not in content
    workplace_a.is_published = False
    workplace_a.save(update_fields=["is_published"])
    content = web(shadower).get(url("request-create")).content.decode()
    assert f'value="o{workplace_a.organisation_id}"' not in content


def test_own_organisation_preference_typed_by_hand_is_refused(web, shadower, workplace_b):
    response = web(shadower).post(url("request-create"), _request_data(workplace_b))
    assert response.status_code == 400
    assert ShadowingRequest.unscoped_objects.count() == 0


def test_requester_withdraws_after_a_confirmation_page(web, programme, shadower, staff_a):
    request = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    page = web(shadower).get(url("request-withdraw", request.pk))
    assert page.status_code == 200
    assert b"Withdraw the request" in page.content
    assert web(staff_a).post(url("request-withdraw", request.pk)).status_code == 404

    response = web(shadower).post(url("request-withdraw", request.pk))

    request.refresh_from_db()
    assert (response.status_code, request.status) == (302, RS.WITHDRAWN)


# --- Line managers --------------------------------------------------------------------------------------


def test_line_manager_approves_and_declines_from_approvals_page(web, programme, shadower, manager_b, staff_b):
    first = make_request(programme, shadower, status=RS.PENDING_APPROVAL)
    second = make_request(programme, shadower, status=RS.PENDING_APPROVAL)

    page = web(manager_b).get(url("approvals"))
    approved = web(manager_b).post(url("request-approve", first.pk), {"note": "Lycka till"})
    declined = web(manager_b).post(url("request-decline", second.pk), {"note": "Inte nu"})
    stranger = web(staff_b).post(url("request-approve", second.pk))

    first.refresh_from_db()
    second.refresh_from_db()
    assert page.content.count(b'class="card request-card"') == 2
    assert (approved.status_code, first.status, first.approved_by_id) == (302, RS.APPROVED, manager_b.pk)
    assert (declined.status_code, second.status, second.decision_note) == (302, RS.DECLINED, "Inte nu")
    assert stranger.status_code == 404


# --- Hosts ----------------------------------------------------------------------------------------------


def test_host_creates_a_workplace_and_form_errors_keep_input(web, host_a, topic):
    data = {
        "name": "Prövningsenheten",
        "street_address": "Carlsgatan 4",
        "postal_code": "211 20",
        "city": "Malmö",
        "description": "Du följer en beslutsfattare.",
        "topics": [topic.pk],
        "languages": ["sv", "en"],
        "max_visitors_per_day": "11",
        "confidentiality_terms": "Tystnadsplikt.",
        "contact": host_a.pk,
    }
    bad = web(host_a).post(url("workplace-create"), data)
    assert bad.status_code == 400
    assert b"Ensure this value is less than or equal to 10." in bad.content
    assert b'value="Pr\xc3\xb6vningsenheten"' in bad.content

    good = web(host_a).post(url("workplace-create"), {**data, "max_visitors_per_day": "2"})

    created = host_a.organisation.workplaces.model.unscoped_objects.get(name="Prövningsenheten")
    assert good.status_code == 302
    assert (created.is_published, created.max_visitors_per_day, created.languages) == (False, 2, ["sv", "en"])
    publish = web(host_a).post(url("workplace-publish", created.pk), {"action": "publish"})
    created.refresh_from_db()
    assert (publish.status_code, created.is_published) == (302, True)


def test_bulk_slots_every_tuesday_and_thursday(web, host_a, workplace_a):
    start = future_weekday(0, weeks_ahead=1)  # a Monday
    data = {
        "weekdays": ["1", "3"],
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=13)).isoformat(),
        "starts_at": "09:00",
        "ends_at": "15:00",
        "capacity": "2",
        "notes": "",
    }
    response = web(host_a).post(url("slots", workplace_a.pk), data)

    slots = list(Slot.unscoped_objects.filter(workplace=workplace_a).order_by("date"))
    assert response.status_code == 302
    assert [s.date.weekday() for s in slots] == [1, 3, 1, 3]
    assert {s.capacity for s in slots} == {2}


def test_bulk_slots_error_keeps_input(web, host_a, workplace_a):
    start = future_weekday(0)
    data = {
        "weekdays": ["1"],
        "starts_on": start.isoformat(),
        "ends_on": (start - timedelta(days=3)).isoformat(),
        "starts_at": "09:00",
        "ends_at": "15:00",
        "capacity": "2",
        "notes": "Ta med legitimation",
    }
    response = web(host_a).post(url("slots", workplace_a.pk), data)

    assert response.status_code == 400
    assert b"The last day must be on or after the first." in response.content
    assert b'value="Ta med legitimation"' in response.content
    assert Slot.unscoped_objects.count() == 0


def test_remove_free_slots_shows_how_many_then_removes(
    web, host_a, workplace_a, programme, shadower, make_placement
):
    monday = future_weekday(0)
    for offset in (0, 1, 2):
        SlotFactory(workplace=workplace_a, date=monday + timedelta(days=offset))
    booked = SlotFactory(workplace=workplace_a, date=monday + timedelta(days=3))
    make_placement(make_request(programme, shadower), [booked], P.CONFIRMED)
    period = {"remove-starts_on": monday.isoformat(), "remove-ends_on": booked.date.isoformat()}

    page = web(host_a).get(url("slots-remove-free", workplace_a.pk), period)
    assert page.status_code == 200
    assert b"3 free coming slots between" in page.content
    assert Slot.unscoped_objects.count() == 4

    response = web(host_a).post(url("slots-remove-free", workplace_a.pk), period)

    assert response.status_code == 302
    assert list(Slot.unscoped_objects.values_list("pk", flat=True)) == [booked.pk]


def test_slot_pages_name_how_many_were_created_and_removed(web, host_a, workplace_a):
    start = future_weekday(0, weeks_ahead=1)  # a Monday
    client = web(host_a)
    data = {
        "weekdays": ["1", "3"],
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=6)).isoformat(),
        "starts_at": "09:00",
        "ends_at": "15:00",
        "capacity": "1",
        "notes": "",
    }
    created = client.post(url("slots", workplace_a.pk), data, follow=True)
    period = {
        "remove-starts_on": start.isoformat(),
        "remove-ends_on": (start + timedelta(days=6)).isoformat(),
    }
    removed = client.post(url("slots-remove-free", workplace_a.pk), period, follow=True)

    assert b"2 slots created." in created.content
    assert b"2 free slots removed." in removed.content


def test_remove_free_slots_with_a_mistyped_period_answers_400_and_removes_nothing(web, host_a, slot_a):
    period = {"remove-starts_on": "2030-02-10", "remove-ends_on": "2030-02-01"}
    page = web(host_a).get(url("slots-remove-free", slot_a.workplace_id), period)

    assert page.status_code == 400
    assert b"Remove them" not in page.content
    assert Slot.unscoped_objects.count() == 1


def test_deleting_a_booked_slot_says_its_visitors_are_told_and_rematched(
    web, host_a, programme, shadower, slot_a, make_placement
):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.CONFIRMED)

    page = web(host_a).get(url("slot-delete", slot_a.pk))
    assert page.status_code == 200
    content = page.content.decode()
    assert shadower.full_name in content
    assert "they are told, and their request goes back to the coordinator to be matched again" in content

    response = web(host_a).post(url("slot-delete", slot_a.pk))

    placement.refresh_from_db()
    assert response.status_code == 302
    assert placement.status == P.CANCELLED
    assert Slot.unscoped_objects.filter(pk=slot_a.pk).count() == 0
    assert ShadowingRequest.unscoped_objects.get(pk=placement.request_id).status == RS.APPROVED


def test_host_accepts_and_declines_with_reason(
    web, programme, shadower, staff_b, host_a, workplace_a, make_placement
):
    first = make_placement(
        make_request(programme, shadower), [SlotFactory(workplace=workplace_a)], P.AWAITING_HOST
    )
    second = make_placement(
        make_request(programme, staff_b),
        [SlotFactory(workplace=workplace_a, date=future_weekday(3))],
        P.AWAITING_HOST,
    )

    page = web(host_a).get(url("host-visitors"))
    assert page.content.count(b'class="card visitor-card"') == 2
    accepted = web(host_a).post(url("placement-accept", first.pk))
    no_reason = web(host_a).post(url("placement-decline", second.pk), {"decline-reason": ""})
    second.refresh_from_db()
    assert (no_reason.status_code, second.status) == (302, P.AWAITING_HOST)
    declined = web(host_a).post(url("placement-decline", second.pk), {"decline-reason": "Fullt den dagen"})

    first.refresh_from_db()
    second.refresh_from_db()
    assert (accepted.status_code, first.status) == (302, P.HOST_ACCEPTED)
    assert (declined.status_code, second.status, second.decline_reason) == (
        302,
        P.HOST_DECLINED,
        "Fullt den dagen",
    )
    assert list(
        PlacementEvent.unscoped_objects.filter(placement=first)
        .order_by("pk")
        .values_list("to_status", "actor_id")
    )[-1] == (P.HOST_ACCEPTED, host_a.pk)


def test_shadower_must_tick_the_confidentiality_undertaking(web, programme, shadower, slot_a, make_placement):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.HOST_ACCEPTED)

    refused = web(shadower).post(url("placement-confirm", placement.pk), {})
    placement.refresh_from_db()
    assert refused.status_code == 400
    assert b"You must accept the confidentiality terms to confirm the visit." in refused.content
    assert placement.status == P.HOST_ACCEPTED

    response = web(shadower).post(url("placement-confirm", placement.pk), {"accept_confidentiality": "on"})

    placement.refresh_from_db()
    assert response.status_code == 302
    assert placement.status == P.CONFIRMED
    assert placement.confidentiality_accepted_at is not None
    page = web(shadower).get(url("placement-detail", placement.pk)).content.decode()
    assert shadower.full_name in page and "Confirmed" in page


def test_cancel_asks_for_a_reason_on_a_confirmation_page(web, programme, shadower, slot_a, make_placement):
    placement = make_placement(make_request(programme, shadower), [slot_a], P.CONFIRMED)

    page = web(shadower).get(url("placement-cancel", placement.pk))
    empty = web(shadower).post(url("placement-cancel", placement.pk), {"reason": ""})
    done = web(shadower).post(url("placement-cancel", placement.pk), {"reason": "Sjuk"})

    placement.refresh_from_db()
    assert page.status_code == 200 and b"Cancel the visit" in page.content
    assert empty.status_code == 400
    assert (done.status_code, placement.status, placement.cancel_reason) == (302, P.CANCELLED, "Sjuk")


def test_reflection_after_the_visit_and_errors_keep_input(
    web, programme, shadower, workplace_a, make_placement
):
    past = SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=3))
    placement = make_placement(make_request(programme, shadower), [past], P.VISITED)

    bad = web(shadower).post(url("reflection", placement.pk), {"learned": "Mycket", "how_used": ""})
    assert bad.status_code == 400
    assert b"\nMycket</textarea>" in bad.content
    good = web(shadower).post(
        url("reflection", placement.pk), {"learned": "Mycket", "how_used": "I samtalen", "how_shared": "APT"}
    )

    placement.refresh_from_db()
    assert good.status_code == 302
    assert placement.status == P.REFLECTED
    assert Reflection.unscoped_objects.get(placement=placement).how_used == "I samtalen"


# --- Coordinators ---------------------------------------------------------------------------------------


def test_coordinator_runs_reviews_and_confirms_a_match(
    web, programme, coordinator, shadower, workplace_a, slot_a
):
    request = make_request(programme, shadower, preferences=[workplace_a])

    response = web(coordinator).post(url("run-create"), {"fairness_weight": ""})

    run = MatchingRun.unscoped_objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("run-detail", run.pk)
    page = web(coordinator).get(url("run-detail", run.pk)).content.decode()
    assert "Highest score any proposal could reach" in page and shadower.full_name in page
    assert "solved in blocks of time" not in page
    assert "worked out over every free day at every workplace each person could visit" in page
    assert run.placed == 1

    confirmed = web(coordinator).post(url("run-confirm", run.pk))

    run.refresh_from_db()
    assert (confirmed.status_code, run.status) == (302, MatchingRun.Status.CONFIRMED)
    assert Placement.unscoped_objects.get(request=request).status == P.AWAITING_HOST


def test_run_form_error_is_shown_on_the_dashboard(web, coordinator):
    response = web(coordinator).post(url("run-create"), {"fairness_weight": "abc"})
    assert response.status_code == 400
    assert b'value="abc"' in response.content
    assert MatchingRun.unscoped_objects.count() == 0


def test_overview_matrix_counts_visits_between_organisations(
    web, programme, coordinator, shadower, staff_b, workplace_a, make_placement
):
    for weekday, person in enumerate((shadower, staff_b)):
        slot = SlotFactory(workplace=workplace_a, date=future_weekday(weekday))
        make_placement(make_request(programme, person), [slot], P.CONFIRMED)

    response = web(coordinator).get(url("overview"))

    assert response.status_code == 200
    matrix = response.context["matrix"]
    rows = {o.name: counts for o, counts, _total in matrix}
    names = [o.name for o in response.context["organisations"]]
    assert rows["Malmö stad"][names.index("Migrationsverket")] == 2
    assert response.context["visit_total"] == 2


def test_pairing_two_requests(web, programme, coordinator, shadower, staff_a, workplace_a, workplace_b):
    first = make_request(programme, shadower, preferences=[workplace_a.organisation])
    second = make_request(programme, staff_a, preferences=[workplace_b.organisation])

    response = web(coordinator).post(url("pairs"), {"first": first.pk, "second": second.pk})

    first.refresh_from_db()
    second.refresh_from_db()
    assert response.status_code == 302
    assert (first.partner_id, second.partner_id) == (second.pk, first.pk)


def _card(content: str, workplace_id: int) -> str:
    start = content.index(f'<article class="card workplace-card" aria-labelledby="wp-{workplace_id}">')
    return content[start : content.index("</article>", start) + len("</article>")]


def test_workplace_card_shows_what_a_visitor_and_its_host_need(
    web, programme, org_a, host_a, shadower, in_programme
):
    from shadowing.models import Topic

    with in_programme(programme):
        topics = [Topic.objects.create(programme=programme, name=name) for name in ("Mottagning", "Ärenden")]
    workplace = WorkplaceFactory(
        programme=programme, organisation=org_a, contact=host_a, name="Kontor <Väst> & co", topics=topics
    )
    SlotFactory(workplace=workplace)
    SlotFactory(workplace=workplace, date=future_weekday(2, weeks_ahead=3))
    pk = workplace.pk
    head = (
        f'<article class="card workplace-card" aria-labelledby="wp-{pk}">\n'
        f'  <h2 id="wp-{pk}"><a href="/shadowing/workplaces/{pk}/">Kontor &lt;Väst&gt; &amp; co</a></h2>\n'
        f'  <p class="meta">{org_a.name} · Storgatan 1, 211 20 Malmö</p>\n'
        "  <p>Du följer handläggarnas arbete under en dag.</p>\n"
        '  <dl class="facts">\n'
        "    <dt>Topics</dt><dd>Mottagning, Ärenden</dd>\n"
        "    <dt>Languages</dt><dd>Swedish and English</dd>\n"
        "    <dt>Free days</dt><dd>2 coming slots with a free place</dd>\n"
        "  </dl>\n"
        '  <p class="actions">\n'
    )

    visitor = web(shadower).get(url("workplaces")).content.decode()
    host = web(host_a).get(url("workplaces")).content.decode()

    hidden = '<span class="visually-hidden"> Kontor &lt;Väst&gt; &amp; co</span>'
    ask = f'<a class="button small" href="/shadowing/requests/new/?workplace={pk}">Ask to visit{hidden}</a>'
    edit = f'<a class="button small secondary" href="/shadowing/host/workplaces/{pk}/edit/">Edit{hidden}</a>'
    assert _card(visitor, pk) == (head + f"    {ask}\n" + "    \n" + "  </p>\n</article>")
    assert _card(host, pk) == (
        head
        + '    <span class="tag">Your own organisation</span>\n    \n'
        + f"    {edit}\n"
        + "  </p>\n</article>"
    )


# --- Query counts stay fixed as data grows ---------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_workplace_list_query_count(web, programme, org_a, host_a, shadower, n, django_assert_num_queries):
    for i in range(n):
        workplace = WorkplaceFactory(
            programme=programme, organisation=org_a, contact=host_a, name=f"Plats {i}"
        )
        SlotFactory(workplace=workplace)
    client = web(shadower)

    # Session, user, identity; the free days with the content stamp in one; then the cards, their topics,
    # the filter's organisations and topics for the cache.
    with django_assert_num_queries(8):
        cold = client.get(url("workplaces"))
    with django_assert_num_queries(4):
        warm = client.get(url("workplaces"))

    assert cold.content.count(b'class="card workplace-card"') == n
    assert warm.content.count(b'class="card workplace-card"') == n


@pytest.mark.parametrize("n", [1, 3])
def test_mine_query_count(
    web, programme, shadower, workplace_a, make_placement, n, django_assert_num_queries
):
    for i in range(n):
        request = make_request(programme, shadower, preferences=[workplace_a])
        make_placement(request, [SlotFactory(workplace=workplace_a, date=future_weekday(i % 5))], P.CONFIRMED)
        make_request(programme, shadower, status=RS.PENDING_APPROVAL, preferences=[workplace_a])
    client = web(shadower)
    client.get(url("mine"))

    with django_assert_num_queries(10):
        response = client.get(url("mine"))

    assert response.status_code == 200
    assert len(response.context["placements"]) == n


@pytest.mark.parametrize("n", [1, 3])
def test_host_visitors_query_count(
    web, programme, host_a, workplace_a, org_b, make_placement, n, django_assert_num_queries
):
    for i in range(n):
        person = make_member(programme, org_b, R.STAFF)
        make_placement(
            make_request(programme, person),
            [SlotFactory(workplace=workplace_a, date=future_weekday(i % 5))],
            P.AWAITING_HOST,
        )
    client = web(host_a)
    client.get(url("host-visitors"))

    with django_assert_num_queries(6):
        response = client.get(url("host-visitors"))

    assert response.content.count(b'class="card visitor-card"') == n


@pytest.mark.parametrize("n", [1, 3])
def test_approvals_query_count(
    web, programme, org_a, org_b, unit_b, manager_b, workplace_a, topic, n, django_assert_num_queries
):
    for _i in range(n):
        person = make_member(programme, org_b, R.STAFF, unit=unit_b, line_manager=manager_b)
        with unscoped():
            make_request(
                programme,
                person,
                status=RS.PENDING_APPROVAL,
                preferences=[workplace_a, org_a],
                topics=[topic],
            )
    client = web(manager_b)
    client.get(url("approvals"))

    # The session and the identity (person, memberships, unread count); the first page of waiting requests
    # with their number, topics, windows and wishes (each wish with its workplace or organisation) in one
    # query; the decided ones.
    with django_assert_num_queries(5):
        response = client.get(url("approvals"))

    assert response.content.count(b'class="card request-card"') == n
    assert response.content.count(b"1. Mottagningsenheten<br>2. Migrationsverket") == n
    assert response.content.count(b"<dd>Asylprocessen</dd>") == n


def test_run_page_lists_unplaced_requests_with_their_reason(web, programme, coordinator, shadower, staff_b):
    request = make_request(programme, shadower)  # no workplace at all: cannot be placed
    web(coordinator).post(url("run-create"), {"fairness_weight": ""})
    run = MatchingRun.unscoped_objects.get()

    page = web(coordinator).get(url("run-detail", run.pk)).content.decode()

    assert (run.placed, list(run.unplaced)) == (0, [str(request.pk)])
    reason = matching_runs.reason_text(run.unplaced[str(request.pk)])
    assert f"{shadower.full_name}</a> (Malmö stad): {reason}</li>" in page


# --- Start page, my page --------------------------------------------------------------------------------


def test_start_page_panels_per_role(web, programme, shadower, manager_b, host_a, coordinator, workplace_a):
    make_request(programme, shadower, status=RS.PENDING_APPROVAL)

    staff_home = web(shadower).get("/").content.decode()
    manager_home = web(manager_b).get("/").content.decode()
    host_home = web(host_a).get("/").content.decode()
    coordinator_home = web(coordinator).get("/").content.decode()

    assert 'id="panel-shadowing-mine"' in staff_home
    assert "1 request waits for your line manager." in staff_home
    assert 'id="panel-shadowing-approvals"' in manager_home and shadower.full_name in manager_home
    assert 'id="panel-shadowing-host"' in host_home and workplace_a.name in host_home
    assert 'id="panel-shadowing-coordinator"' in coordinator_home
    assert 'id="panel-shadowing-coordinator"' not in staff_home


def test_my_page_history_shows_the_visit_and_what_was_learned(
    web, programme, shadower, workplace_a, make_placement
):
    past = SlotFactory(workplace=workplace_a, date=timezone.localdate() - timedelta(days=5))
    placement = make_placement(make_request(programme, shadower), [past], P.REFLECTED)
    Reflection.unscoped_objects.create(
        placement=placement, learned="Asyltidens underlag", how_used="I samtalen"
    )

    page = web(shadower).get("/me/").content.decode()

    assert workplace_a.name in page
    assert "Learned: Asyltidens underlag" in page


def test_run_solved_in_blocks_says_where_its_bound_comes_from(web, programme, coordinator):
    run = MatchingRun.unscoped_objects.create(
        programme=programme,
        created_by=coordinator,
        method="lp-rounding-5-blocks",
        objective=990.0,
        bound=1000.0,
        gap=0.01,
    )

    page = web(coordinator).get(url("run-detail", run.pk)).content.decode()

    assert "solved in blocks of time" in page
    assert "the highest score shown is still one no proposal can beat" in page


def test_why_a_request_was_left_out_is_shown_in_each_readers_language(web, programme, shadower, coordinator):
    request = make_request(programme, shadower)
    ShadowingRequest.unscoped_objects.filter(pk=request.pk).update(unplaced_code="no_slot_in_window")
    english = "No workplace has a free visit day inside your availability windows."
    with translation.override("da"):
        danish = translation.gettext(english)
    assert danish != english

    shown_in_english = web(shadower).get(url("mine")).content.decode()
    type(shadower).unscoped_objects.filter(pk=shadower.pk).update(preferred_language="da")
    shown_in_danish = web(shadower).get(url("mine")).content.decode()

    assert english in shown_in_english and danish not in shown_in_english
    assert danish in shown_in_danish and english not in shown_in_danish


@pytest.mark.parametrize(
    ("language", "gap", "sentence"),
    [
        ("sv", "0,31\u00a0%", "Förslaget ligger inom 0,31\u00a0% från det bästa möjliga"),
        ("da", "0,31\u00a0%", "Forslaget ligger inden for 0,31\u00a0% af det bedst mulige"),
        ("en", "0.31%", "This proposal is within 0.31% of the best possible"),
    ],
)
def test_match_page_says_in_plain_words_how_good_the_proposal_is(
    web, programme, coordinator, workplace_a, shadower, language, gap, sentence
):
    make_request(programme, shadower, preferences=[workplace_a])
    web(coordinator).post(url("run-create"), {"fairness_weight": ""})
    run = MatchingRun.unscoped_objects.get()
    MatchingRun.unscoped_objects.filter(pk=run.pk).update(gap=0.0031, placed=3, greedy_placed=2)
    Person.unscoped_objects.filter(pk=coordinator.pk).update(preferred_language=language)
    page = web(coordinator).get(url("run-detail", run.pk)).content.decode()
    assert f'<dd id="run-gap">{gap}</dd>' in page
    assert sentence in page
    for jargon in ("LP relaxation", "LP-relaxation", "Målfunktion", "Objective"):
        assert jargon not in page.split("<details")[0]
