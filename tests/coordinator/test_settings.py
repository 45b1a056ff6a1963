"""Settings come from the environment and fail loudly; production settings pass Django's deploy check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from coordinator.core import env

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k8#n2v$w9q!x4r7t1z6y3u5i0o-p_a+s=d&f*g(h)j[k]l{m}n;b:c<v>x?z~e^r%t@y",
    "ALLOWED_HOSTS": "samverkan.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _clean_environment(**extra: str) -> dict[str, str]:
    """Only what a process needs to start; the test settings' own variables must not leak in."""
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    return {**keep, "DJANGO_SETTINGS_MODULE": "coordinator.settings", **extra}


def _manage(*args: str, extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = _clean_environment(**extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", extra_env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_secret_key_is_required_without_debug():
    result = _manage("check", extra_env={**PRODUCTION, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "The environment variable SECRET_KEY must be set." in result.stderr


def test_database_url_must_be_a_database_url():
    result = _manage("check", extra_env={**PRODUCTION, "DATABASE_URL": "nonsense://x"})
    assert result.returncode != 0
    assert "DATABASE_URL is not a database URL" in result.stderr


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (lambda: env.env_bool("SAMVERKAN_TEST_VALUE"), "maybe", "is not a boolean"),
        (lambda: env.env_int("SAMVERKAN_TEST_VALUE", 1), "ten", "is not a whole number"),
        (lambda: env.env_int("SAMVERKAN_TEST_VALUE", 1, minimum=1), "0", "is below the minimum"),
        (lambda: env.env_choice("SAMVERKAN_TEST_VALUE", "sv", {"sv", "da"}), "fi", "must be one of"),
        (
            lambda: env.env_timezone("SAMVERKAN_TEST_VALUE", "Europe/Stockholm"),
            "Europe/Atlantis",
            "time zone",
        ),
    ],
)
def test_env_readers_fail_loudly(monkeypatch, reader, value, message):
    monkeypatch.setenv("SAMVERKAN_TEST_VALUE", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader()


def test_env_readers_parse_good_values(monkeypatch):
    monkeypatch.setenv("SAMVERKAN_TEST_VALUE", "yes")
    assert env.env_bool("SAMVERKAN_TEST_VALUE") is True
    monkeypatch.setenv("SAMVERKAN_TEST_VALUE", "a, b,,c")
    assert env.env_list("SAMVERKAN_TEST_VALUE") == ["a", "b", "c"]


def test_redis_url_selects_the_redis_channel_layer():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_environment(**PRODUCTION, REDIS_URL="redis://localhost:6379/0"),
    )
    assert result.stdout.strip() == "channels_redis.pubsub.RedisPubSubChannelLayer", result.stderr


def test_every_environment_variable_is_documented():
    read = set()
    for path in list((ROOT / "coordinator").glob("*.py")):
        text = path.read_text()
        for reader in (
            "env_str(",
            "env_bool(",
            "env_int(",
            "env_float(",
            "env_list(",
            "env_choice(",
            "env_timezone(",
        ):
            for chunk in text.split(reader)[1:]:
                name = chunk.split(",")[0].split(")")[0].strip().strip('"')
                if name.isupper():
                    read.add(name)
    documented = {
        line.split("=")[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert read - documented == set()


@pytest.mark.parametrize(
    ("extra", "engine"),
    [
        ({"REDIS_URL": "redis://localhost:6379/0"}, "coordinator.core.sessions"),
        ({}, "django.contrib.sessions.backends.db"),
        (
            {"REDIS_URL": "redis://localhost:6379/0", "SESSION_ENGINE": "db"},
            "django.contrib.sessions.backends.db",
        ),
    ],
)
def test_sessions_are_read_from_the_cache_where_every_process_shares_it(extra, engine):
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SESSION_ENGINE)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_environment(**PRODUCTION, **extra),
    )
    assert result.stdout.strip() == engine, result.stderr


def test_sessions_kept_in_each_process_alone_are_refused():
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SESSION_ENGINE)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_environment(**PRODUCTION, SESSION_ENGINE="cached_db"),
    )
    assert result.returncode != 0
    assert "SESSION_ENGINE=cached_db needs REDIS_URL" in result.stderr
