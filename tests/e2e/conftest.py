"""Fixtures for browser tests: the app served over real HTTP, and a Chromium page driven by Playwright.

Browser tests run on SQLite only: the ``backend`` fixture below replaces the parametrized one of
tests/conftest.py, so each of them runs once. Without Playwright installed, every module here is
reported as skipped instead of failing to import (and fails under CI=true, like any missing part).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.helpers import free_port, missing, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _why_playwright_is_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright is not installed (pip install -e '.[dev]'): {error}"
    return None


PLAYWRIGHT_MISSING = _why_playwright_is_missing()


class _WithoutPlaywright(pytest.Module):
    """A browser test module on a machine without Playwright: never imported, reported as missing."""

    def collect(self):  # type: ignore[no-untyped-def]
        missing(PLAYWRIGHT_MISSING or "Playwright is not installed")


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    # Each module here imports playwright at its top, as any test would; this hook keeps that import
    # from running where it cannot succeed, so new browser modules need no guard of their own.
    if PLAYWRIGHT_MISSING is None:
        return None
    return _WithoutPlaywright.from_parent(parent, path=module_path)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Playwright actions (click, fill, goto) wait up to this long (ms); expect() keeps its own 5 s default.
TIMEOUT_MS = 10_000


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def live_port() -> int:
    return free_port()


@pytest.fixture
def live_app(app_factory: Callable[..., Flask], live_port: int) -> Flask:
    """The app behind the live server; its BASE_URL is the server's, so emailed links point at it."""
    return app_factory(BASE_URL=f"http://127.0.0.1:{live_port}")


@pytest.fixture
def live_server(live_app: Flask, live_port: int) -> Iterator[str]:
    """Serve ``live_app`` over HTTP in a background thread; yield its base URL."""
    server = make_server("127.0.0.1", live_port, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield live_app.config["BASE_URL"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the test; its pages come from contexts the test or a fixture makes."""
    executable = shutil.which("chromium")
    require(executable is not None, "chromium is not on PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A fresh headless Chromium page, in English and in the Europe/Madrid time zone."""
    context = chromium.new_context(locale="en-US", timezone_id="Europe/Madrid")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_page(chromium: Browser) -> Iterator[Page]:
    """A page like ``browser_page``, 1280 px wide, with axe-core loaded into every document it opens.

    axe comes in as an init script, which runs before the page's own scripts and outside its
    Content-Security-Policy: the page under test keeps its real policy and needs no inline script.
    """
    require(AXE.exists(), f"axe-core is not installed in {AXE.parents[2]} (make deps runs npm ci there)")
    context = chromium.new_context(
        locale="en-US", timezone_id="Europe/Madrid", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=str(AXE))
    try:
        yield context.new_page()
    finally:
        context.close()
