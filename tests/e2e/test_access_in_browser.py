"""In a real browser, what automated checkers alone miss, and axe-core on every kind of page.

One sweep seeds a programme once (series, upcoming, cancelled and past webinars, registrations with
answers, a message being sent, an archive entry) and visits a representative URL of every page, public
and organizer, in English, Spanish and Portuguese. Each page is checked with axe-core at 320 px, where
it must also not scroll sideways, in every language (translations are longer than English, and
narrow screens are where that breaks); in English also at 1280 px first, resizing the same document
(no second load). The wide layout holds the same elements in every language, so axe's wide run in
Spanish and Portuguese found nothing the others did not, at a third of the sweep's time.
Titles must differ from page to page. Then two keyboard-only paths: signing up (with a failed first
try whose error summary takes the focus) and creating a webinar.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, make_event, make_registration, make_series, make_user
from webinars import clock
from webinars.auth import service as accounts
from webinars.auth import tokens
from webinars.broadcasts import service as broadcasts
from webinars.events import archive_entries
from webinars.events import service as events
from webinars.extensions import db
from webinars.mail import notifications, worker
from webinars.models import Audience, QuestionKind, TokenScope
from webinars.questions import service as questions
from webinars.registrations import service as registrations

pytestmark = pytest.mark.browser

WIDE, NARROW = 1280, 320
LANGUAGES = ("en", "es", "pt")
# A long unbroken address, as organizers paste them: it must wrap, not widen the page.
LONG_URL = "https://video.example.org/recordings/" + "smart-specialisation-strategies-" * 4 + "2026"


def axe_problems(page: Page) -> list[str]:
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [f"{v['id']} ({v['impact']}) at {', '.join(v['nodes'])}" for v in result]


def sideways_overflow(page: Page) -> str | None:
    """What sticks out past the viewport's right edge at this width, or None when nothing does."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          if (document.documentElement.scrollWidth <= width) return null;
          const culprits = [];
          for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            const hidden = el.closest('.table-scroll, .visually-hidden, .honeypot, .skip-link');
            if (box.right > width + 1 && !hidden) {
              const classes = typeof el.className === 'string' && el.className ? '.' + el.className : '';
              culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + classes
                            + ' right=' + Math.round(box.right));
            }
          }
          const total = document.documentElement.scrollWidth;
          return 'scrollWidth ' + total + ' > ' + width + ': ' + culprits.slice(-4).join('; ');
        }"""
    )


def check_page(page: Page, url: str, problems: list[str], titles: dict[str, str], *, wide: bool) -> None:
    page.set_viewport_size({"width": WIDE, "height": 900})
    response = page.goto(url)
    expected = 404 if url.endswith("/no-such-page") else 200
    assert response is not None, f"{url} did not answer"
    assert response.status == expected, f"{url} answered {response.status}"
    if wide:
        for violation in axe_problems(page):
            problems.append(f"{url} at {WIDE} px: {violation}")
    page.set_viewport_size({"width": NARROW, "height": 800})
    overflow = sideways_overflow(page)
    if overflow:
        problems.append(f"{url} at {NARROW} px scrolls sideways: {overflow}")
    for violation in axe_problems(page):
        problems.append(f"{url} at {NARROW} px: {violation}")
    title = page.title()
    if title in titles and titles[title] != url:
        problems.append(f"{url} has the same title as {titles[title]}: {title!r}")
    titles.setdefault(title, url)


def seed(app: Flask) -> dict[str, object]:
    """One programme with something on every page; returns the ids and tokens the URLs need."""
    with app.app_context():
        admin = make_user(admin=True, name="Ada Organizer", email="ada@example.org")
        series = make_series(admin, title="Smart Regions", description_md="A series on *regional* policy.")
        upcoming = make_event(
            admin,
            capacity=40,
            series_id=series.id,
            title="Webinar #16: Smart Specialisation Strategies",
            join_url=LONG_URL,
        )
        questions.add_question(
            upcoming,
            questions.QuestionData(
                kind=QuestionKind.SINGLE_CHOICE, label="Your role", options="Researcher\nOther"
            ),
        )
        people = [
            make_registration(upcoming, f"person{n}@example.org", name=f"Person {n} Longsurname-Etxeberria")
            for n in range(3)
        ]
        registrations.set_attendance(people[0], True)
        message = broadcasts.create(
            upcoming,
            admin,
            audience=Audience.CONFIRMED,
            subject="Slides for Thursday",
            body_md="See you there.",
        )
        approval = make_event(admin, title="Webinar #17: Circular Economy", approval_required=True)
        make_registration(approval, "pending@example.org", name="Pending Person")
        cancelled = make_event(admin, title="Webinar #15: Green Hydrogen")
        events.cancel_event(cancelled)
        entry = archive_entries.create_entry(
            admin,
            archive_entries.ArchiveEntryData(
                title="Webinar #3: Smart Specialisation 101",
                starts_at=datetime(2021, 3, 12, 19, 0, tzinfo=UTC),
                timezone="America/Santiago",
                recording_url=LONG_URL,
                recording_summary="What the first cohort learnt.",
                speakers=[("Ane Etxeberria", "Orkestra")],
                series_id=series.id,
                number=3,
            ),
        )
        tokens.create_token(admin, "CRM", TokenScope.READ)
        seeded: dict[str, object] = {
            "series_id": series.id,
            "series_slug": series.slug,
            "event_id": upcoming.id,
            "slug": upcoming.slug,
            "approval_slug": approval.slug,
            "cancelled_slug": cancelled.slug,
            "entry_id": entry.id,
            "entry_slug": entry.slug,
            "question_id": upcoming.active_questions[0].id,
            "broadcast_id": message.id,
            "manage_token": people[1].token,
            "unsubscribe_token": notifications.unsubscribe_token(people[1]),
            "reset_token": accounts.password_reset_token(admin),
        }
        db.session.remove()
    return seeded


def public_urls(s: dict[str, object]) -> list[str]:
    return [
        "/",
        "/past",
        "/series",
        f"/series/{s['series_slug']}",
        f"/webinars/{s['slug']}",
        f"/webinars/{s['approval_slug']}",
        f"/webinars/{s['cancelled_slug']}",
        f"/webinars/{s['entry_slug']}",
        f"/webinars/{s['slug']}/registered",
        f"/r/{s['manage_token']}",
        f"/r/unsubscribe/{s['unsubscribe_token']}",
        f"/embed/webinars/{s['slug']}",
        "/login",
        "/login/forgot",
        f"/login/reset/{s['reset_token']}",
        "/no-such-page",
    ]


def organizer_urls(s: dict[str, object]) -> list[str]:
    event = f"/manage/webinars/{s['event_id']}"
    return [
        "/manage/",
        "/manage/webinars/new",
        event,
        f"{event}/edit",
        f"{event}/registrations",
        f"{event}/attendance/",
        f"{event}/questions/",
        f"{event}/questions/{s['question_id']}/edit",
        f"{event}/report",
        f"{event}/messages/new",
        f"{event}/messages/{s['broadcast_id']}",
        f"{event}/recording",
        f"{event}/emails",
        f"{event}/webhooks",
        "/manage/webinars/schedule",
        "/manage/series",
        "/manage/series/new",
        f"/manage/series/{s['series_id']}/edit",
        f"/manage/series/{s['series_id']}/report",
        f"/manage/series/{s['series_id']}/webhooks",
        "/manage/archive/new",
        f"/manage/archive/{s['entry_id']}/edit",
        "/manage/archive/import",
        "/manage/topics",
        "/manage/organizers",
        "/manage/mail/",
        "/manage/password",
        "/account/tokens",
    ]


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/login?lang=en")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_every_page_passes_axe_fits_320px_and_has_its_own_title(
    live_server: str, live_app: Flask, axe_page: Page
) -> None:
    seeded = seed(live_app)
    problems: list[str] = []
    page = axe_page
    # Per language, one record of titles across public and organizer pages: they must differ too.
    titles: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for lang in LANGUAGES:
        page.goto(f"{live_server}/?lang={lang}")
        for path in public_urls(seeded):
            check_page(page, live_server + path, problems, titles[lang], wide=lang == "en")
    sign_in(page, live_server)
    for lang in LANGUAGES:
        page.goto(f"{live_server}/manage/?lang={lang}")
        for path in organizer_urls(seeded):
            check_page(page, live_server + path, problems, titles[lang], wide=lang == "en")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# --- keyboard only ----------------------------------------------------------------------------------

_FOCUSED = """() => {
  const el = document.activeElement;
  return {tag: el.tagName.toLowerCase(), id: el.id || "", text: (el.innerText || el.value || "").trim(),
          summary: el.hasAttribute("data-error-summary")};
}"""


def focused(page: Page) -> dict[str, object]:
    return page.evaluate(_FOCUSED)  # type: ignore[no-any-return]


def tab_to(page: Page, describe: str, wanted, limit: int = 120) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Press Tab until the focused element is ``wanted`` (a predicate); fail after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached {describe}; focus ended on {focused(page)}")


def assert_strong_focus_ring(page: Page) -> None:
    ring = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"
    )
    assert ring["style"] != "none", f"no focus ring: {ring}"
    assert ring["width"] >= 2, f"a faint focus ring: {ring}"


def test_sign_up_by_keyboard_with_an_error_summary(live_server: str, live_app: Flask, axe_page: Page) -> None:
    with live_app.app_context():
        slug = make_event(capacity=10).slug
        db.session.remove()
    page = axe_page
    page.goto(f"{live_server}/webinars/{slug}")
    public_title = page.title()

    # The first Tab shows the skip link, large and ringed, not as a 1 px box.
    first = tab_to(page, "the skip link", lambda f: f["tag"] == "a")
    assert first["text"] == "Skip to content"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None
    assert box["width"] > 40, box
    assert box["height"] > 20, box
    assert box["y"] >= 0, box
    assert_strong_focus_ring(page)

    # The register button near the top leads to the form; the next Tab lands in its first field.
    tab_to(page, "the register button", lambda f: f["tag"] == "a" and f["text"] == "Register")
    page.keyboard.press("Enter")
    assert (
        tab_to(page, "the name field", lambda f: f["tag"] in ("input", "select", "textarea"))["id"] == "name"
    )
    assert_strong_focus_ring(page)
    page.keyboard.type("Ana Etxeberria")
    tab_to(page, "the email field", lambda f: f["id"] == "email")
    page.keyboard.type("ana@")  # a typo, and the consent box left unticked
    tab_to(page, "the submit button", lambda f: f["tag"] == "button" and f["text"] == "Register")
    page.keyboard.press("Enter")

    # The page comes back with its title marked, and the focus on the summary of what went wrong.
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert page.title() == f"Error: {public_title}"
    expect(page.locator("[data-error-summary]")).to_be_focused()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link")).to_have_count(2)
    expect(summary.get_by_role("link").first).to_have_attribute("href", "#email")
    expect(summary.get_by_role("link").last).to_have_attribute("href", "#consent")
    assert axe_problems(page) == []

    # Its first link takes the caret to the field, typed text kept.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#email")).to_be_focused()
    expect(page.locator("#email")).to_have_value("ana@")
    page.keyboard.press("Control+A")
    page.keyboard.type("ana@example.org")
    tab_to(page, "the consent box", lambda f: f["id"] == "consent")
    page.keyboard.press("Space")
    tab_to(page, "the submit button", lambda f: f["tag"] == "button" and f["text"] == "Register")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your email")
    assert not page.title().startswith("Error")


def test_create_a_webinar_by_keyboard(live_server: str, live_app: Flask, axe_page: Page) -> None:
    with live_app.app_context():
        make_user(email="ada@example.org", name="Ada Organizer")
        db.session.remove()
    page = axe_page
    day = (clock.now() + timedelta(days=30)).date()
    page.goto(f"{live_server}/login")
    tab_to(page, "the email field", lambda f: f["id"] == "email")
    page.keyboard.type("ada@example.org")
    tab_to(page, "the password field", lambda f: f["id"] == "password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    page.goto(f"{live_server}/manage/webinars/new")
    assert page.title().startswith("New webinar")
    tab_to(page, "the title field", lambda f: f["id"] == "title")
    page.keyboard.type("Webinar #18: Open Data for Regions")
    tab_to(page, "the start date", lambda f: f["id"] == "start_date")
    page.keyboard.type(day.strftime("%m%d%Y"))  # a date input takes the digits of its en-US segments
    # The start time is forgotten on purpose: the error summary must lead back to it.
    tab_to(page, "the save button", lambda f: f["tag"] == "button" and f["text"] == "Save")
    page.keyboard.press("Enter")

    expect(page).to_have_title(re.compile(r"^Error: New webinar"))
    expect(page.locator("[data-error-summary]")).to_be_focused()
    link = page.locator("[data-error-summary]").get_by_role("link")
    expect(link).to_have_count(1)
    expect(link).to_have_attribute("href", "#start_time")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#start_time")).to_be_focused()
    page.keyboard.type("0400PM")
    tab_to(page, "the save button", lambda f: f["tag"] == "button" and f["text"] == "Save")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Webinar #18: Open Data for Regions")
    assert page.title().startswith("Manage — Webinar #18: Open Data for Regions")


def test_message_progress_updates_in_place_without_reloading(
    live_server: str, live_app: Flask, axe_page: Page
) -> None:
    with live_app.app_context():
        owner = make_user(email="ada@example.org", name="Ada Organizer")
        event = make_event(owner, capacity=None)
        for n in range(3):
            make_registration(event, f"p{n}@example.org", name=f"Person {n}")
        message = broadcasts.create(event, owner, audience=Audience.CONFIRMED, subject="Slides", body_md="Hi")
        url = f"{live_server}/manage/webinars/{event.id}/messages/{message.id}"
        db.session.remove()
    page = axe_page
    sign_in(page, live_server)
    page.goto(url)
    status = page.get_by_role("status")
    expect(status).to_have_text("Sending… 0 of 3 sent.")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("link", name="Refresh the numbers")).to_be_visible()
    # A mark on this document: a reload (what meta refresh did) would wipe it.
    page.evaluate("() => { window.stillTheSamePage = true; }")

    with live_app.app_context():
        broadcasts.expand_pending()
        worker.deliver_due()
        db.session.remove()

    expect(status).to_have_text("All done.", timeout=15_000)
    expect(page.locator("[data-progress='sent']")).to_have_text("3")
    expect(page.get_by_role("link", name="Refresh the numbers")).to_be_hidden()
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page reloaded"
