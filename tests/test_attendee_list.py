"""The organizer's attendee list: search, filters, order, bulk actions, people added by hand, and
the CSV and XLSX exports of exactly what the list shows (answers as columns, formulas neutralised).
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import insert, select

from tests.factories import make_event, make_registration, make_user
from tests.helpers import submit
from webinars import clock
from webinars.extensions import db
from webinars.models import Answer, Event, OutboxMessage, Question, Registration
from webinars.privacy import service as privacy
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.registrations import listing
from webinars.registrations import service as registrations


def ask_country_and_role(event: Event) -> tuple[Question, Question]:
    country = questions.add_question(event, QuestionData(kind="country", label="Country"))
    role = questions.add_question(
        event,
        QuestionData(kind="multiple_choice", label="Your roles", options="Researcher\nPolicy maker\nStudent"),
    )
    return country, role


def sign_up(event: Event, name: str, email: str, organisation: str = "", **answers: str) -> Registration:
    by_label = {question.label: question.id for question in event.questions}
    given = {by_label[label.replace("_", " ")]: value for label, value in answers.items()}
    return registrations.register(
        event, name=name, email=email, organisation=organisation, consent=True, answers=given
    ).registration


def names(event: Event, **args: str) -> list[str]:
    query = listing.matching(event, listing.ListFilter.from_args(args))
    return [registration.name for registration in db.session.scalars(query)]


def test_search_filters_and_order(app):
    event = make_event(capacity=2)
    country, role = ask_country_and_role(event)
    sign_up(
        event,
        "Camila Rojas",
        "camila@example.cl",
        "Universidad de Chile",
        Country="CL",
        Your_roles="Researcher",
    )
    sign_up(
        event,
        "Ane Etxeberria",
        "ane@orkestra.eus",
        "Orkestra",
        Country="ES",
        Your_roles="Policy maker\nStudent",
    )
    sign_up(
        event, "João Silva", "joao@example.com.br", "100% Inovação_BR", Country="BR", Your_roles="Student"
    )

    assert names(event, q="ORKESTRA") == ["Ane Etxeberria"]
    assert names(event, q="example.cl") == ["Camila Rojas"]
    assert names(event, q="camila rojas") == ["Camila Rojas"]
    assert names(event, q="100%") == ["João Silva"]  # LIKE wildcards are searched for literally
    assert names(event, q="_") == ["João Silva"]
    assert names(event, status="waitlisted") == ["João Silva"]
    assert names(event, answer=f"{country.id}:ES") == ["Ane Etxeberria"]
    assert names(event, answer=f"{role.id}:Student") == ["Ane Etxeberria", "João Silva"]
    assert names(event, answer=f"{role.id}:Policy") == []  # a whole choice, never part of one
    assert names(event, sort="name") == ["Ane Etxeberria", "Camila Rojas", "João Silva"]
    assert names(event, sort="name", dir="desc") == ["João Silva", "Camila Rojas", "Ane Etxeberria"]


def test_hostile_list_arguments_show_a_list_never_an_error(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    make_registration(event, "ane@example.org")
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/registrations"
    # The site's own rules answer first: control characters are refused (400), a page beyond any
    # list is not found (404).
    assert client.get(page + "?q=%00%1b").status_code == 400
    assert client.get(page + "?page=-1").status_code == 404
    for args in (
        "?q=" + "x" * 5000,
        "?sort=password_hash&dir=sideways",
        "?answer=99999999999999999999:x",
        "?answer=:",
        "?status=%27%3B--",
        "?page=999",
    ):
        assert client.get(page + args).status_code == 200, args
        assert client.get(f"/manage/webinars/{event.id}/registrations.xlsx{args}").status_code == 200, args


def test_list_page_searches_and_counts_matches(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    make_registration(event, "ane@orkestra.eus", name="Ane Etxeberria")
    make_registration(event, "camila@example.cl", name="Camila Rojas")
    auth.login(owner)
    page = client.get(f"/manage/webinars/{event.id}/registrations?q=ane").get_data(as_text=True)
    assert "1 person matches." in page
    assert "ane@orkestra.eus" in page
    assert "camila@example.cl" not in page
    assert f"/manage/webinars/{event.id}/registrations.xlsx?q=ane" in page


def bulk(client, event: Event, decision: str, ids: list[int] | None = None, query: str = "", **extra: str):
    page = f"/manage/webinars/{event.id}/registrations"
    data: dict[str, object] = {"decision": decision, **extra}
    if ids is not None:
        data["registration"] = ids
    return submit(client, f"{page}/decide{query}", data, form_page=page, follow_redirects=True)


def statuses(*people: Registration) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Registration, person.id).status for person in people]


def test_bulk_cancel_frees_seats_for_the_waitlist_and_tells_each_person(auth, client, app):
    owner = make_user()
    event = make_event(owner, capacity=2)
    first, second, waiting = (make_registration(event, f"p{n}@example.org") for n in range(3))
    auth.login(owner)
    done = bulk(client, event, "cancel", [first.id])
    assert "1 registration cancelled." in done.get_data(as_text=True)
    assert statuses(first, second, waiting) == ["cancelled", "confirmed", "confirmed"]
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.event_id == event.id)).all()
    assert kinds.count("registration_cancelled") == 1
    assert kinds.count("promoted") == 1
    assert db.session.get(Event, event.id).seats_taken == 2


def test_bulk_move_from_waitlist_keeps_to_the_capacity(auth, client, app):
    owner = make_user()
    event = make_event(owner, capacity=1)
    seated, *waiting = (make_registration(event, f"p{n}@example.org") for n in range(3))
    auth.login(owner)
    done = bulk(client, event, "promote", [person.id for person in waiting]).get_data(as_text=True)
    assert "2 people stay on the waitlist: no seat is free." in done
    event.capacity = 2
    db.session.commit()
    done = bulk(client, event, "promote", [person.id for person in waiting]).get_data(as_text=True)
    assert "1 person moved from the waitlist to a seat." in done
    assert statuses(seated, *waiting) == ["confirmed", "confirmed", "waitlisted"]


def test_bulk_action_on_everyone_matching_the_filters(auth, client, app):
    owner = make_user()
    event = make_event(owner, approval_required=True)
    chileans = [make_registration(event, f"p{n}@example.cl") for n in range(3)]
    other = make_registration(event, "ane@orkestra.eus")
    auth.login(owner)
    done = bulk(client, event, "approve", query="?q=.cl", scope="matching").get_data(as_text=True)
    assert "3 people approved." in done
    assert statuses(*chileans, other) == ["confirmed", "confirmed", "confirmed", "pending"]


def test_bulk_action_ignores_people_of_other_webinars(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    stranger = make_registration(make_event(), "stranger@example.org")
    auth.login(owner)
    done = bulk(client, event, "cancel", [stranger.id]).get_data(as_text=True)
    assert "Tick at least one person" in done
    assert statuses(stranger) == ["confirmed"]


def add(client, event: Event, **fields: object):
    page = f"/manage/webinars/{event.id}/registrations"
    return submit(client, f"{page}/add", fields, form_page=page, follow_redirects=True)


def test_organizer_adds_people_with_and_without_the_invitation(auth, client, app):
    owner = make_user()
    event = make_event(owner, capacity=1, approval_required=True)
    auth.login(owner)
    page = add(client, event, name="Camila Rojas", email="Camila@Example.CL", send_invitation="y")
    assert "Camila Rojas has a seat." in page.get_data(as_text=True)
    page = add(client, event, name="Ane Etxeberria", email="ane@orkestra.eus", organisation="Orkestra")
    assert "No seat is free: Ane Etxeberria is on the waitlist." in page.get_data(as_text=True)
    added = {
        r.email: r for r in db.session.scalars(select(Registration).where(Registration.event_id == event.id))
    }
    assert {email: r.status for email, r in added.items()} == {
        "camila@example.cl": "confirmed",
        "ane@orkestra.eus": "waitlisted",
    }
    mailed = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.event_id == event.id)
    ).all()
    assert mailed == ["camila@example.cl"]


def test_adding_someone_twice_or_with_hostile_input_shows_the_error_beside_the_field(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    make_registration(event, "ane@orkestra.eus")
    auth.login(owner)
    twice = add(client, event, name="Ane", email="ANE@orkestra.eus")
    assert twice.status_code == 200
    assert 'id="email-error"' in twice.get_data(as_text=True)
    assert "registered already" in twice.get_data(as_text=True)
    hostile = add(client, event, name="Ane\r\nBcc: x@example.org", email="not an address")
    text = hostile.get_data(as_text=True)
    assert 'id="name-error"' in text
    assert 'id="email-error"' in text
    assert db.session.scalar(select(Registration.id).where(Registration.name.contains("Bcc"))) is None


def test_exports_hold_the_filtered_rows_with_answers_and_no_formulas(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    ask_country_and_role(event)
    sign_up(
        event,
        '=HYPERLINK("http://evil.example")',
        "evil@example.org",
        "+cmd",
        Country="CL",
        Your_roles="Student",
    )
    sign_up(
        event,
        "Ane Etxeberria",
        "ane@orkestra.eus",
        "@Orkestra",
        Country="ES",
        Your_roles="Researcher\nStudent",
    )
    auth.login(owner)
    base = f"/manage/webinars/{event.id}/registrations"

    csv_rows = list(
        csv.reader(io.StringIO(client.get(f"{base}.csv?sort=name").get_data(as_text=True).lstrip("\ufeff")))
    )
    workbook = load_workbook(io.BytesIO(client.get(f"{base}.xlsx?sort=name").data), read_only=True)
    xlsx_rows = [
        ["" if cell is None else str(cell) for cell in row]
        for row in workbook.active.iter_rows(values_only=True)
    ]

    assert csv_rows == xlsx_rows
    header, *rows = xlsx_rows
    assert header[-2:] == ["Country", "Your roles"]
    assert rows[0][:3] == ['\'=HYPERLINK("http://evil.example")', "evil@example.org", "'+cmd"]
    assert rows[0][-2:] == ["Chile", "Student"]
    assert rows[1][2] == "'@Orkestra"
    assert rows[1][-2:] == ["Spain", "Researcher; Student"]
    assert not any(
        cell.data_type == "f"
        for row in load_workbook(io.BytesIO(client.get(f"{base}.xlsx").data)).active.iter_rows()
        for cell in row
    )

    only_chile = client.get(f"{base}.xlsx?q=evil").data
    assert len(list(load_workbook(io.BytesIO(only_chile), read_only=True).active.iter_rows())) == 2


TEN_THOUSAND = 10_000


def bulk_insert_people(event: Event, country: Question) -> None:
    """10,000 registrations and their answers in two statements (the service would send 10,000 emails)."""
    now = clock.now()
    rows = [
        {
            "event_id": event.id,
            "email": f"person{n:05d}@example.org",
            "name": f"Person {n:05d}",
            "organisation": "Universidad de Chile" if n % 2 else "Orkestra",
            "status": "confirmed" if n % 10 else "waitlisted",
            "token": f"token-{event.id}-{n}",
            "created_at": now - timedelta(minutes=n),
        }
        for n in range(TEN_THOUSAND)
    ]
    db.session.execute(insert(Registration), rows)
    ids = dict(
        db.session.execute(
            select(Registration.email, Registration.id).where(Registration.event_id == event.id)
        ).all()
    )
    answers = [
        {
            "registration_id": ids[f"person{n:05d}@example.org"],
            "question_id": country.id,
            "question_label": country.label,
            "kind": country.kind,
            "value": "CL" if n % 3 else "ES",
        }
        for n in range(TEN_THOUSAND)
    ]
    db.session.execute(insert(Answer), answers)
    db.session.commit()


def test_ten_thousand_registrations_page_filter_export_and_report(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    country, _ = ask_country_and_role(event)
    bulk_insert_people(event, country)
    auth.login(owner)
    base = f"/manage/webinars/{event.id}/registrations"

    first_page = client.get(base).get_data(as_text=True)
    assert "10000 people match." in first_page
    assert "Page 1 of 200" in first_page

    searched = client.get(f"{base}?q=person09999").get_data(as_text=True)
    assert "1 person matches." in searched
    assert "person09999@example.org" in searched

    filtered = client.get(f"{base}?answer={country.id}:ES&status=waitlisted&sort=email&dir=desc&page=3")
    # n divisible by 3 and by 10: every 30th person, 334 of them, 50 a page
    assert "334 people match." in filtered.get_data(as_text=True)

    exported = client.get(f"{base}.csv").get_data(as_text=True).lstrip("\ufeff")
    assert len(list(csv.reader(io.StringIO(exported)))) == TEN_THOUSAND + 1
    workbook = load_workbook(io.BytesIO(client.get(f"{base}.xlsx").data), read_only=True)
    countries = [row[-2] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert len(countries) == TEN_THOUSAND
    assert countries.count("Spain") == 3334

    report = client.get(f"/manage/webinars/{event.id}/report.csv").get_data(as_text=True).lstrip("\ufeff")
    report_rows = list(csv.reader(io.StringIO(report)))
    assert ["Country", "Spain", "3334"] in report_rows
    assert ["Registrations by status", "Waitlisted", "1000"] in report_rows


def test_an_erased_person_leaves_no_address_in_the_exports(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    privacy.erase(make_registration(event, "ane@orkestra.eus", name="Ane Etxeberria"))
    auth.login(owner)
    base = f"/manage/webinars/{event.id}/registrations"
    exported = client.get(f"{base}.csv").get_data(as_text=True).lstrip("\ufeff")
    (row,) = list(csv.DictReader(io.StringIO(exported)))
    workbook = load_workbook(io.BytesIO(client.get(f"{base}.xlsx").data), read_only=True)
    (_header, xlsx_row) = workbook.active.iter_rows(values_only=True)
    assert (row["Name"], row["Email"], row["Status"]) == ("(erased)", "", "Cancelled")
    assert xlsx_row[:2] == ("(erased)", None)
    assert "ane" not in exported.lower()
