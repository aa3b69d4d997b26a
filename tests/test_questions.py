"""Registration questions: the organizer builds them, the public form asks them, answers are kept."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from tests.factories import make_event, make_user
from tests.helpers import register_form, submit
from webinars.extensions import db
from webinars.models import Answer, Question, Registration
from webinars.questions import service as questions
from webinars.questions.service import QuestionData
from webinars.series import service as series_service


def _ask(event, **fields) -> Question:
    return questions.add_question(event, QuestionData(**fields))


def _standard_questions(event) -> dict[str, Question]:
    return {
        "role": _ask(
            event,
            kind="single_choice",
            label="Your role",
            label_es="Su función",
            label_pt="Sua função",
            options="Researcher\nPolicy maker\nOther",
            options_es="Investigador/a\nResponsable público\nOtra",
            required=True,
        ),
        "topics": _ask(
            event, kind="multiple_choice", label="Topics of interest", options="Energy\nWater\nCities"
        ),
        "country": _ask(event, kind="country", label="Country", label_es="País", required=True),
        "referral": _ask(event, kind="referral", label="How did you hear about us?"),
        "expectations": _ask(event, kind="long_text", label="What do you expect?"),
        "photos": _ask(event, kind="checkbox", label="I agree to appear in the recording", required=True),
    }


def test_organizer_adds_edits_orders_and_removes_questions(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    auth.login(owner)
    page = f"/manage/webinars/{event.id}/questions/"
    response = submit(client, page, {"kind": "single_choice", "label": "Your role", "options": "Only one"})
    assert response.status_code == 400
    assert "Write at least two choices, one per line." in response.get_data(as_text=True)

    response = submit(
        client,
        page,
        {"kind": "single_choice", "label": "Your role", "options": "A\nB", "options_es": "Uno"},
    )
    assert "Write one translation per choice, in the same order." in response.get_data(as_text=True)

    response = submit(client, page, {"kind": "short_text", "label": "Job title\x07", "required": "y"})
    assert "control characters" in response.get_data(as_text=True)

    assert (
        submit(client, page, {"kind": "short_text", "label": "Job title", "required": "y"}).status_code == 302
    )
    assert submit(client, page, {"kind": "country", "label": "Country"}).status_code == 302
    first, second = db.session.scalars(select(Question).order_by(Question.position)).all()
    assert (first.label, second.label) == ("Job title", "Country")

    assert submit(client, f"{page}{second.id}/up", {}, form_page=page).status_code == 302
    db.session.expire_all()
    assert [q.label for q in event.active_questions] == ["Country", "Job title"]

    edit = f"{page}{first.id}/edit"
    response = submit(client, edit, {"kind": "short_text", "label": "Position", "label_es": "Cargo"})
    assert response.status_code == 302
    assert submit(client, f"{page}{second.id}/remove", {}, form_page=page).status_code == 302
    db.session.expire_all()
    assert [q.label for q in event.active_questions] == ["Position"]
    assert event.active_questions[0].required is False


def test_public_form_asks_in_the_visitors_language_and_validates(client, app):
    event = make_event()
    asked = _standard_questions(event)
    page = client.get(f"/webinars/{event.slug}?lang=es").get_data(as_text=True)
    assert "Su función" in page
    assert "Investigador/a" in page
    assert "Responsable público" in page
    assert "País" in page
    assert "Alemania" in page  # Babel's Spanish name for Germany
    assert "Topics of interest" in page  # no Spanish given: the organizer's wording
    assert "Un buscador" in page or "Redes sociales" in page  # built-in referral choices, translated

    url = f"/webinars/{event.slug}"
    response = submit(client, url, register_form(), form_page=url)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.count('class="error"') >= 3  # role, country, checkbox: each next to its field
    assert db.session.scalar(select(Registration.id)) is None

    hostile = register_form(
        **{
            f"question_{asked['role'].id}": "Astronaut",
            f"question_{asked['country'].id}": "XX",
            f"question_{asked['photos'].id}": "y",
            f"question_{asked['expectations'].id}": "line\x00break",
        }
    )
    response = submit(client, url, hostile, form_page=url)
    assert response.status_code == 400
    body = response.get_data(as_text=True)  # in Spanish: the visitor chose it above
    # Each refusal is said beside its field and again in the error summary at the top of the form.
    assert body.count("Elija una opción de la lista.") == 4
    assert "caracteres de control" in body

    good = register_form(
        **{
            f"question_{asked['role'].id}": "Policy maker",
            f"question_{asked['topics'].id}": ["Energy", "Cities"],
            f"question_{asked['country'].id}": "CL",
            f"question_{asked['referral'].id}": "A colleague or friend",
            f"question_{asked['expectations'].id}": "Cases from Chile\nand the Basque Country",
            f"question_{asked['photos'].id}": "y",
        }
    )
    assert submit(client, url, good, form_page=url).status_code == 302
    registration = db.session.scalars(select(Registration)).one()
    given = {answer.question_label: answer for answer in registration.answers}
    assert given["Your role"].value == "Policy maker"
    assert given["Topics of interest"].value == "Energy\nCities"
    assert given["Country"].value == "CL"
    assert questions.display_value(given["Country"], "es") == "Chile"
    assert given["What do you expect?"].value == "Cases from Chile\nand the Basque Country"
    assert given["I agree to appear in the recording"].value == "yes"


def test_answers_are_shown_exported_and_survive_changes(auth, client, app):
    owner = make_user()
    event = make_event(owner)
    asked = _standard_questions(event)
    url = f"/webinars/{event.slug}"
    answers = {
        f"question_{asked['role'].id}": "Researcher",
        f"question_{asked['country'].id}": "AR",
        f"question_{asked['photos'].id}": "y",
        f"question_{asked['expectations'].id}": '=HYPERLINK("http://evil.example")',
    }
    assert submit(client, url, register_form(**answers), form_page=url).status_code == 302

    questions.update_question(
        asked["role"],
        QuestionData(kind="single_choice", label="Role (changed)", options="Student\nTeacher"),
    )
    questions.remove_question(asked["country"])

    auth.login(owner)
    page = client.get(f"/manage/webinars/{event.id}/registrations").get_data(as_text=True)
    assert "Researcher" in page
    assert "Argentina" in page
    assert "(removed)" in page

    exported = client.get(f"/manage/webinars/{event.id}/registrations.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    (row,) = rows
    assert row["Role (changed)"] == "Researcher"
    assert row["Country"] == "Argentina"
    assert row["I agree to appear in the recording"] == "Yes"
    assert row["What do you expect?"].startswith("'=")  # formula injection neutralised
    assert db.session.scalar(select(Answer.question_label).where(Answer.value == "Researcher")) == "Your role"


def test_questions_are_copied_from_the_series_previous_webinar(app):
    owner = make_user()
    series = series_service.create_series(owner, series_service.SeriesData(title="Smart Specialisation"))
    previous = make_event(owner, series_id=series.id)
    _ask(previous, kind="country", label="Country", required=True)
    _ask(previous, kind="short_text", label="Organisation type")
    removed = _ask(previous, kind="short_text", label="Old question")
    questions.remove_question(removed)

    following = make_event(owner, series_id=series.id)
    assert [(q.label, q.required) for q in following.active_questions] == [
        ("Country", True),
        ("Organisation type", False),
    ]
    unrelated = make_event(owner)
    assert unrelated.active_questions == []
