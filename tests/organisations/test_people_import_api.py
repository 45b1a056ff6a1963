"""The people import and export through the API and the pages: who may, what they answer, isolation."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from organisations.models import Person, PlatformRole, Programme

R = PlatformRole
CSV = (
    "Email;First name;Last name;Organisation;Unit;Line manager;Roles\r\n"
    "anna@mv.se;Anna;Berg;MV;Mottagningsenheten Malmö;lars@mv.se;staff\r\n"
    "lars@mv.se;Lars;Holm;MV;;;staff, line_manager\r\n"
).encode()


@pytest.fixture
def admin(programme: Programme, org_a: Any, org_b: Any, unit_a: Any, member: Any) -> Person:
    return member(programme, org_b, R.PROGRAMME_ADMIN, R.STAFF)


def test_api_dry_run_with_a_raw_csv_body_saves_nothing(admin: Person, api: Any, programme: Programme) -> None:
    response = api(admin).post(
        f"/api/v1/people/import/?dry_run=1&programme={programme.pk}", CSV, content_type="text/csv"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["dry_run"], body["committed"], body["counts"]) == (
        True,
        False,
        {"create": 2, "update": 0, "unchanged": 0, "error": 0},
    )
    assert [(row["row"], row["label"], row["outcome"]) for row in body["rows"]] == [
        (2, "anna@mv.se", "create"),
        (3, "lars@mv.se", "create"),
    ]
    assert Person.unscoped_objects.filter(user__username="anna@mv.se").exists() is False


def test_api_import_multipart_commits(admin: Person, api: Any) -> None:
    upload = io.BytesIO(CSV)
    upload.name = "people.csv"

    response = api(admin).post("/api/v1/people/import/", {"file": upload}, format="multipart")

    assert (response.status_code, response.json()["committed"]) == (200, True)
    assert Person.unscoped_objects.get(user__username="anna@mv.se").line_manager.user.email == "lars@mv.se"


def test_api_import_with_errors_is_400_with_row_and_column(admin: Person, api: Any) -> None:
    bad = CSV.replace(b"lars@mv.se;Lars", b"not-an-address;Lars")

    response = api(admin).post("/api/v1/people/import/", bad, content_type="text/csv")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "row": 2,
            "column": "Line manager",
            "message": "No one with this email address works in the same organisation "
            "(in this file or registered).",
        },
        {"row": 3, "column": "Email", "message": "Enter a valid email address."},
    ]
    assert Person.unscoped_objects.filter(user__username="anna@mv.se").exists() is False


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"", "text/csv", {"file": ["The file is empty."]}),
        (
            b"\x00\x01\x02",
            "application/octet-stream",
            {"file": ["This is not a spreadsheet that can be read (CSV or XLSX)."]},
        ),
    ],
)
def test_api_import_refuses_bad_files_with_400(
    admin: Person, api: Any, body: bytes, content_type: str, expected: Any
) -> None:
    response = api(admin).post("/api/v1/people/import/", body, content_type=content_type)

    assert (response.status_code, response.json()) == (400, expected)


def test_api_import_refuses_staff_and_outsiders(
    admin: Person, staff_a: Person, outsider: Person, api: Any, programme: Programme
) -> None:
    staff = api(staff_a).post("/api/v1/people/import/", CSV, content_type="text/csv")
    foreign = api(outsider).post(
        f"/api/v1/people/import/?programme={programme.pk}", CSV, content_type="text/csv"
    )
    anonymous = api(None).post("/api/v1/people/import/", CSV, content_type="text/csv")

    assert (staff.status_code, foreign.status_code, anonymous.status_code) == (403, 400, 401)
    assert foreign.json() == {"programme": ["Choose one of your programmes."]}


def test_api_export_csv_and_xlsx_only_the_programme_s_people(
    admin: Person, staff_a: Person, outsider: Person, api: Any
) -> None:
    csv_response = api(admin).get("/api/v1/people/export/?format=csv")
    xlsx_response = api(admin).get("/api/v1/people/export/?format=xlsx")

    assert csv_response.status_code == 200
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    text = csv_response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "Email;First name;Last name;Organisation;Unit;Work role code;Job title;Line manager;Phone;Languages;"
        "Preferred language;Roles"
    )
    assert staff_a.user.email in text
    assert outsider.user.email not in text
    book = load_workbook(io.BytesIO(xlsx_response.content))
    emails = [row[0] for row in book.active.iter_rows(min_row=2, values_only=True)]
    assert sorted(emails) == sorted([admin.user.email, staff_a.user.email])


def test_api_export_refuses_an_unknown_format_and_staff(admin: Person, staff_a: Person, api: Any) -> None:
    assert api(admin).get("/api/v1/people/export/?format=pdf").status_code == 400
    assert api(staff_a).get("/api/v1/people/export/?format=csv").status_code == 403


def test_export_writes_formulas_as_text(
    admin: Person, api: Any, programme: Programme, org_a: Any, member: Any
) -> None:
    member(programme, org_a, R.STAFF, user__first_name='=HYPERLINK("http://x")', user__email="f@mv.se")

    text = api(admin).get("/api/v1/people/export/?format=csv").content.decode("utf-8-sig")
    book = load_workbook(io.BytesIO(api(admin).get("/api/v1/people/export/?format=xlsx").content))

    assert '\'=HYPERLINK(""http://x"")' in text
    row = next(r for r in book.active.iter_rows(min_row=2) if r[0].value == "f@mv.se")
    assert (row[1].value, row[1].data_type) == ('=HYPERLINK("http://x")', "s")


def test_page_dry_run_then_import_the_same_file(admin: Person, web: Any) -> None:
    client = web(admin)
    upload = io.BytesIO(CSV)
    upload.name = "people.csv"

    checked = client.post("/imports/people/", {"file": upload, "invite": "on"})
    assert checked.status_code == 200
    assert Person.unscoped_objects.filter(user__username="anna@mv.se").exists() is False
    digest = checked.context["digest"]
    assert [row.outcome for row in checked.context["report"].rows] == ["create", "create"]

    imported = client.post("/imports/people/", {"digest": digest})

    assert imported.status_code == 200
    assert imported.context["report"].committed is True
    assert Person.unscoped_objects.filter(user__username="anna@mv.se").exists() is True
    assert client.post("/imports/people/", {"digest": digest}).status_code == 302  # used up


def test_page_shows_errors_with_row_and_column(admin: Person, web: Any) -> None:
    upload = io.BytesIO(CSV.replace(b";MV;Mott", b";XX;Mott"))
    upload.name = "people.csv"

    response = web(admin).post("/imports/people/", {"file": upload})

    assert response.status_code == 400
    assert "Organisation: No organisation of this programme has this name." in response.content.decode()
    assert response.context.get("digest") and 'name="digest"' not in response.content.decode()


def test_pages_are_for_importers_only(admin: Person, staff_a: Person, coordinator: Person, web: Any) -> None:
    assert web(staff_a).get("/imports/").status_code == 403
    assert web(staff_a).get("/imports/people/").status_code == 403
    assert web(coordinator).get("/imports/people/").status_code == 403
    assert web(coordinator).get("/imports/history/seminars.completions/").status_code == 200
    assert web(admin).get("/imports/").status_code == 200
    assert web(admin).get("/imports/history/nope/").status_code == 404
    assert web(None).get("/imports/people/").status_code == 302


def test_page_export_downloads_csv(admin: Person, web: Any) -> None:
    response = web(admin).get("/imports/people/export/?format=csv")

    assert (response.status_code, response["Content-Disposition"]) == (
        200,
        'attachment; filename="people-malmo.csv"',
    )
