"""Writes with SQL written once per connection (``PreparedInsert``, ``PreparedUpdate``) and new rows
inserted with ``insert_audited``: rows and audit entries as ``save()``, ``bulk_create``, ``update()`` and
django-auditlog write them, field by field."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.cid import correlation_id
from auditlog.context import disable_auditlog, set_actor
from auditlog.models import LogEntry
from django.db import transaction
from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler, SQLUpdateCompiler
from django.utils import timezone

from coordinator.core.audit import insert_audited, log_changes
from coordinator.core.prepared_writes import PreparedInsert
from coordinator.core.tenancy import programme_scope
from seminars.models import Enrolment
from shadowing.models import ShadowingRequest
from tests.factories.seminars import CourseFactory, RoundFactory


@pytest.fixture
def compilations(monkeypatch):
    return count_compilations(monkeypatch)


def count_compilations(monkeypatch) -> list[tuple[str, str]]:
    """The queries Django's compilers turn into SQL, as (kind, model) pairs: selects, inserts, updates."""
    calls: list[tuple[str, str]] = []
    for kind, compiler in (
        ("select", SQLCompiler),
        ("insert", SQLInsertCompiler),
        ("update", SQLUpdateCompiler),
    ):

        def counted(self, *args, kind=kind, compile_sql=compiler.as_sql, **kwargs):
            calls.append((kind, self.query.model._meta.label))
            return compile_sql(self, *args, **kwargs)

        monkeypatch.setattr(compiler, "as_sql", counted)
    return calls


MOMENT = timezone.now().replace(microsecond=123456) + timedelta(days=3)


def _enrolment(programme, staff_a, coordinator, org_b):
    course = CourseFactory(programme=programme, providers=[org_b])
    round_ = RoundFactory(course=course)

    def build() -> Enrolment:
        enrolment = Enrolment(
            round=round_,
            person=staff_a,
            organisation_id=staff_a.organisation_id,
            status=Enrolment.Status.CONFIRMED,
            approval=Enrolment.Approval.NOT_REQUIRED,
            priority=1,
            requested_at=MOMENT,
            confirmed_at=MOMENT,
            motivation="Vill lära mig – mer.",
            enrolled_by=coordinator,
        )
        enrolment.fill_programme()
        return enrolment

    return build


def _request(programme, staff_a, coordinator, org_b):
    def build() -> ShadowingRequest:
        return ShadowingRequest(
            programme=programme,
            requester=staff_a,
            organisation_id=staff_a.organisation_id,
            learning_goals="Förstå mottagandet.",
            days=2,
            consecutive=True,
            languages=["sv", "en"],
            filed_by=coordinator,
            submitted_at=MOMENT,
            expires_at=MOMENT + timedelta(days=180),
        )

    return build


