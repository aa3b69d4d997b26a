"""The site's brand set by an administrator: name, logo, accent colour, footer links and the privacy
notice beside every consent box; and the one stylesheet that every page uses instead of inline styles."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import images
from tests.factories import make_event, make_user
from tests.helpers import submit
from webinars import site
from webinars.branding import service
from webinars.extensions import db
from webinars.models import Image as StoredImage
from webinars.models import SiteSettings
from webinars.rules import RuleError

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

SETTINGS_URL = "/manage/brand/"

CLEAN_SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' viewBox="0 0 120 40">'
    b'<defs><linearGradient id="g"><stop offset="0" stop-color="#0b5cad"/></linearGradient></defs>'
    b'<rect width="120" height="40" fill="url(#g)"/><use xlink:href="#g"/>'
    b'<text x="10" y="25" style="font-weight:bold">Orkestra</text></svg>'
)


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "site_name": "LA Webinars",
        "accent_color": "#1b6b3a",
        "organisation_label": "Orkestra",
        "organisation_url": "https://www.orkestra.eus",
        "privacy_label": "How we use your data",
        "privacy_url": "https://www.orkestra.eus/privacy",
        "imprint_label": "Contact",
        "imprint_url": "https://www.orkestra.eus/contact",
    }
    data.update(overrides)
    return data


def _save(client, **overrides: object):
    return submit(client, SETTINGS_URL, _form(**overrides), content_type="multipart/form-data")


def _error_of(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    assert match, f"no error next to {field_id}"
    return match.group(1)


def _upload(data: bytes, name: str) -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)


# --- who may change it ------------------------------------------------------------------------------


def test_an_organizer_who_is_not_an_administrator_gets_403(client, auth):
    auth.login(make_user())
    assert client.get(SETTINGS_URL).status_code == 403
    # A valid CSRF token (from a page the organizer may open) changes nothing: still refused.
    response = submit(client, SETTINGS_URL, _form(), form_page="/manage/")
    assert response.status_code == 403
    assert client.get("/manage/").status_code == 200
    assert "Site settings" not in client.get("/manage/").get_data(as_text=True)
    assert db.session.get(SiteSettings, site.SETTINGS_ID) is None


def test_a_stranger_is_sent_to_sign_in(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- every setting reaches the public pages ---------------------------------------------------------


def test_an_administrator_sets_each_setting_and_every_page_shows_it(client, auth):
    auth.login(make_user(admin=True))
    event = make_event()
    response = _save(client)
    assert response.status_code == 302, response.get_data(as_text=True)

    for url in ("/", f"/webinars/{event.slug}", "/series", "/past"):
        page = client.get(url).get_data(as_text=True)
        assert '<span class="brand-name">LA Webinars</span>' in page, url
        assert "· LA Webinars</title>" in page, url
        assert '<a href="https://www.orkestra.eus">Orkestra</a>' in page, url
        assert '<a href="https://www.orkestra.eus/privacy">How we use your data</a>' in page, url
        assert '<a href="https://www.orkestra.eus/contact">Contact</a>' in page, url
        stylesheet = re.search(r'<link rel="stylesheet" href="(/brand-\d+\.css)">', page)
        assert stylesheet, url
    css = client.get(stylesheet.group(1))
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    assert "--accent: #1b6b3a" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]


def test_a_new_save_changes_the_stylesheet_address_so_caches_never_serve_the_old_colour(client, auth):
    auth.login(make_user(admin=True))
    _save(client, accent_color="#1b6b3a")
    first = re.search(r'href="(/brand-\d+\.css)"', client.get("/").get_data(as_text=True)).group(1)
    _save(client, accent_color="#8a4b00")
    second = re.search(r'href="(/brand-\d+\.css)"', client.get("/").get_data(as_text=True)).group(1)
    assert first != second
    assert "--accent: #8a4b00" in client.get(second).get_data(as_text=True)
    # The old address answers with the current colour, cached only briefly.
    stale = client.get(first)
    assert "--accent: #8a4b00" in stale.get_data(as_text=True)
    assert "immutable" not in stale.headers["Cache-Control"]
    settings = db.session.get(SiteSettings, site.SETTINGS_ID)
    assert settings.version == 2
    assert settings.updated_at is not None


def test_without_settings_the_site_keeps_the_environment_defaults(client, app):
    page = client.get("/").get_data(as_text=True)
    assert f'<span class="brand-name">{app.config["SITE_NAME"]}</span>' in page
    assert "/brand-" not in page  # no accent colour: no extra stylesheet to fetch
    assert 'aria-label="About this site"' not in page


def test_the_settings_are_read_once_per_request(client, app):
    from tests.helpers import statements_of_get

    statements = statements_of_get(client, "/")
    assert sum("FROM site_settings" in statement for statement in statements) == 1


def test_the_site_name_reaches_the_calendar_feed(client, auth):
    auth.login(make_user(admin=True))
    _save(client, site_name="Smart Regions Programme")
    feed = client.get("/calendar.ics").get_data(as_text=True)
    assert "Smart Regions Programme" in feed


# --- the privacy notice beside the consent box ------------------------------------------------------


def test_the_privacy_notice_is_linked_beside_the_consent_box(client, auth):
    admin = make_user(admin=True)
    event = make_event()
    auth.login(admin)
    _save(client)
    auth.logout()
    page = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    consent = re.search(r'<input[^>]*id="consent"[^>]*>', page).group(0)
    assert 'aria-describedby="consent-privacy"' in consent
    beside = re.search(r'<p class="hint" id="consent-privacy"><a href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert beside.group(1) == "https://www.orkestra.eus/privacy"
    assert beside.group(2) == "How we use your data"


def test_the_embedded_form_links_the_privacy_notice_too(client, auth):
    event = make_event(embed_origins=["https://www.example.org"])
    auth.login(make_user(admin=True))
    _save(client)
    auth.logout()
    page = client.get(f"/embed/webinars/{event.slug}").get_data(as_text=True)
    assert 'id="consent-privacy"' in page
    assert "https://www.orkestra.eus/privacy" in page


# --- the accent colour ------------------------------------------------------------------------------


def test_a_colour_too_light_for_white_text_is_refused_with_a_darker_suggestion(client, auth):
    auth.login(make_user(admin=True))
    response = _save(client, accent_color="#ffcc00")
    assert response.status_code == 400
    message = _error_of(response.get_data(as_text=True), "accent_color")
    assert "4.5:1" in message
    suggestion = re.search(r"#[0-9a-f]{6}(?=\.)", message).group(0)
    assert service.contrast_ratio(suggestion, "#ffffff") >= 4.5
    assert db.session.get(SiteSettings, site.SETTINGS_ID) is None


@pytest.mark.parametrize(
    "value", ["blue", "#12345", "#gggggg", "rgb(0,0,0)", "#0b5cad; } body { display:none"]
)
def test_a_colour_that_is_not_a_hex_code_is_refused(client, auth, value):
    auth.login(make_user(admin=True))
    response = _save(client, accent_color=value)
    assert response.status_code == 400
    assert "hex" in _error_of(response.get_data(as_text=True), "accent_color")


def test_contrast_follows_wcag():
    assert service.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert service.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert service.check_accent("#036") == "#003366"
    assert service.check_accent("0b5cad") == "#0b5cad"
    with pytest.raises(RuleError):
        service.check_accent("#777777")  # 4.48:1, just short


# --- footer links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "//evil.example", "ftp://x.org"],
)
def test_footer_links_must_be_web_addresses(client, auth, address):
    auth.login(make_user(admin=True))
    response = _save(client, privacy_url=address)
    assert response.status_code == 400
    assert _error_of(response.get_data(as_text=True), "privacy_url")
    assert db.session.get(SiteSettings, site.SETTINGS_ID) is None


def test_hostile_text_gets_an_error_beside_its_field(client, auth):
    auth.login(make_user(admin=True))
    response = _save(client, site_name="Webinars\x00\x1b[31m", organisation_label="A\nB")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert _error_of(page, "site_name")
    assert _error_of(page, "organisation_label")


# --- the logo ---------------------------------------------------------------------------------------


def test_a_raster_logo_is_resized_and_shown_in_the_header(client, auth):
    auth.login(make_user(admin=True))
    response = _save(client, logo=_upload(images.png(800, 200), "logo.png"))
    assert response.status_code == 302, response.get_data(as_text=True)
    settings = db.session.get(SiteSettings, site.SETTINGS_ID)
    assert settings.logo is not None
    page = client.get("/").get_data(as_text=True)
    assert f"/media/{settings.logo.key}-" in page
    assert re.search(r'<img class="brand-logo" [^>]*alt=""', page)


def test_the_type_comes_from_the_bytes_not_the_name(client, auth):
    auth.login(make_user(admin=True))
    # A picture named .svg is a picture; a web page named .png is refused.
    assert _save(client, logo=_upload(images.png(400, 100), "logo.svg")).status_code == 302
    response = _save(client, logo=_upload(b"<html><script>alert(1)</script></html>", "logo.png"))
    assert response.status_code == 400
    assert _error_of(response.get_data(as_text=True), "logo")


def test_a_logo_of_too_many_pixels_is_refused_unopened(client, auth):
    auth.login(make_user(admin=True))
    response = _save(client, logo=_upload(images.png_claiming(30000, 30000), "huge.png"))
    assert response.status_code == 400
    assert "megapixels" in _error_of(response.get_data(as_text=True), "logo")
    assert db.session.scalars(select(StoredImage)).first() is None


def test_a_clean_svg_logo_is_served_as_a_sandboxed_picture(client, auth):
    auth.login(make_user(admin=True))
    response = _save(client, logo=_upload(CLEAN_SVG, "logo.svg"))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get("/").get_data(as_text=True)
    address = re.search(r'<img class="brand-logo" src="(/brand-\d+/logo\.svg)" alt="">', page).group(1)
    served = client.get(address)
    assert served.status_code == 200
    assert served.mimetype == "image/svg+xml"
    policy = served.headers["Content-Security-Policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


HOSTILE_SVGS = {
    "script": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "handler": (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>'
    ),
    "javascript link": (
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<a xlink:href="javascript:alert(1)"><rect width="9" height="9"/></a></svg>'
    ),
    "external image": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/pixel.png"/></svg>'
    ),
    "foreign object": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">'
        b"<iframe src='https://evil.example'></iframe></div></foreignObject></svg>"
    ),
    "xhtml script": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><h:script xmlns:h="http://www.w3.org/1999/xhtml">'
        b"alert(1)</h:script></svg>"
    ),
    "entity bomb": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
    ),
    "css import": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>'
    ),
    "css url": b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/a)"/></svg>',
    "animated link": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="#x">'
        b'<set attributeName="href" to="javascript:alert(1)"/>'
        b"</a></svg>"
    ),
    "stylesheet instruction": (
        b'<?xml-stylesheet href="https://evil.example/a.css"?><svg xmlns="http://www.w3.org/2000/svg"/>'
    ),
    "not svg": b"<html><body>hello</body></html>",
    "broken": b'<svg xmlns="http://www.w3.org/2000/svg"><rect',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_SVGS))
def test_an_svg_that_could_run_script_or_load_anything_is_refused(client, auth, name):
    auth.login(make_user(admin=True))
    response = _save(client, logo=_upload(HOSTILE_SVGS[name], "logo.svg"))
    assert response.status_code == 400, name
    assert _error_of(response.get_data(as_text=True), "logo")
    settings = db.session.get(SiteSettings, site.SETTINGS_ID)
    assert settings is None


def test_the_logo_can_be_removed(client, auth):
    auth.login(make_user(admin=True))
    _save(client, logo=_upload(CLEAN_SVG, "logo.svg"))
    assert _save(client, remove_logo="y").status_code == 302
    assert 'class="brand-logo"' not in client.get("/").get_data(as_text=True)


def test_pruning_pictures_keeps_the_logo(client, auth, frozen_clock):
    from webinars.images import service as picture_service

    auth.login(make_user(admin=True))
    _save(client, logo=_upload(images.png(400, 100), "logo.png"))
    frozen_clock.advance(days=2)
    assert picture_service.prune_unused() == 0
    assert db.session.get(SiteSettings, site.SETTINGS_ID).logo is not None


# --- one stylesheet, no inline styles ---------------------------------------------------------------

# Emails are the exception: mail clients drop <link> and <style>, so an email's styles must be inline.
PAGE_TEMPLATES = sorted(
    path
    for path in TEMPLATES.rglob("*")
    if path.is_file() and path.relative_to(TEMPLATES).parts[0] != "emails"
)


def test_the_page_templates_are_found():
    names = {str(path.relative_to(TEMPLATES)) for path in PAGE_TEMPLATES}
    assert {"base.html", "events/detail.html", "manage/event.html", "branding/edit.html"} <= names


@pytest.mark.parametrize("path", PAGE_TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_carries_inline_styles(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\sstyle\s*=", text, re.IGNORECASE), "a style= attribute: use a class in style.css"
    assert not re.search(r"<style[\s>]", text, re.IGNORECASE), "a <style> block: move it to style.css"


def test_the_policy_allows_styles_from_the_site_only(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    style = next(part.strip() for part in policy.split(";") if part.strip().startswith("style-src"))
    assert style == "style-src 'self'"


def test_the_stylesheet_holds_the_components():
    css = (TEMPLATES.parent / "webinars" / "static" / "style.css").read_text(encoding="utf-8")
    for section in ("buttons", "forms and inputs", "alerts", "cards", "badges", "definition lists", "tables"):
        assert f"=== Component: {section} " in css, section
    # Native submit inputs and every button are finger-sized.
    assert "input[type=submit]" in css
    assert "--touch: 2.75rem" in css


def test_emails_the_worker_renders_name_the_site_as_the_administrator_set_it(mail_app, smtp_sink):
    from tests.helpers import by_recipient, html_of
    from webinars.mail import worker
    from webinars.registrations import service as registrations

    service.update(service.BrandData(site_name="Smart Regions Programme"))
    event = make_event()
    registrations.register(event, name="Ana", email="ana@example.org", consent=True)
    worker.deliver_due()
    (message,) = by_recipient(smtp_sink.messages(), "ana@example.org")
    assert "Smart Regions Programme" in html_of(message)
