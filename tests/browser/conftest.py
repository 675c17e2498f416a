"""Playwright driving Debian's Chromium against pytest-django's live server.

Chromium is never downloaded: it is the distribution's ``/usr/bin/chromium`` (or
``$CHROMIUM_EXECUTABLE``). When it is missing or cannot start, every browser test fails;
nothing is skipped. Playwright is imported only when a browser test runs, so collecting
the suite without the ``browser`` extra installed still works.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from intelliauth_sms.backends import locmem
from tests.demo.conftest import demo_site  # noqa: F401 - the same demo settings

CHROMIUM = os.environ.get("CHROMIUM_EXECUTABLE", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
VIEWPORT = {"width": 1000, "height": 760}
CODE_IN_SMS = re.compile(r"\b(\d{6})\b")
PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory


def enter_password(page: Any, username: str = "alice") -> None:
    """The drop-in login page: username and password, then "Sign in"."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#sign-in")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `apt-get install chromium` "
            "(or set CHROMIUM_EXECUTABLE). The browser tier never skips.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread; Django then
    # refuses ORM calls from the test (SynchronousOnlyOperation) although nothing here is
    # async. Allow them while the browser is up, and only then.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any, demo_site: Any) -> Iterator[Any]:  # noqa: F811
    """A fresh browser context (own cookies and storage) on the live server."""
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    uncaught: list[Any] = []
    tab.on("pageerror", lambda error: uncaught.append(error))
    try:
        yield tab
    finally:
        context.close()
    assert not uncaught, f"JavaScript errors on the page: {uncaught}"


@pytest.fixture
def expect() -> Any:
    """Playwright's auto-waiting assertions."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    """Save a full-page screenshot as ``artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def wait_for_sms() -> Callable[[int], str]:
    """The code of the ``count``-th SMS of the test, once it is in the locmem outbox.

    The live server runs in this process with eager Celery: delivery happens on commit,
    inside the request, so the SMS is there by the time the page shows it was sent.
    """

    def wait(count: int, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while len(locmem.outbox) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} SMS, got {len(locmem.outbox)}")
            time.sleep(0.05)
        match = CODE_IN_SMS.search(locmem.outbox[count - 1].body)
        assert match, "no code in the SMS"
        return match.group(1)

    return wait
