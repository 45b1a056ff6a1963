"""Real-browser tests: Playwright drives Debian's Chromium against a live ASGI server (daphne) that serves
a fresh database with the demo programmes, in production-like settings (DEBUG off, collected static files,
websockets through the same process)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "samverkan-demo"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_site() -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium); `make test-browser` installs it")
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(AXE.parents[2])], check=True)
    var_dir = Path(tempfile.mkdtemp(prefix="samverkan-browser-"))
    port = _free_port()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(var_dir)),
        "DJANGO_SETTINGS_MODULE": "coordinator.settings",
        "DEBUG": "0",
        "SECRET_KEY": "browser-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": os.environ.get("BROWSER_DATABASE_URL", f"sqlite:///{var_dir / 'samverkan.sqlite3'}"),
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "LANGUAGE_CODE": "sv",
    }
    python = sys.executable
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"], ["seed_demo", "--quiet"]):
        subprocess.run(
            [python, "manage.py", *command], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL
        )
    log = open(var_dir / "server.log", "wb")  # noqa: SIM115 (closed after the server stops)
    server = subprocess.Popen(
        # As `make run` serves it, with the server options production uses.
        [python, "-m", "coordinator.servers", "daphne", "-b", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # And a task worker beside it, as `make run` starts one: matching runs and mail are tasks.
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and command)
        [python, "manage.py", "task_worker", "--queue-name", "*"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 (local server)
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError((var_dir / "server.log").read_text()) from None
            time.sleep(0.2)
    yield base
    for process in (server, worker):
        process.terminate()
    for process in (server, worker):
        process.wait(timeout=10)
    log.close()
    shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser(live_site: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser: Any, live_site: str) -> Iterator[Callable[..., Any]]:
    """``new_page(username=None, width=1280, height=900)``: a page in a fresh context, signed in if named."""
    contexts = []

    def make(
        username: str | None = None,
        *,
        width: int = 1280,
        height: int = 900,
        locale: str = "sv-SE",
        language: str | None = "en",
    ) -> Any:
        context = browser.new_context(
            base_url=live_site, viewport={"width": width, "height": height}, locale=locale
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        # Chromium reports each thing the Content-Security-Policy blocked on the console.
        page.on(
            "console",
            lambda message: (
                csp_violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text
                else None
            ),
        )
        if username:
            sign_in(page, username, language=language)
        return page

    csp_violations: list[str] = []
    yield make
    for context in contexts:
        context.close()
    assert csp_violations == [], "the pages broke their own Content-Security-Policy"


def sign_in(page: Any, username: str, password: str = PASSWORD, *, language: str | None = "en") -> None:
    """Signs in through the login form. The interface language is then switched to ``language`` (the choice
    is stored on the person's profile), so that tests reading English labels hold whatever a previous test
    chose; ``language=None`` keeps the person's own choice."""
    page.goto("/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    if language is not None:
        switch_language(page, language)


def switch_language(page: Any, language: str) -> None:
    """Chooses a language with the switcher in the page header and waits for the page to speak it."""
    if page.evaluate("document.documentElement.lang") == language:
        return
    toggle = page.locator("#menu-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()  # on a phone the switch is in the folded menu
    page.select_option("#language-switch", language)
    page.locator("#language-form button").click()
    page.wait_for_function(f"document.documentElement.lang === '{language}'")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 A/AA violations that axe-core finds on the current page."""
    # Evaluated through the browser's debugging protocol: an injected <script> would break the page's CSP.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
            resultTypes: ['violations']
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
