"""The API's browsable page, in a real browser: Swagger UI served by the app renders the document."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect


@pytest.mark.browser
def test_the_api_page_renders_the_openapi_document(live_server: str, browser_page: Page) -> None:
    browser_page.goto(live_server + "/api/v1/docs/")
    expect(browser_page.get_by_role("heading", name="Webinars API")).to_be_visible()
    expect(browser_page.get_by_text("/api/v1/webinars/{slug}/registrations").first).to_be_visible()
    expect(browser_page.get_by_role("button", name="Authorize")).to_be_visible()
