"""Bulk import and export of people: dry run, errors naming row and column, all or nothing, invitations
only after the commit, the same columns back out."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from coordinator.core import registry
from coordinator.core.spreadsheets import parse_date, read_sheet
from organisations.models import Membership, Person, PlatformRole, Programme, RoleAssignment
from organisations.permissions import actor_for
from organisations.services.people_export import people_export_rows
from organisations.services.people_import import people_import
from tests.factories import UnitFactory, WorkRoleFactory

R = PlatformRole
HEADER = "E-post;Förnamn;Efternamn;Organisation;Enhet;Yrkesroll;Titel;Närmaste chef;Telefon;Språk;Roller\r\n"


def csv_file(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return (header + "".join(line + "\r\n" for line in lines)).encode(encoding)


def run(admin: Person, programme: Programme, data: bytes, **options: Any) -> Any:
    return people_import(actor=actor_for(admin.user), programme=programme, data=data, **options)


@pytest.fixture
def admin(programme: Programme, org_a: Any, org_b: Any, unit_a: Any, work_role: Any, member: Any) -> Person:
    return member(programme, org_b, R.PROGRAMME_ADMIN, R.STAFF)


@pytest.fixture
def scope(in_programme: Callable[..., Any], programme: Programme) -> Iterator[None]:
    with in_programme(programme):
        yield


@pytest.fixture
def invited() -> Iterator[list[list[str]]]:
    calls: list[list[str]] = []

    def handler(actor: Any, programme: Any, people: list[Person]) -> None:
        calls.append(sorted(person.user.email for person in people))

    registry.person_invited.register("test", handler)
    yield calls
    registry.person_invited._entries.pop("test")


VALID = (
    "anna.berg@migrationsverket.se;Anna;Berg;MV;MV / Mottagningsenheten Malmö;case_officer;Handläggare;"
    "lars.holm@migrationsverket.se;040-123 45;sv, ar;staff, line_manager",
    "lars.holm@migrationsverket.se;Lars;Holm;Migrationsverket;Mottagningsenheten Malmö;;Enhetschef;;;sv;"
    "Line manager, staff",
)


@pytest.mark.usefixtures("scope")
def test_import_dry_run_reports_each_row_and_saves_nothing(admin: Person, programme: Programme) -> None:
    people_before = Person.unscoped_objects.count()

    report = run(admin, programme, csv_file(*VALID), dry_run=True)

    assert [(row.row, row.label, row.outcome) for row in report.rows] == [
        (2, "anna.berg@migrationsverket.se", "create"),
        (3, "lars.holm@migrationsverket.se", "create"),
    ]
    assert report.errors == []
    assert report.committed is False
    assert Person.unscoped_objects.count() == people_before


@pytest.mark.usefixtures("scope")
def test_import_creates_people_with_unit_role_and_a_manager_later_in_the_file(
    admin: Person, programme: Programme, unit_a: Any, work_role: Any, org_a: Any
) -> None:
    report = run(admin, programme, csv_file(*VALID), dry_run=False)

    assert report.committed is True
    anna = Person.unscoped_objects.select_related("user", "line_manager__user").get(
        user__username="anna.berg@migrationsverket.se"
    )
    assert (anna.user.first_name, anna.user.last_name, anna.organisation_id, anna.unit_id) == (
        "Anna",
        "Berg",
        org_a.pk,
        unit_a.pk,
    )
    assert (anna.job_title, anna.phone, anna.languages) == ("Handläggare", "040-123 45", ["sv", "ar"])
    assert anna.line_manager.user.email == "lars.holm@migrationsverket.se"
    assert anna.user.has_usable_password() is False
    assert len(anna.calendar_token_hash) == 64
    membership = Membership.unscoped_objects.get(person=anna, programme=programme)
    assert membership.work_role_id == work_role.pk
    assert sorted(
        RoleAssignment.unscoped_objects.filter(membership=membership).values_list("role", flat=True)
    ) == [
        "line_manager",
        "staff",
    ]
    lars = Person.unscoped_objects.get(user__username="lars.holm@migrationsverket.se")
    assert sorted(
        RoleAssignment.unscoped_objects.filter(membership__person=lars).values_list("role", flat=True)
    ) == ["line_manager", "staff"]


@pytest.mark.usefixtures("scope")
def test_import_errors_name_row_and_column_and_nothing_is_saved(admin: Person, programme: Programme) -> None:
    people_before = Person.unscoped_objects.count()
    data = csv_file(
        VALID[0],
        "ny@mv.se;Ny;Person;MV;Okänd enhet;;;chefen@mv.se;;;",
        "anna.berg@migrationsverket.se;Anna;Igen;Okänd myndighet;;nope;;;;xx-long;boss",
        "lars.holm@migrationsverket.se;Lars;Holm;MV;;;;;;;",
    )

    report = run(admin, programme, data, dry_run=False)

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (3, "Enhet", "MV has no unit Okänd enhet."),
        (
            3,
            "Närmaste chef",
            "No one with this email address works in the same organisation (in this file or registered).",
        ),
        (4, "E-post", "The same email address is on row 2."),
        (4, "Organisation", "No organisation of this programme has this name."),
        (4, "Yrkesroll", "This programme has no role at work with this code."),
        (4, "Språk", "Give a list of up to 20 language codes such as sv, da, en, ar."),
        (4, "Roller", "Unknown role: boss"),
    ]
    assert [row.outcome for row in report.rows] == ["create", "error", "error", "create"]
    assert report.committed is False
    assert Person.unscoped_objects.count() == people_before


@pytest.mark.usefixtures("scope")
def test_import_refuses_a_circle_of_line_managers_in_the_file(admin: Person, programme: Programme) -> None:
    data = csv_file(
        "a@mv.se;A;A;MV;;;;b@mv.se;;;",
        "b@mv.se;B;B;MV;;;;c@mv.se;;;",
        "c@mv.se;C;C;MV;;;;a@mv.se;;;",
        "d@mv.se;D;D;MV;;;;a@mv.se;;;",
        "e@mv.se;E;E;MV;;;;e@mv.se;;;",
    )

    report = run(admin, programme, data, dry_run=True)

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "Närmaste chef", "This makes a circle of line managers: a@mv.se → b@mv.se → c@mv.se → a@mv.se."),
        (3, "Närmaste chef", "This makes a circle of line managers: b@mv.se → c@mv.se → a@mv.se → b@mv.se."),
        (4, "Närmaste chef", "This makes a circle of line managers: c@mv.se → a@mv.se → b@mv.se → c@mv.se."),
        (6, "Närmaste chef", "A person cannot be their own line manager."),
    ]


@pytest.mark.usefixtures("scope")
def test_import_refuses_a_circle_through_registered_people(
    admin: Person, programme: Programme, org_a: Any, member: Any
) -> None:
    boss = member(programme, org_a, R.STAFF, user__email="boss@mv.se", user__username="boss")
    member(programme, org_a, R.STAFF, user__email="mid@mv.se", user__username="mid", line_manager=boss)

    report = run(admin, programme, csv_file("boss@mv.se;Boss;B;MV;;;;mid@mv.se;;;"), dry_run=True)

    assert [(e.row, e.message) for e in report.errors] == [
        (2, "This makes a circle of line managers: boss@mv.se → mid@mv.se → boss@mv.se.")
    ]


@pytest.mark.usefixtures("scope")
def test_import_line_manager_in_another_organisation_is_refused(
    admin: Person, programme: Programme, org_b: Any, member: Any
) -> None:
    member(programme, org_b, R.STAFF, user__email="chef@malmo.se", user__username="chef")

    report = run(admin, programme, csv_file("x@mv.se;X;Y;MV;;;;chef@malmo.se;;;"), dry_run=True)

    assert [(e.row, e.column) for e in report.errors] == [(2, "Närmaste chef")]


@pytest.mark.usefixtures("scope")
def test_import_updates_registered_people_and_reports_unchanged(
    admin: Person, programme: Programme, org_a: Any, unit_a: Any, member: Any
) -> None:
    kept = member(
        programme,
        org_a,
        R.STAFF,
        user__email="kept@mv.se",
        user__username="kept",
        user__first_name="K",
        user__last_name="L",
    )
    moved = member(
        programme,
        org_a,
        R.STAFF,
        user__email="moved@mv.se",
        user__username="moved",
        user__first_name="M",
        user__last_name="N",
    )
    data = csv_file(
        "kept@mv.se;K;L;MV;;;Handläggare;;;sv, en;staff",
        "moved@mv.se;M;Nilsson;MV;Mottagningsenheten Malmö;;;kept@mv.se;;;staff",
    )

    report = run(admin, programme, data, dry_run=False)

    assert [row.outcome for row in report.rows] == ["unchanged", "update"]
    moved.refresh_from_db()
    moved.user.refresh_from_db()
    assert (moved.user.last_name, moved.unit_id, moved.line_manager_id) == ("Nilsson", unit_a.pk, kept.pk)


@pytest.mark.usefixtures("scope")
def test_organisation_admin_imports_only_into_their_own_organisation(
    programme: Programme, org_a: Any, org_b: Any, member: Any
) -> None:
    org_admin = member(programme, org_a, R.ORGANISATION_ADMIN, R.STAFF)
    data = csv_file("a@mv.se;A;A;MV;;;;;;;coordinator", "b@malmo.se;B;B;Malmö stad;;;;;;;")

    report = run(org_admin, programme, data, dry_run=True)

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "Roller", "You may not grant these roles."),
        (3, "Organisation", "You may not import people into this organisation."),
    ]


@pytest.mark.usefixtures("scope")
def test_import_refuses_an_address_of_an_account_in_another_programme(
    admin: Person, programme: Programme, outsider: Person
) -> None:
    report = run(admin, programme, csv_file(f"{outsider.user.email};Ny;Namn;MV;;;;;;;"), dry_run=False)

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "E-post", "This email address is already in use by an account you may not change.")
    ]
    outsider.user.refresh_from_db()
    assert outsider.user.first_name != "Ny"


@pytest.mark.usefixtures("scope")
def test_invitations_go_out_only_after_the_commit(
    admin: Person, programme: Programme, invited: list[list[str]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(admin, programme, csv_file(*VALID), dry_run=True, invite=True)
        run(admin, programme, csv_file(VALID[0]), dry_run=False, invite=True)  # refused: unknown manager
    assert (callbacks, invited) == ([], [])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run(admin, programme, csv_file(*VALID), dry_run=False, invite=True)
        assert invited == []  # registered, not yet run: the transaction has not committed
    callbacks[0]()

    assert invited == [["anna.berg@migrationsverket.se", "lars.holm@migrationsverket.se"]]


@pytest.mark.usefixtures("scope")
def test_no_invitations_without_the_invite_option(
    admin: Person, programme: Programme, invited: list[list[str]], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        run(admin, programme, csv_file(*VALID), dry_run=False)
    assert (callbacks, invited) == ([], [])


@pytest.mark.usefixtures("scope")
def test_export_imports_back_unchanged(admin: Person, programme: Programme) -> None:
    run(admin, programme, csv_file(*VALID), dry_run=False)
    headers, rows = people_export_rows(actor=actor_for(admin.user), programme=programme)
    anna = next(row for row in rows if row[0] == "anna.berg@migrationsverket.se")
    assert anna == [
        "anna.berg@migrationsverket.se",
        "Anna",
        "Berg",
        "MV",
        "MV / Mottagningsenheten Malmö",
        "case_officer",
        "Handläggare",
        "lars.holm@migrationsverket.se",
        "040-123 45",
        "sv, ar",
        "",
        "line_manager, staff",
    ]
    from coordinator.core.spreadsheets import write_csv, write_xlsx

    for data in (write_csv(headers, rows), write_xlsx(headers, rows, title="People")):
        report = run(admin, programme, data, dry_run=True)
        assert report.counts() == {"create": 0, "update": 0, "unchanged": len(rows), "error": 0}


@pytest.mark.usefixtures("scope")
def test_import_reads_xlsx_with_numbers_and_windows_1252_csv(admin: Person, programme: Programme) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Email", "First name", "Last name", "Organisation", "Phone"])
    sheet.append(["x@mv.se", "Åsa", "Öberg", "MV", 46701234567])
    out = io.BytesIO()
    book.save(out)

    run(admin, programme, out.getvalue(), dry_run=False)
    legacy = run(admin, programme, csv_file("y@mv.se;Søren;Ærø;MV;;;;;;;", encoding="cp1252"), dry_run=False)

    assert legacy.ok
    assert list(
        Person.unscoped_objects.filter(user__username__in=["x@mv.se", "y@mv.se"])
        .order_by("user__username")
        .values_list("user__first_name", "user__last_name", "phone")
    ) == [("Åsa", "Öberg", "46701234567"), ("Søren", "Ærø", "")]


def test_read_sheet_sniffs_the_separator_and_strips_the_bom() -> None:
    semicolons = read_sheet("\ufeffE-post;Förnamn\r\na@b.se;Ärla\r\n".encode())
    commas = read_sheet(b'Email,First name\na@b.se,"Smith, Jr"\n')

    assert (semicolons.headers, semicolons.rows) == (["E-post", "Förnamn"], [(2, ["a@b.se", "Ärla"])])
    assert (commas.headers, commas.rows) == (["Email", "First name"], [(2, ["a@b.se", "Smith, Jr"])])


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-12-04", dt.date(2026, 12, 4)),
        ("4/12/2026", dt.date(2026, 12, 4)),
        ("04.12.2026", dt.date(2026, 12, 4)),
        ("46360", dt.date(2026, 12, 4)),
        ("46360,5", dt.date(2026, 12, 4)),
        (46360.25, dt.date(2026, 12, 4)),
        (dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC), dt.date(2026, 12, 4)),
    ],
)
def test_parse_date_reads_the_forms_nordic_spreadsheets_use(cell: Any, expected: dt.date) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize("cell", ["4/12/26", "31/02/2026", "12", "tomorrow", ""])
def test_parse_date_refuses_what_is_ambiguous_or_wrong(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_date(cell)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04broken", "This is not a spreadsheet that can be read (CSV or XLSX)."),
        (b"Email;Organisation\r\nx@y.se;MV\r\n", "Required columns are missing: First name, Last name."),
        (b"Email;E-post;First name;Last name;Organisation\r\n", "The column E-post is given twice."),
    ],
)
def test_import_refuses_a_malformed_file(
    admin: Person, programme: Programme, data: bytes, message: str, in_programme: Any
) -> None:
    with in_programme(programme), pytest.raises(ValidationError) as refused:
        run(admin, programme, data)
    assert refused.value.message_dict == {"file": [message]}


@pytest.mark.usefixtures("scope")
def test_import_uses_a_fixed_number_of_queries(
    admin: Person, programme: Programme, django_assert_num_queries: Any
) -> None:
    few = csv_file(*VALID)
    many = csv_file(*VALID, *(f"p{i}@mv.se;P;{i};MV;;;;lars.holm@migrationsverket.se;;;" for i in range(30)))

    actor_for(admin.user)  # read once per request, before the import

    with django_assert_num_queries(15):
        run(admin, programme, few, dry_run=False)
    User.objects.filter(username__endswith="migrationsverket.se").delete()
    with django_assert_num_queries(15):
        run(admin, programme, many, dry_run=False)


def test_unit_path_with_parent_is_resolved(
    admin: Person, programme: Programme, org_a: Any, in_programme: Any
) -> None:
    parent = UnitFactory(organisation=org_a, name="Region Syd")
    UnitFactory(organisation=org_a, name="Asylprövning", parent=parent)
    WorkRoleFactory(programme=programme, code="x")
    with in_programme(programme):
        good = run(admin, programme, csv_file("a@mv.se;A;A;MV;MV / Region Syd / Asylprövning;;;;;;"))
        wrong = run(admin, programme, csv_file("a@mv.se;A;A;MV;MV / Annan / Asylprövning;;;;;;"))
    assert (good.ok, [e.column for e in wrong.errors]) == (True, ["Enhet"])


@pytest.mark.usefixtures("scope")
def test_import_cannot_reach_another_programme_s_organisation_or_units(
    admin: Person, programme: Programme, org_other: Any
) -> None:
    UnitFactory(organisation=org_other, name="Jobcenter Nord")

    report = run(admin, programme, csv_file("x@jc.dk;X;Y;JC;JC / Jobcenter Nord;;;;;;"), dry_run=False)

    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (2, "Organisation", "No organisation of this programme has this name.")
    ]


@pytest.mark.usefixtures("scope")
def test_import_without_a_manager_column_keeps_registered_managers(
    admin: Person, programme: Programme, org_a: Any, member: Any
) -> None:
    boss = member(programme, org_a, R.STAFF, user__email="boss@mv.se", user__username="boss")
    worker = member(
        programme,
        org_a,
        R.STAFF,
        user__email="w@mv.se",
        user__username="w",
        user__first_name="W",
        user__last_name="V",
        line_manager=boss,
    )

    report = run(
        admin,
        programme,
        csv_file("w@mv.se;W;Vik;MV", header="Email;First name;Last name;Organisation\r\n"),
        dry_run=False,
    )

    worker.refresh_from_db()
    assert (
        [row.outcome for row in report.rows],
        worker.line_manager_id,
        User.objects.get(pk=worker.user_id).last_name,
    ) == (["update"], boss.pk, "Vik")


@pytest.mark.usefixtures("scope")
def test_import_adds_a_shared_agency_s_person_to_this_programme(
    admin: Person, programme: Programme, other_programme: Programme, member: Any
) -> None:
    from tests.factories import OrganisationFactory

    red_cross = OrganisationFactory(
        name="Röda korset", short_name="RK", programmes=[programme, other_programme]
    )
    elsewhere = member(
        other_programme,
        red_cross,
        R.STAFF,
        user__email="ali@rk.se",
        user__username="ali",
        job_title="Kurator",
    )

    report = run(admin, programme, csv_file("ali@rk.se;Ali;Said;RK;;;Psykolog;;;;staff"), dry_run=False)

    assert [row.outcome for row in report.rows] == ["update"]
    elsewhere.refresh_from_db()
    assert elsewhere.job_title == "Psykolog"
    assert sorted(
        Membership.unscoped_objects.filter(person=elsewhere).values_list("programme_id", flat=True)
    ) == sorted([programme.pk, other_programme.pk])


@pytest.mark.usefixtures("scope")
def test_imported_people_receive_their_invitation_after_the_commit(
    admin: Person, programme: Programme, django_capture_on_commit_callbacks: Any
) -> None:
    from coordinator.core.models import OutboundEmail
    from organisations.models import Invitation

    with django_capture_on_commit_callbacks(execute=True):
        run(admin, programme, csv_file(*VALID), dry_run=False, invite=True)

    invited = Invitation.unscoped_objects.filter(programme=programme, status=Invitation.Status.PENDING)
    assert sorted(invited.values_list("person__user__email", flat=True)) == [
        "anna.berg@migrationsverket.se",
        "lars.holm@migrationsverket.se",
    ]
    assert sorted(
        OutboundEmail.unscoped_objects.filter(
            to_address__in=["anna.berg@migrationsverket.se", "lars.holm@migrationsverket.se"]
        ).values_list("to_address", flat=True)
    ) == ["anna.berg@migrationsverket.se", "lars.holm@migrationsverket.se"]
