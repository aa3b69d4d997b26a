"""The sign-up form embedded in another website's page, in a real browser.

The webinars site runs on 127.0.0.1; the programme's news pages are served from ``localhost`` on
other ports, which Chromium treats as another site: there the site's SameSite=Lax session cookie is
not sent into the iframe, so the form must hold without it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import make_event
from tests.helpers import free_port
from webinars.extensions import db
from webinars.models import Registration, RegistrationStatus


def news_page_server(html: str, port: int) -> ThreadingHTTPServer:
    """A server on its own port answering every GET with ``html``: another origin's page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def news_site() -> Iterator[Callable[[str, int], None]]:
    """Start another site's page server: start(html, port) serves it at http://localhost:port."""
    servers: list[ThreadingHTTPServer] = []

    def start(html: str, port: int) -> None:
        servers.append(news_page_server(html, port))

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _page_html(base_url: str, slug: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><title>Programme news</title></head><body>"
        "<h1>Webinar #16 announced</h1>"
        f'<script src="{base_url}/embed.js" data-webinar="{slug}" async></script>'
        "</body></html>"
    )


@pytest.mark.browser
def test_sign_up_inside_an_iframe_on_a_listed_origin(
    live_app: Flask, live_server: str, browser_page: Page, news_site: Callable[[str, int], None]
) -> None:
    port = free_port()
    listed = f"http://localhost:{port}"
    with live_app.app_context():
        slug = make_event(capacity=10, embed_origins=[listed]).slug
        db.session.remove()
    news_site(_page_html(live_server, slug), port)

    browser_page.goto(listed + "/news/webinar-16")
    frame = browser_page.frame_locator("iframe[data-webinar]")
    frame.get_by_label("Name", exact=True).fill("Camila Rojas")
    frame.get_by_label("Email", exact=True).fill("camila@example.org")
    frame.get_by_label("I agree to receive emails").check()
    frame.get_by_role("button", name="Register").click()
    expect(frame.get_by_role("heading", name="Check your email")).to_be_visible()
    # The frame reported its height and the page resized the iframe to it.
    iframe = browser_page.locator("iframe[data-webinar]")
    expect(iframe).to_have_attribute("style", re.compile(r"height: \d+px"))

    with live_app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        assert registration.email == "camila@example.org"
        assert registration.status == RegistrationStatus.CONFIRMED
        assert registration.timezone == "Europe/Madrid"  # filled in by the frame's script
        db.session.remove()


@pytest.mark.browser
def test_a_page_of_an_unlisted_origin_cannot_frame_the_form(
    live_app: Flask, live_server: str, browser_page: Page, news_site: Callable[[str, int], None]
) -> None:
    with live_app.app_context():
        slug = make_event(embed_origins=["https://news.example.org"]).slug
        db.session.remove()
    port = free_port()
    news_site(_page_html(live_server, slug), port)

    with browser_page.expect_console_message(lambda message: "frame-ancestors" in message.text):
        browser_page.goto(f"http://localhost:{port}/news/webinar-16")
    frame = next(f for f in browser_page.frames if f.parent_frame is not None)
    assert frame.get_by_label("Name").count() == 0