def _written(build, write, actor):
    """The row and its audit entry as ``write`` stores them (every column; the key, the entry's key and its
    time apart), in a savepoint rolled back afterwards."""
    with transaction.atomic():
        instance = build()
        started = timezone.now()
        token = correlation_id.set("cid-4711")
        try:
            with set_actor(actor, remote_addr="192.0.2.7", remote_port=4431):
                write(instance)
        finally:
            correlation_id.reset(token)
        model = type(instance)
        [entry] = LogEntry.objects.filter(object_id=instance.pk, content_type__model=model._meta.model_name)
        entry_values = {
            field.attname: getattr(entry, field.attname)
            for field in LogEntry._meta.concrete_fields
            if field.attname not in ("id", "timestamp")
        }
        # The entry names the row's own key: the same but for the key itself.
        keys = (entry_values.pop("object_pk"), entry_values.pop("object_id"))
        assert keys == (str(instance.pk), instance.pk)
        assert entry_values["changes"].pop("id") == ["None", str(instance.pk)]
        assert started <= entry.timestamp <= timezone.now()
        # A column stamped at the insert (``auto_now_add``): the time of each write.
        stamped = [f.attname for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
        for attname in stamped:
            assert started <= getattr(instance, attname) <= timezone.now()
            naive = getattr(instance, attname).replace(tzinfo=None)
            assert entry_values["changes"].pop(attname) == ["None", str(naive)]
        links = list(entry.programme_links.values_list("programme_id", flat=True))
        row = model.unscoped_objects.filter(pk=instance.pk).values()[0]
        in_memory = {field.attname: getattr(instance, field.attname) for field in model._meta.concrete_fields}
        for attname in ["id", *stamped]:
            assert row.pop(attname) == in_memory.pop(attname)
        transaction.set_rollback(True)
    return entry_values, links, row, in_memory


@pytest.mark.parametrize("build_for", [_enrolment, _request], ids=["enrolment", "visit request"])
def test_insert_audited_writes_the_row_and_the_entry_save_and_auditlog_write(
    programme, staff_a, coordinator, org_b, build_for
):
    build = build_for(programme, staff_a, coordinator, org_b)
    model = type(build())
    prepared = PreparedInsert(model)

    with programme_scope([programme.pk]):
        saved = _written(build, lambda instance: instance.save(), coordinator.user)
        inserted = _written(build, lambda instance: insert_audited(prepared, instance), coordinator.user)

    assert inserted == saved
    entry = saved[0]
    assert (entry["action"], entry["actor_id"], entry["remote_addr"], entry["remote_port"]) == (
        LogEntry.Action.CREATE,
        coordinator.user.pk,
        "192.0.2.7",
        4431,
    )
    assert (entry["cid"], entry["actor_email"], entry["additional_data"], saved[1]) == (
        "cid-4711",
        coordinator.user.email,
        {"programmes": [programme.pk]},
        [programme.pk],
    )


def _logged(instance, log, actor):
    """The update entry ``log`` writes for ``instance`` (every column but its key and time) and its filing,
    in a savepoint rolled back afterwards."""
    with transaction.atomic():
        started = timezone.now()
        token = correlation_id.set("cid-4712")
        try:
            with set_actor(actor, remote_addr="192.0.2.8", remote_port=4432):
                entry = log(instance)
        finally:
            correlation_id.reset(token)
        stored = LogEntry.objects.get(pk=entry.pk)
        assert started <= stored.timestamp <= timezone.now()
        values = {
            field.attname: getattr(stored, field.attname)
            for field in LogEntry._meta.concrete_fields
            if field.attname not in ("id", "timestamp")
        }
        links = list(stored.programme_links.values_list("programme_id", flat=True))
        transaction.set_rollback(True)
    return values, links


def test_log_changes_writes_the_entry_log_create_writes(programme, staff_a, coordinator, org_b, compilations):
    # A decision's compare-and-set is put on the trail by ``log_changes``: the same entry, column for
    # column, as django-auditlog's ``log_create`` writes, filed under the same programmes.
    changes = {"status": ["pending_approval", "approved"]}
    with programme_scope([programme.pk]):
        request = _request(programme, staff_a, coordinator, org_b)()
        request.save()
        created = _logged(
            request,
            lambda instance: LogEntry.objects.log_create(
                instance, action=LogEntry.Action.UPDATE, changes=changes
            ),
            coordinator.user,
        )
        logged = _logged(request, lambda instance: log_changes(instance, changes), coordinator.user)
        _logged(request, lambda instance: log_changes(instance, changes), coordinator.user)
        compilations.clear()
        again = _logged(request, lambda instance: log_changes(instance, changes), coordinator.user)

    assert logged == created == again
    assert compilations == [("select", "auditlog.LogEntry"), ("select", "organisations.AuditEntryProgramme")]
    values, links = logged
    assert (values["action"], values["changes"], values["actor_id"], values["cid"], links) == (
        LogEntry.Action.UPDATE,
        changes,
        coordinator.user.pk,
        "cid-4712",
        [programme.pk],
    )
    assert (values["object_id"], values["object_pk"], values["remote_addr"]) == (
        request.pk,
        str(request.pk),
        "192.0.2.8",
    )


def test_insert_audited_with_auditlog_switched_off_writes_no_entry(programme, staff_a, coordinator, org_b):
    build = _enrolment(programme, staff_a, coordinator, org_b)
    before = LogEntry.objects.count()

    with programme_scope([programme.pk]), disable_auditlog():
        enrolment = insert_audited(PreparedInsert(Enrolment), build())

    assert Enrolment.unscoped_objects.filter(pk=enrolment.pk).count() == 1
    assert LogEntry.objects.count() == before


def test_prepared_insert_refuses_a_saved_row_and_an_expression(programme, staff_a, coordinator, org_b):
    from django.db.models import Value

    build = _enrolment(programme, staff_a, coordinator, org_b)
    prepared = PreparedInsert(Enrolment)
    with programme_scope([programme.pk]):
        saved = build()
        saved.save()
        with pytest.raises(ValueError, match="new row"):
            prepared.insert(saved)
        expression = build()
        expression.motivation = Value("x")
        with pytest.raises(ValueError, match="motivation"), transaction.atomic():
            prepared.insert(expression)

    assert Enrolment.unscoped_objects.count() == 1


def test_insert_audited_compiles_no_insert(
    programme, staff_a, coordinator, org_b, compilations, django_assert_num_queries
):
    # The row, its entry and the entry's filing under its programmes (the entry's own receiver) are
    # written with SQL written once per connection: nothing is compiled by the ORM.
    build = _enrolment(programme, staff_a, coordinator, org_b)
    prepared = PreparedInsert(Enrolment)
    with programme_scope([programme.pk]):
        insert_audited(prepared, build()).delete()
        compilations.clear()

        # The archive check, the row, the entry and its filing.
        with django_assert_num_queries(4):
            enrolment = insert_audited(prepared, build())

    assert compilations == []
    assert (enrolment._state.adding, enrolment._state.db) == (False, "default")
    assert (
        LogEntry.objects.filter(
            object_id=enrolment.pk, content_type__model="enrolment", action=LogEntry.Action.CREATE
        ).count()
        == 1
    )


def test_insert_rows_writes_what_bulk_create_writes(
    programme, staff_a, compilations, django_assert_num_queries
):
    from shadowing.models import AvailabilityWindow
    from tests.factories.shadowing import make_request

    request = make_request(programme, staff_a, windows=[])
    today = timezone.localdate()

    def windows() -> list[AvailabilityWindow]:
        return [
            AvailabilityWindow(
                request=request, starts_on=today + timedelta(days=n), ends_on=today + timedelta(n + 9)
            )
            for n in (1, 20, 40)
        ]

    prepared = PreparedInsert(AvailabilityWindow)
    with programme_scope([programme.pk]):
        created = AvailabilityWindow.objects.bulk_create(windows())
        prepared.insert_rows(windows()[:1])  # this connection's first use of each statement writes it
        prepared.insert_rows(windows())
        compilations.clear()
        # One insert, no signals (no archive check), as bulk_create.
        with django_assert_num_queries(1):
            inserted = prepared.insert_rows(windows())

    assert [call for call in compilations if call[0] == "insert"] == []
    assert all(window.pk is not None and not window._state.adding for window in inserted)
    rows = {
        pk: (request_id, starts_on, ends_on)
        for pk, request_id, starts_on, ends_on in AvailabilityWindow.unscoped_objects.values_list(
            "pk", "request_id", "starts_on", "ends_on"
        )
    }
    assert [rows[window.pk] for window in inserted] == [rows[window.pk] for window in created]
    assert [rows[window.pk] for window in created] == [
        (request.pk, w.starts_on, w.ends_on) for w in windows()
    ]


def test_prepared_update_runs_the_sql_the_queryset_runs(programme, org_b):
    from django.db import connection
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext

    from coordinator.core.prepared_writes import PreparedUpdate
    from seminars.models import Round

    round_ = RoundFactory(course=CourseFactory(programme=programme, providers=[org_b]), seats_taken=3)
    prepared = PreparedUpdate(
        lambda pk, delta: (Round.unscoped_objects.filter(pk=pk), {"seats_taken": F("seats_taken") + delta}),
        stand_ins=(-(2**62) + 31, -(2**62) + 37),
    )

    with CaptureQueriesContext(connection) as by_queryset:
        changed_by_queryset = Round.unscoped_objects.filter(pk=round_.pk).update(
            seats_taken=F("seats_taken") + 2
        )
    with CaptureQueriesContext(connection) as by_prepared:
        changed = prepared.update(round_.pk, 2)
        missing = prepared.update(round_.pk + 1000, -1)
    round_.refresh_from_db()

    assert (changed_by_queryset, changed, missing, round_.seats_taken) == (1, 1, 0, 7)
    assert by_prepared.captured_queries[0]["sql"] == by_queryset.captured_queries[0]["sql"]
    assert len(by_prepared.captured_queries) == 2
