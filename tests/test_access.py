"""Access beyond what axe sees, in the HTML the server sends: the error summary of a failed form, the
title that says so, titles naming the webinar, the attendance select with its own button, and the
message progress page that follows the sending without refreshing itself."""

from __future__ import annotations

import re

from wtforms import HiddenField, RadioField, StringField
from wtforms.validators import InputRequired

from tests.factories import make_event, make_registration, make_user
from tests.helpers import login, register_form, submit, webinar_form
from webinars.broadcasts import service as broadcasts
from webinars.extensions import db
from webinars.mail import worker
from webinars.validators import BaseForm, error_entries, failed_page_forms


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "no <title>"
    return " ".join(match.group(1).split())


def _summary(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no error summary"
    return match.group(0)


def test_a_failed_sign_up_lists_each_error_as_a_link_to_its_field(client, app):
    event = make_event(capacity=10)
    page = f"/webinars/{event.slug}"
    response = submit(client, page, register_form(name="", email="ana@", consent=""))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = _summary(html)
    assert 'tabindex="-1"' in summary
    assert "data-error-summary" in summary
    links = re.findall(r'<a href="#([\w-]+)">', summary)
    assert links == ["name", "email", "consent"]
    for field_id in links:
        assert f'id="{field_id}"' in html, f"the summary links to #{field_id}, which the page lacks"
    assert _title(html).startswith("Error: ")
    assert event.title in _title(html)


def test_a_field_list_error_names_its_row_and_links_to_its_input(client, app, auth):
    owner = make_user()
    auth.login(owner)
    data = webinar_form(**{"speakers-1-photo_alt": "x" * 5000})
    response = submit(client, "/manage/webinars/new", data)
    summary = _summary(response.get_data(as_text=True))
    assert 'href="#speakers-1-photo_alt"' in summary
    assert _title(response.get_data(as_text=True)).startswith("Error: New webinar")


def test_summary_targets_the_control_a_person_can_reach(app):
    class Choices(BaseForm):
        role = RadioField("Role", choices=[("a", "A"), ("b", "B")], validators=[InputRequired()])
        token = HiddenField("Token", validators=[InputRequired()])
        note = StringField("Note", validators=[InputRequired()])

    with app.test_request_context("/", method="POST", data={}):
        form = Choices(meta={"csrf": False})
        assert not form.validate()
        form.form_errors.append("Something about the whole form.")
        entries = error_entries(form)
        assert failed_page_forms() == [form]
    assert [(e.label, e.target) for e in entries] == [
        ("Role", "role-0"),  # a group of radio buttons: its first option takes the focus
        ("Token", None),  # nobody can see a hidden field: the message stays, without a link
        ("Note", "note"),
        ("", None),
    ]


def test_a_page_without_errors_has_no_summary_and_a_plain_title(client, app):
    event = make_event()
    html = client.get(f"/webinars/{event.slug}").get_data(as_text=True)
    assert "data-error-summary" not in html
    assert _title(html) == f"{event.title} · Webinars"


def test_public_and_organizer_pages_of_a_webinar_have_titles_of_their_own(client, app, auth):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    urls = [
        f"/webinars/{event.slug}",
        f"/embed/webinars/{event.slug}",
        f"/manage/webinars/{event.id}",
        f"/manage/webinars/{event.id}/edit",
        f"/manage/webinars/{event.id}/registrations",
        f"/manage/webinars/{event.id}/emails",
        f"/manage/webinars/{event.id}/recording",
        f"/manage/webinars/{event.id}/messages/new",
        f"/manage/webinars/{event.id}/report",
    ]
    titles = [_title(client.get(url).get_data(as_text=True)) for url in urls]
    assert len(set(titles)) == len(titles), titles
    assert all(event.title in title for title in titles), titles
    assert titles[4] == f"Registrations — {event.title} · Webinars"


def test_attendance_is_saved_with_a_button_not_on_change(client, app, auth):
    owner = make_user()
    event = make_event(owner, capacity=10)
    person = make_registration(event, "ana@example.org", name="Ana")
    auth.login(owner)
    html = client.get(f"/manage/webinars/{event.id}/registrations").get_data(as_text=True)
    assert "data-autosubmit" not in html
    form = re.search(rf'<form[^>]*/registrations/{person.id}/attendance".*?</form>', html, re.S)
    assert form, "no attendance form"
    assert re.search(r'<button[^>]*type="submit"[^>]*aria-label="Save attendance of Ana"', form.group(0))
    assert "<noscript>" not in form.group(0)


def test_message_progress_has_a_live_region_and_a_json_endpoint_instead_of_meta_refresh(mail_app, smtp_sink):
    owner = make_user()
    event = make_event(owner, capacity=None)
    for n in range(3):
        make_registration(event, f"p{n}@example.org", name=f"Person {n}")
    broadcast = broadcasts.create(event, owner, audience="confirmed", subject="Slides", body_md="Hi")
    client = mail_app.test_client()
    login(client, owner)
    url = f"/manage/webinars/{event.id}/messages/{broadcast.id}"

    html = client.get(url).get_data(as_text=True)
    assert "http-equiv" not in html
    assert f'data-progress-url="{url}/progress"' in html
    assert re.search(
        r'<p role="status" aria-live="polite" data-progress="summary">Sending… 0 of 3 sent\.</p>', html
    )
    assert f'<a href="{url}">Refresh the numbers</a>' in html

    running = client.get(f"{url}/progress")
    assert running.headers["Cache-Control"] == "no-store"
    assert running.json == {
        "done": False,
        "fields": {
            "percent": 0,
            "percent_text": "0%",
            "total": 3,
            "sent": 0,
            "queued": 3,
            "failed": 0,
            "summary": "Sending… 0 of 3 sent.",
        },
    }

    broadcasts.expand_pending()
    worker.deliver_due()
    db.session.expire_all()
    done = client.get(f"{url}/progress").json
    assert done["done"] is True
    assert done["fields"]["sent"] == 3
    assert done["fields"]["summary"] == "All done."
    finished = client.get(url).get_data(as_text=True)
    assert "data-progress-url" not in finished
    assert "Refresh the numbers" not in finished


def test_message_progress_is_private_to_the_webinar_s_organizers(client, app, auth):
    owner = make_user()
    event = make_event(owner)
    broadcast = broadcasts.create(event, owner, audience="confirmed", subject="Slides", body_md="Hi")
    auth.login(make_user())
    assert client.get(f"/manage/webinars/{event.id}/messages/{broadcast.id}/progress").status_code == 404
