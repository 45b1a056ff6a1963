"""Every API operation, fed generated input by Schemathesis, answers as its OpenAPI schema says: never a
server error, only documented status codes, content types and headers, and bodies that match the schema.

The schema is the one the API serves (``/api/schema/``), loaded from the WSGI application in-process. Each
operation is called as a programme admin and as a plain member of staff, on a small programme with a row of
every kind (so ids in paths can hit real rows as well as missing ones), with a bounded number of examples
and Hypothesis derandomised, so a run is repeatable. ``test_api_stateful_links_answer_as_documented``
follows the links Schemathesis infers between operations (drf-spectacular emits no OpenAPI links): an id
one call answers with is passed to the next (retrieve, update, actions, delete).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import connection
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from focusgroups.models import Note
from seminars.models import Enrolment
from shadowing.models import ShadowingRequest
from tests.factories.focusgroups import (
    ActionFactory,
    ConceptFactory,
    FocusGroupFactory,
    MeetingFactory,
    make_group_member,
    make_note,
)
from tests.factories.seminars import CourseFactory, RoundFactory, SessionFactory, make_enrolment
from tests.factories.shadowing import SlotFactory, TopicFactory, WorkplaceFactory, make_request

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

# Bounded so that both roles over every operation stay within a couple of minutes on a busy 2-core machine.
# Each operation gets this many valid and this many invalid inputs, derandomised (the same inputs on every
# run) and without an example database, so a run in CI repeats the run on a laptop.
EXAMPLES = 4
# Scenarios of the stateful run, each at most this many calls long.
STATEFUL_SCENARIOS = 15
STATEFUL_STEPS = 6
HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Generating a whole request body can be slow for the largest schemas on a loaded machine; it is the
    # generator's cost, not the API's.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.generate],
)


@pytest.fixture
def world(
    programme: Any,
    other_programme: Any,
    org_a: Any,
    org_b: Any,
    org_other: Any,
    staff_a: Any,
    staff_b: Any,
    coordinator: Any,
    programme_admin: Any,
    outsider: Any,
    work_role: Any,
) -> dict[str, Any]:
    """A programme with a row of every kind the API serves, and the same in another programme."""
    if connection.vendor != "sqlite":
        # Every call of the walk runs inside the test's one transaction; on PostgreSQL the first statement
        # the database refuses (by design, e.g. a unique value taken) aborts that transaction for all the
        # calls after it. The walk runs in `make test`; PostgreSQL's own behaviour has its own tests.
        pytest.skip("the schema walk runs on SQLite (make test)")
    for owner, org, person in ((programme, org_a, staff_a), (other_programme, org_other, outsider)):
        group = FocusGroupFactory(programme=owner)
        make_group_member(group, person)
        make_note(group, title="Anteckning", body="Text", visibility=Note.Visibility.PROGRAMME)
        MeetingFactory(group=group)
        ActionFactory(group=group, owner=person)
        ConceptFactory(programme=owner)
        course = CourseFactory(programme=owner)
        round_ = RoundFactory(course=course)
        SessionFactory(round=round_)
        make_enrolment(round_, person, status=Enrolment.Status.CONFIRMED)
        TopicFactory(programme=owner)
        workplace = WorkplaceFactory(programme=owner, organisation=org, contact=person)
        SlotFactory(workplace=workplace)
        make_request(owner, person, status=ShadowingRequest.Status.APPROVED)
    return {"admin": programme_admin, "staff": staff_b}


def _token(person: Any) -> str:
    return Token.objects.get_or_create(user=person.user)[0].key


def _failures_of(operation: Any, mode: GenerationMode, token: str) -> list[str]:
    found: list[str] = []

    @HYPOTHESIS
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
        except FailureGroup as exc:
            if not found:  # the first input that fails is enough to name the operation
                found.append(f"{operation.label} ({mode.value}): {exc}")

    try:
        run()
    except Unsatisfiable:
        # Nothing the operation takes can be made invalid (no parameters, no body): no negative case.
        assert mode == GenerationMode.NEGATIVE, operation.label
    return found


@pytest.mark.parametrize("role", ["admin", "staff"])
def test_api_every_operation_answers_as_documented(role: str, world: dict[str, Any]) -> None:
    token = _token(world[role])
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for failure in _failures_of(operation, mode, token)
    ]
    assert len(operations) == 223
    assert not failures, f"{len(failures)} operations answered otherwise than documented:\n\n" + "\n\n".join(
        failures
    )


def test_api_stateful_links_answer_as_documented(world: dict[str, Any]) -> None:
    """Chains of calls along the links Schemathesis infers from the schema (an id a create answers with,
    passed to the retrieve, update and delete of the same resource), as a programme admin."""
    token = _token(world["admin"])
    machine = schema.as_state_machine()
    assert machine.bundles, "no links between operations: the stateful run would test nothing"

    class Workflow(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=self.get_call_kwargs(case)["headers"])

    Workflow.run(
        settings=settings(HYPOTHESIS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS)
    )
