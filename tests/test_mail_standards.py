"""Every kind of email the project sends meets the mail standards, as a relay receives it.

RFC 2045: encoded body lines at most 76 characters. RFC 2047: encoded words at most 75. RFC 5322:
no line over 998, header lines folded at 78 unless one unbreakable token is longer. Each message
parses under ``email.policy.strict`` without a defect, and its calendar (if any) passes five
independent parsers; reminders are not REQUESTs, cancellations ask for no reply.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import strict
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.calendar_parsers import assert_calendar_valid
from tests.factories import make_event, make_user
from webinars.auth import service as accounts
from webinars.extensions import db
from webinars.mail import notifications, worker
from webinars.models import Broadcast, OutboxMessage
from webinars.permissions import Role
from webinars.registrations import service
from webinars.team import service as team

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
# Long enough to need folding and encoding everywhere: accents, quotes, a dash, 200 characters.
TITLE = ("Webinar #16: Estrategias de Especialización Inteligente — «Sostenibilidad» en América Latina " * 3)[
    :200
].strip()
NAME = 'José "Pepe" Núñez de la Fuente-Ñandú y Otros Apellidos Larguísimos'


# Account emails are not about a registration: they are built by auth, and checked by their own test below.
ACCOUNT_KINDS = {"password_reset", "team_invitation", "account_invitation"}


def template_kinds() -> set[str]:
    return {path.stem for path in TEMPLATES.glob("*.txt") if not path.name.startswith("_")} - ACCOUNT_KINDS


def _all_kinds_sent(smtp_sink) -> dict[str, bytes]:
    event = make_event(capacity=5, title=TITLE)
    registration = service.register(event, name=NAME, email="jose@ñandú.cl", consent=True).registration
    subjects = {"message": "Programa actualizado — ¿preguntas? " * 4, "recording": TITLE}
    for kind in sorted(template_kinds() - {"registration_confirmed"}):
        broadcast = None
        if kind in ("message", "recording"):
            broadcast = Broadcast(
                event_id=event.id,
                kind=kind,
                audience="all",
                subject=subjects[kind].strip(),
                body_md="Gracias por venir. " * 40 + "\n\nhttps://example.org/" + "x" * 120,
            )
            db.session.add(broadcast)
            db.session.flush()
        notifications.send(registration, kind, broadcast=broadcast, offset_minutes=60)
    db.session.commit()
    worker.deliver_due()
    kinds = dict(db.session.execute(select(OutboxMessage.message_id, OutboxMessage.kind)).all())
    sent: dict[str, bytes] = {}
    for item in smtp_sink.received:
        message_id = item.parsed()["Message-ID"]
        sent[kinds[message_id]] = item.raw
    return sent


def _header_lines(raw: bytes) -> list[bytes]:
    lines: list[bytes] = []
    for block in [raw, *(m.group(1) for m in re.finditer(rb"\r\n--[^\r\n]+\r\n(.*?)\r\n\r\n", raw, re.S))]:
        lines.extend(block.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    return lines


def _assert_line_limits(kind: str, raw: bytes) -> None:
    assert b"\n" not in raw.replace(b"\r\n", b""), f"{kind}: a bare LF"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, f"{kind}: a line of {len(line)} characters"
    for line in _header_lines(raw):
        unbreakable = len(line.split()) == 1 and line[:1] in (b" ", b"\t")
        assert len(line) <= 78 or unbreakable, f"{kind}: header line of {len(line)}: {line[:90]!r}"
    for word in ENCODED_WORD.findall(raw):
        assert len(word) <= 75, f"{kind}: encoded word of {len(word)}: {word!r}"
    parsed = email.message_from_bytes(raw, policy=strict)
    for part in parsed.walk():
        if part.is_multipart():
            continue
        encoding = part.get("Content-Transfer-Encoding", "7bit").lower()
        assert encoding in ("quoted-printable", "base64", "7bit"), f"{kind}: {encoding}"
        payload = part.get_payload(decode=False)
        for line in payload.splitlines():
            assert len(line) <= 76, f"{kind}: {encoding} line of {len(line)} in {part.get_content_type()}"


def _assert_strictly_parsed(kind: str, raw: bytes) -> EmailMessage:
    parsed: EmailMessage = email.message_from_bytes(raw, policy=strict)  # type: ignore[assignment]
    for part in parsed.walk():
        assert not part.defects, f"{kind}: {part.defects}"
        for name, value in part.items():  # header values parse lazily: read each one
            assert not getattr(value, "defects", ()), f"{kind}: {name}: {value.defects}"
        if not part.is_multipart():
            part.get_content()
    return parsed


def test_every_template_is_a_kind_the_project_sends():
    assert template_kinds() == set(notifications.SUBJECTS) | {"reminder", "message"}


def test_account_emails_meet_the_line_limits_and_parse_strictly(mail_app, smtp_sink):
    user = make_user(name=NAME, email="ana@ñandú.cl")
    accounts.request_password_reset(user.email)
    inviter = make_user(name=NAME, admin=True)
    team.invite(make_event(inviter, title=TITLE), inviter, "jose@ñandú.cl", Role.EDITOR)
    accounts.invite_organizer(inviter, "pepe@ñandú.cl")
    worker.deliver_due()
    kinds = dict(db.session.execute(select(OutboxMessage.message_id, OutboxMessage.kind)).all())
    sent = {kinds[item.parsed()["Message-ID"]]: item.raw for item in smtp_sink.received}
    assert set(sent) == ACCOUNT_KINDS
    for kind, raw in sent.items():
        _assert_line_limits(kind, raw)
        parsed = _assert_strictly_parsed(kind, raw)
        assert parsed["To"].addresses[0].domain == "xn--and-6ma2c.cl"
        if kind == "password_reset":
            assert "Pepe" in str(parsed["To"])


def test_every_kind_of_email_meets_the_line_limits_and_parses_strictly(mail_app, smtp_sink):
    sent = _all_kinds_sent(smtp_sink)
    assert set(sent) == template_kinds()
    for kind, raw in sent.items():
        _assert_line_limits(kind, raw)
        parsed = _assert_strictly_parsed(kind, raw)
        assert parsed["To"].addresses[0].domain == "xn--and-6ma2c.cl"
        assert "Pepe" in str(parsed["To"])
        subject = str(parsed["Subject"])
        assert "\n" not in subject
        assert len(subject) > 60


def _calendar(parsed: EmailMessage) -> tuple[bytes, str] | None:
    parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    (part,) = parts
    return part.get_payload(decode=True), part.get_param("method")


@pytest.mark.parametrize("kind", ["registration_confirmed", "invite_resent", "registration_cancelled"])
def test_calendars_pass_five_parsers_and_names_need_no_carets(mail_app, smtp_sink, kind):
    event = make_event(capacity=5, title=TITLE)
    registration = service.register(event, name=NAME, email="jose@ñandú.cl", consent=True).registration
    if kind == "registration_cancelled":
        service.cancel(registration)
    elif kind == "invite_resent":
        notifications.resend_invitation(registration)
        db.session.commit()
    worker.deliver_due()
    raws = {
        item.parsed()["Subject"].split(":")[0]: item.raw
        for item in smtp_sink.received
        if _calendar(item.parsed()) is not None
    }
    assert raws
    for raw in raws.values():
        ics, method = _calendar(email.message_from_bytes(raw, policy=strict))  # type: ignore[misc]
        assert b"^'" not in ics
        assert b"^^" not in ics
        check = assert_calendar_valid(ics)
        for parser in ("vobject", "nodeical"):
            (vevent,) = check[parser]["events"]
            (attendee,) = vevent["attendees"]
            assert attendee["cn"] == NAME.replace('"', "'"), parser
            assert attendee["address"].lower() == "jose@xn--and-6ma2c.cl"
            if method == "CANCEL":
                assert attendee["rsvp"] is None, parser
                assert attendee["partstat"], parser
            else:
                assert attendee["rsvp"] == "TRUE"
        assert check["vobject"]["method"] == check["nodeical"]["method"] == method


def test_a_reminder_carries_no_invitation(mail_app, smtp_sink, frozen_clock):
    event = make_event(capacity=5)
    registration = service.register(event, name="Ana", email="ana@example.org", consent=True).registration
    worker.deliver_due()
    smtp_sink.clear()
    notifications.send(registration, "reminder", offset_minutes=60)
    db.session.commit()
    worker.deliver_due()
    (item,) = smtp_sink.received
    raw = item.raw
    assert b"METHOD:REQUEST" not in raw
    assert b"method=REQUEST" not in raw
    parsed = _assert_strictly_parsed("reminder", raw)
    assert _calendar(parsed) is None
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert event.join_url in body
    assert "calendar.google.com" in body


# --- the bytes build_mime writes itself --------------------------------------------------------------

_BOUNDARY = re.compile(rb"={15}\d{19}==")


def _outbox_row(**fields: object) -> OutboxMessage:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        b"SUMMARY:Webinar #16 \xe2\x80\x94 Smart Specialisation\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ) * 4
    values: dict[str, object] = {
        "recipient_name": "Ane Etxeberria Pérez",
        "recipient": "ane@example.org",
        "subject": "Invitation: Webinar #16 — Smart Specialisation Strategies and Sustainability, "
        "from the Basque Country to Chile",
        "created_at": datetime(2026, 11, 25, 12, 0, tzinfo=UTC),
        "message_id": "<webinars.42.reg-7@webinars.example.org>",
        "unsubscribe_url": "https://webinars.example.org/unsubscribe/" + "t0k3n" * 20,
        "body_text": "Hello Ane,\n\nÑandú  \nA line long enough to be folded by quoted-printable: "
        + "word " * 30
        + "\n.\nFrom here\n",
        "body_html": "<p>Hello Ane,</p>\n<p>" + "¡hola! " * 40 + "</p>\n",
        "ics": ics,
        "ics_method": "REQUEST",
    }
    values.update(fields)
    return OutboxMessage(**values)


@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"ics_method": "CANCEL"},
        {"body_html": ""},
        {"ics": None, "ics_method": None},
        {"ics": None, "ics_method": None, "body_html": "", "unsubscribe_url": ""},
        {"ics": None, "ics_method": None, "body_html": "", "body_text": ""},
        {"recipient_name": "", "subject": "Plain ASCII subject"},
        {"recipient_name": 'Quoted "name", with comma', "recipient": "ane@exämple.org"},
    ],
    ids=["invitation", "cancel", "no-html", "message", "plain", "empty", "ascii", "idna-domain"],
)
def test_build_mime_writes_what_the_email_package_writes(shape: dict[str, object]) -> None:
    from webinars.mail.compose import build_email_message, build_mime
    from webinars.mail.transport import WireMessage

    row = _outbox_row(**shape)
    sender = "Webinars — Orkestra <webinars@example.org>"

    fast = build_mime(row, sender=sender)
    reference = build_email_message(row, sender=sender).as_bytes()

    assert isinstance(fast, WireMessage)
    assert _BOUNDARY.sub(b"BOUNDARY", fast.as_bytes()) == _BOUNDARY.sub(b"BOUNDARY", reference)
    parsed = email.message_from_bytes(fast.as_bytes(), policy=strict)
    assert parsed["Message-ID"] == row.message_id
    assert fast.envelope_to == str(parsed["To"].addresses[0].addr_spec)


def test_an_address_only_smtputf8_can_carry_takes_the_email_package_s_way() -> None:
    from webinars.mail.compose import build_mime

    built = build_mime(_outbox_row(recipient="añe@example.org"), sender="webinars@example.org")

    assert isinstance(built, EmailMessage)
