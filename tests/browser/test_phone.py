"""Every page on a phone (390 × 844 px): the walk follows every link a demo role can reach from the start
page, one page per address pattern, and fails on any page wider than the screen or whose header takes more
than a fifth of it. The menu folds behind one button and opens by keyboard."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

PHONE = {"width": 390, "height": 844}
# Each role sees other pages; together they reach every page of the web interface.
ROLES = ["eva.lindgren", "johan.bergstrom", "amina.hassan", "per.olsson", "sofia.ek", "lars.pettersson"]
NOT_WALKED = re.compile(
    r"^/(admin|api|i18n|logout|login|static|calendar|healthz)(/|$)|\.(ics|csv|json|xlsx)$|/export/"
)
MAX_PAGES = 90
MAX_HEADER_PX = 844 // 5


def _pattern(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/<n>", path)


def _links(page: Any) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('a[href]')]
            .map(a => a.href).filter(h => h.startsWith(location.origin))"""
    )


def _overflow(page: Any) -> dict[str, Any]:
    """How far the page is wider than the screen, and the element that sticks out furthest (outside any
    box that scrolls on its own)."""
    return page.evaluate(OVERFLOW_SCRIPT)


OVERFLOW_SCRIPT = """() => {
    const width = document.documentElement.clientWidth;
    const scrolls = (p) => /(auto|scroll|hidden)/.test(getComputedStyle(p).overflowX)
        && p.getBoundingClientRect().right <= width + 1;
    const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '');
    let worst = null, right = width;
    for (const el of document.querySelectorAll('body *')) {
        const box = el.getBoundingClientRect();
        if (!box.width || box.right <= right + 1) continue;
        let inside = false;
        for (let p = el.parentElement; p && !inside; p = p.parentElement) inside = scrolls(p);
        if (!inside) { right = box.right; worst = name(el); }
    }
    return {by: document.documentElement.scrollWidth - width, worst: worst};
}"""


@pytest.mark.parametrize("username", ROLES)
def test_every_page_fits_a_phone(new_page, live_site, username):
    page = new_page(username, language="sv", **PHONE)
    queue, seen, problems = ["/"], set(), []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        pattern = _pattern(path)
        if pattern in seen:
            continue
        seen.add(pattern)
        response = page.goto(path)
        if response is None or response.status >= 400 or urlsplit(page.url).path != path.split("?")[0]:
            continue
        found = _overflow(page)
        if found["by"] > 0:
            problems.append(f"{path}: {found['by']} px too wide ({found['worst']})")
        # A print view has no site header.
        header = page.evaluate("document.querySelector('.site-header')?.getBoundingClientRect().height ?? 0")
        if header > MAX_HEADER_PX:
            problems.append(f"{path}: header {header:.0f} px high")
        for link in _links(page):
            parts = urlsplit(link)
            target = parts.path + (f"?{parts.query}" if parts.query and "page=" not in parts.query else "")
            download = "format=" in parts.query or "download" in parts.query
            if not NOT_WALKED.search(parts.path) and not download and _pattern(parts.path) not in seen:
                queue.append(target)
    assert len(seen) >= 8, seen
    assert not problems, "\n".join(problems)


def test_menu_folds_on_a_phone_and_opens_by_keyboard(new_page):
    page = new_page("johan.bergstrom", language="en", **PHONE)
    nav = page.locator(".main-nav")
    toggle = page.locator("#menu-toggle")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.is_visible()
    assert page.locator("#language-switch").is_visible()
    page.keyboard.press("Escape")
    assert not nav.is_visible()
    assert page.evaluate("document.activeElement.id") == "menu-toggle"


def test_menu_is_open_on_a_desk(new_page):
    page = new_page("johan.bergstrom", language="en")
    assert not page.locator("#menu-toggle").is_visible()
    assert page.locator(".main-nav").is_visible()
