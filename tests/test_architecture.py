"""The shape of the code, as docs/architecture.md states it: every use of the tenancy escape hatch is on a
short reviewed list, every app follows the one documented layout, no module grows past what a reader takes
in whole, and explicit ``Any`` does not grow. (The import layers are checked by ``lint-imports``.)"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("coordinator", "organisations", "shadowing", "seminars", "focusgroups")


def _sources() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or "seed" in relative.parts or path.name == "seed.py":
                continue
            files.append(path)
    return files


def _enclosing_functions(tree: ast.AST) -> dict[ast.AST, str]:
    """Each node of a module mapped to the dotted name of the function or class around it."""
    owner: dict[ast.AST, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            child_name = name
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                child_name = f"{name}.{child.name}" if name else child.name
            owner[child] = child_name
            visit(child, child_name)

    visit(tree, "")
    return owner


def escape_hatch_uses() -> dict[str, int]:
    """``module:function`` → how many times it reads ``unscoped_objects``, enters ``unscoped()`` or opens a
    cursor for plain SQL (which no scope filters)."""
    uses: dict[str, int] = {}
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        owner = _enclosing_functions(tree)
        parts = path.relative_to(ROOT).with_suffix("").parts
        # A package's own module is named as it is imported (``organisations.selectors``).
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(tree):
            hit = (isinstance(node, ast.Attribute) and node.attr == "unscoped_objects") or (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("unscoped", "cursor")
            )
            if hit:
                key = f"{module}:{owner.get(node, '') or '<module>'}"
                uses[key] = uses.get(key, 0) + 1
    return uses


# Every place outside tests, demo data and migrations that sees past the tenant scope, and why it may.
# A new use fails this test until it is reviewed and listed here; a use that goes away must leave the list.
ESCAPE_HATCH: dict[str, str] = {
    # Shared services: work outside any request.
    "coordinator.core.jobs:_run": "periodic jobs sweep every programme",
    "coordinator.core.notifications:after_commit": "outbox: a task after the commit, when the scope is gone",
    "coordinator.core.outbox_statements:claim": "outbox: compare-and-set by id, outside any request",
    "coordinator.core.outbox_statements:mark_sent": "outbox: marks sent the row it has just claimed, by id",
    "coordinator.core.outbox_statements:mark_sent_and_claim": "outbox: marks sent the row it has just "
    "claimed and claims the next, by id",
    "coordinator.core.notifications.delivery:_claimed": "outbox: the row this process has just claimed, "
    "by id",
    "coordinator.core.notifications.delivery:_alert_coordinators": "outbox: the failed message's own "
    "programme",
    "coordinator.core.notifications:deliver_due": "outbox: periodic job over every programme",
    "shadowing.services.matching_queue:solve_matching_run": "a task: the queued run's programme, by its id",
    "seminars.services.enrolments:_booking_invites": "a task: the booked round's programme, by its id",
    "shadowing.services.request_notices:_notices": "a task: the visit request's programme, by its id",
    "shadowing.services.placements:placements_show_changed_people": "a task: the programmes of the visits "
    "that show people whose details changed, each then reconciled in its own scope",
    "seminars.services.enrolments:bookings_show_changed_people": "a task: the programmes of the bookings of "
    "people whose details changed, each then reconciled in its own scope",
    "focusgroups.services.meetings:meetings_show_changed_people": "a task: the programmes of the meetings of "
    "people whose details changed, each then reconciled in its own scope",
    "shadowing.services.request_notices:_request_with_people": "a task: the visit request by its id, with "
    "its people (the line manager may be outside the programme; compiled once)",
    "coordinator.core.worker:_update": "the task queue's own rows (no programme's), by the ids the worker "
    "claimed",
    "coordinator.core.outbox_statements:told_and_wanted": "whether the people the caller named were told "
    "this, and their own mail preferences",
    "shadowing.services.matching_queue:notify_confirmed_run": "a task: the run's programme, by its id",
    "coordinator.core.replies:_apply": "calendar replies: the organiser mailbox holds every programme's",
    # Identifying the person is what decides the scope.
    "coordinator.pages.views.feed:calendar_feed": "the secret token identifies the person, then their scope",
    "coordinator.pages.views.feed:_person_by_token": "the secret token identifies the person (compiled once)",
    "coordinator.pages.views.feed:_person_by_legacy_token": "an address from before hashing names the person",
    "coordinator.pages.views.home:set_language": "the person's own row, identified by the session",
    "organisations.permissions:_person_of": "the person's own profile, which decides the scope",
    "organisations.permissions:_memberships_of": "the person's own memberships, which decide the scope",
    "organisations.permissions:_identity_of": "a page's person with memberships and unread counts: the scope",
    "organisations.permissions:_token_identity_of": "an API token's person with memberships and a list's "
    "stamps in their programmes: the scope",
    "organisations.access.admin:ProgrammeAdminSite.admin_view.scoped": "superusers see every programme",
    "organisations.access.revocation:_role_removed": "a removed role's membership by pk: whom to tell",
    "organisations.access.admin:ScopedModelForm.validate_unique": "whether a unique value is taken in any "
    "programme, as the database will refuse it; no row is shown",
    "organisations.management.commands.seed_demo:Command.handle": "demo data spans both programmes",
    # A lock or counter by primary key right after a scoped read (a scoped UPDATE or FOR UPDATE would join).
    "focusgroups.services.notes:_update": "note compare-and-set by pk after the scoped read",
    "focusgroups.services.documents:_lock": "note row lock by pk after the scoped read, then its document",
    "focusgroups.services.documents:_load": "the log rows of a note read in scope, by the note's id",
    "focusgroups.services.documents:_store": "note text, version and document row by pk under the row lock",
    "focusgroups.services.meetings:_lock_meeting": "meeting row lock by pk after the scoped read",
    "seminars.services._seats:<module>": "the round locked by pk, its course read in scope just before; its "
    "seat counter, by pk",
    "seminars.serializers:<module>": "an enrolment's round by its id with its course; the field checks its "
    "programme is in scope",
    "shadowing.services._run_seats:lock_slots": "slot locks in pk order after the scoped read of the run",
    "shadowing.services.matching_runs:matching_run_confirm": "seat counters of the slots locked just before",
    "shadowing.services.placements:_release_seats": "seat counters of slots read in scope, by pk",
    "shadowing.services.workplaces:slot_delete": "slot lock by pk after the scoped read",
    "shadowing.services.workplaces:slot_update": "slot lock by pk after the scoped read",
    "shadowing.services.workplaces:slots_remove_free": "delete by pk after the scoped read",
    "shadowing.services.shadowing_requests:requests_expire": "periodic sweep over every programme",
    "shadowing.permissions:approvers_of": "the requester's line manager, who may be outside the programme",
    "coordinator.pages.views.me:_me_with_stamp": "the person by key with their line manager, maybe outside "
    "the programme",
    # Agencies shared between programmes and the platform's own work.
    "organisations.hooks:_refuse_writes_in_archived_programme": "whether the row's own programme is archived",
    # Plain SQL (no scope filters it): each names its programme or its scoped parent row itself.
    "coordinator.core.prepared:_run": "SQL compiled from its queryset (PreparedQuery, KeyedPreparedQuery), "
    "scope included",
    "coordinator.core.prepared:PreparedRows._compile": "compiled once for every reader: each use names its "
    "programme in every branch (the catalogue's viewer rows, the workplaces' free days, the rounds' seats, "
    "the competences)",
    "coordinator.core.prepared:_run_rows": "runs the SQL PreparedRows._compile (each branch names its "
    "programme) or ScopedPreparedQuery compiled (in the active scope, kept under that scope) stored",
    "coordinator.core.prepared_writes:PreparedInsert.insert": "the INSERT of one new row the caller "
    "built, which names its own programme (as save() writes it)",
    "coordinator.core.prepared_writes:PreparedInsert.insert_rows": "the INSERT of new rows the caller "
    "built, each naming its own parent (as bulk_create writes them)",
    "coordinator.core.prepared_writes:PreparedUpdate._compile": "compiled once for every caller: each "
    "use names its rows by key (the seat counter of the round locked just before)",
    "coordinator.core.prepared_writes:PreparedUpdate.update": "the SQL of _compile: rows named by key",
    "coordinator.core.outbox_statements:insert_told": "the notices and mail the caller built, each naming "
    "its own programme and recipient (as insert() writes them)",
    "coordinator.core.shapes:CompiledPage.fetch": "a list page's SQL recorded from its scoped queryset "
    "for this reader's rights, scope included",
    "coordinator.pages.views.health:_database": "SELECT 1",
    "seminars.selectors.catalogue:enrolment_facts": "each branch limited to the course's programme",
    "seminars.services._seats:enrolment_seat_facts": "rows of the round locked just before, by its id",
    "shadowing.services._run_rows:insert_rows": "inserts a run's rows, each naming its parent",
    "shadowing.services._run_rows:insert_from": "INSERT ... SELECT of a query compiled with its scope",
    "organisations.permissions:_participating": "is an agency shared (ids only)",
    "organisations.access.api:_by_pk": "a foreign id's row; the field checks its programme is in scope",
    "organisations.selectors:agency_directory": "the agency directory (names, kinds)",
    "organisations.selectors:invitations_to": "an agency's invitations from other programmes",
    "organisations.services.agencies:_answer": "invitation compare-and-set by pk",
    "organisations.services.agencies:agency_admins": "who speaks for an invited agency",
    "organisations.services.programmes:_first_admin_person": "the platform admin names a person",
    "organisations.services.programmes:programme_archive": "compare-and-set on the programme row by pk",
    "organisations.services.programmes:programme_restore": "compare-and-set on the programme row by pk",
    "organisations.views.platform:PlatformProgrammeListView.get_context_data": "the platform's programmes",
    "organisations.views.platform:PlatformProgrammeListView.post": "platform admins archive by id",
    "organisations.services.accounts:accounts_close_if_unattached": "any active membership, every programme",
    "organisations.services.accounts:password_reset_request": "a visitor's address names the person",
    "organisations.services.accounts:_reset_sent_recently": "the person's own outbox, every programme's",
    "organisations.services.invitations:_lock_person": "lock by pk after the scoped read",
    "organisations.services.invitations:_replace_pending": "the locked person's own invitations",
    "organisations.services.invitations:find": "a visitor's link names the invitation by its digest",
    "organisations.services.invitations:_claim": "compare-and-set by pk after the digest lookup",
    "organisations.services.invitations:revoke": "compare-and-set by pk after the scoped read",
    "organisations.services.invitations:revoke_pending_of": "an ended account's own invitations",
    "organisations.services.sso:_person_for": "the provider's organisation and confirmed address",
    # A person's data: their memberships everywhere decide what is exported or may be erased.
    "organisations.selectors:personal_data_programme_ids": "the person's own memberships decide their scope",
    "organisations.services.personal_data:erasure_scope": "whether another programme still has the person",
    "organisations.services.personal_data:_erase": "the person's row locked by pk after the scoped read",
    "organisations.services.personal_data:_scrub_audit": "whether an entry is filed under another programme",
}


def test_every_use_of_the_tenancy_escape_hatch_is_reviewed() -> None:
    assert sorted(escape_hatch_uses()) == sorted(ESCAPE_HATCH)


# The rooms of docs/architecture.md "One layout for every app": a module, or a package of the same name.
APP_ROOMS = {
    "__init__",
    "apps",
    "models",
    "permissions",
    "selectors",
    "services",
    "api",
    "serializers",
    "filters",
    "api_urls",
    "views",
    "forms",
    "urls",
    "consumers",
    "routing",
    "invites",
    "reports",
    "hooks",
    "jobs",
    "admin",
    "kinds",
    "links",
    "seed",
    "templatetags",
    "static",
    "migrations",
    "management",
    "access",
}
# Pure modules named in the document besides the rooms.
PURE_MODULES = {"shadowing": {"matching"}, "seminars": {"grouping"}}
APPS = ("organisations", "shadowing", "seminars", "focusgroups")


def test_every_app_follows_the_documented_layout() -> None:
    strays = []
    for app in APPS:
        for entry in sorted((ROOT / app).iterdir()):
            if entry.name == "__pycache__" or entry.name.startswith("."):
                continue
            name = entry.stem if entry.is_file() else entry.name
            if entry.is_file() and entry.suffix != ".py":
                strays.append(f"{app}/{entry.name}")
            elif name not in APP_ROOMS and name not in PURE_MODULES.get(app, set()):
                strays.append(f"{app}/{entry.name}")
    assert strays == []


# A module a reader can take in whole. A module that must stay longer is listed here with its limit and
# the reason; none needs to today.
MAX_MODULE_LINES = 600
LONG_MODULES: dict[str, int] = {}


def test_no_module_grows_past_what_a_reader_takes_in_whole() -> None:
    long = {}
    for path in _sources():
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            long[str(path.relative_to(ROOT))] = lines
    assert sorted(long) == sorted(LONG_MODULES)
    assert [name for name, lines in long.items() if lines > LONG_MODULES[name]] == []


def explicit_any_count() -> int:
    """How many annotations in the source name ``Any`` (``typing.Any``) explicitly."""
    count = 0
    for path in _sources():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            annotations: list[ast.expr | None] = []
            if isinstance(node, ast.arg):
                annotations.append(node.annotation)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                annotations.append(node.returns)
            elif isinstance(node, ast.AnnAssign):
                annotations.append(node.annotation)
            for annotation in annotations:
                if annotation is None:
                    continue
                count += sum(
                    1 for sub in ast.walk(annotation) if isinstance(sub, ast.Name) and sub.id == "Any"
                )
    return count


# Lower this when a change removes explicit Any; it may never rise.
ANY_BUDGET = 671


def test_explicit_any_does_not_grow() -> None:
    assert explicit_any_count() <= ANY_BUDGET


# Rows that reach their programmes through a many-valued path: they belong to an agency or a person, whom
# several programmes share, so no single programme key fits them.
SHARED_ACROSS_PROGRAMMES = {
    "organisations.Organisation": "an agency takes part in several programmes (Participation)",
    "organisations.Unit": "a unit belongs to its agency, which several programmes share",
    "organisations.Person": "a person may be a member of several programmes",
    "coordinator.NotificationPreference": "a person's own choice, whichever programme tells them",
}


def test_every_tenant_row_is_at_most_one_join_from_its_programme() -> None:
    from django.apps import apps

    from coordinator.core.tenancy import TenantModel

    deep = {}
    for model in apps.get_models():
        if not issubclass(model, TenantModel):
            continue
        label = f"{model._meta.app_label}.{model.__name__}"
        joins = model.tenant_path.count("__")
        if label in SHARED_ACROSS_PROGRAMMES:
            assert model.tenant_path_is_multi, label
        elif joins > 1:
            deep[label] = model.tenant_path
    assert deep == {}
