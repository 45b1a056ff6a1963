from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from coordinator.core import registry
from coordinator.core.jobs import run_due_jobs
from coordinator.core.models import JobRun


@pytest.fixture
def counting_job():
    calls = []

    def run() -> int:
        calls.append(1)
        return 3

    registry.periodic_jobs.register(
        "test.counting", registry.PeriodicJob("test.counting", run, every_seconds=600)
    )
    yield calls
    registry.periodic_jobs._entries.pop("test.counting")


@pytest.fixture
def failing_job():
    def run() -> int:
        raise RuntimeError("database went away")

    registry.periodic_jobs.register(
        "test.failing", registry.PeriodicJob("test.failing", run, every_seconds=1)
    )
    yield
    registry.periodic_jobs._entries.pop("test.failing")


@pytest.mark.django_db
def test_job_runs_once_per_interval(counting_job):
    assert run_due_jobs()["test.counting"] == 3
    assert "test.counting" not in run_due_jobs()
    assert len(counting_job) == 1
    JobRun.objects.filter(name="test.counting").update(last_started_at=timezone.now() - timedelta(minutes=11))
    assert run_due_jobs()["test.counting"] == 3
    assert len(counting_job) == 2


@pytest.mark.django_db
def test_failing_job_is_recorded_and_others_still_run(counting_job, failing_job):
    results = run_due_jobs(force=True)
    assert results["test.counting"] == 3
    assert results["test.failing"] == 0
    assert JobRun.objects.get(name="test.failing").last_error == "RuntimeError: database went away"


@pytest.mark.django_db
def test_run_jobs_command_runs_once(counting_job, capsys):
    call_command("run_jobs", "--force")
    assert "test.counting: 3" in capsys.readouterr().out
