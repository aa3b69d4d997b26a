"""Turn an outbox row into a MIME message that mail clients show as an invitation.

Structure with a calendar::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST; charset="utf-8"
      application/ics; name="invite.ics"   (attachment)

The Content-Type method always equals the METHOD inside the file.
"""

from __future__ import annotations

import binascii
import random
import sys
from email import quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy, Policy
from email.utils import format_datetime, parseaddr
from typing import Any

from ..models import OutboxMessage
from ..text import ascii_address, clean_text, display_name, single_line
from .transport import WireMessage


def _address(name: str, address: str) -> Address:
    local, _, domain = ascii_address(single_line(address)).rpartition("@")
    return Address(display_name=display_name(name), username=local, domain=domain or "localhost")


def sender_address(default_sender: str) -> Address:
    name, address = parseaddr(default_sender)
    return _address(name, address if "@" in address else f"{address}@localhost")


# Headers that many messages repeat word for word: the structure and the sender, and for a bulk
# send also the subject and (to the second) the date. Only To and Message-ID are always personal.
_STRUCTURE = frozenset(
    {
        "subject",
        "date",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "mime-version",
        "from",
        "auto-submitted",
        "list-unsubscribe-post",
    }
)
_parsed: dict[tuple[str, str], Any] = {}
_folded: dict[tuple[str, str, bool, str, int | None], bytes] = {}


class _ShapePolicy(EmailPolicy):
    """The stock policy, except that the structure of a message is parsed and folded once.

    The email package parses every header it is given into a tree, and folds each tree again when
    the message is written: for the dozen headers that describe the parts and the sender, that was
    a third of a message's cost, the same for every message of one shape. Parsed headers are
    immutable, so one parse serves every message, and one folding every message written under the
    same policy; personal headers (To, Message-ID) go the stock way.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is str and name.lower() in _STRUCTURE:
            key = (name, value)
            if key not in _parsed:
                if len(_parsed) > 1024:  # a bound, should values ever vary
                    _parsed.clear()
                _parsed[key] = super().header_store_parse(name, value)[1]
            return name, _parsed[key]
        return super().header_store_parse(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() not in _STRUCTURE:
            return super().fold_binary(name, value)
        key = (name, str(value), bool(self.utf8), self.linesep, self.max_line_length)
        if key not in _folded:
            if len(_folded) > 1024:
                _folded.clear()
            _folded[key] = super().fold_binary(name, value)
        return _folded[key]


# The stock SMTP policy (CRLF line endings, folded headers), with lines of 76 instead of 78. The
# stock folder fills a continuation line to the limit with one encoded word, which at 78 makes words
# of 77 characters where RFC 2047 allows 75; at 76 every word fits. The same limit gives quoted-
# printable and base64 lines of at most 76 (RFC 2045). smtplib switches to the UTF-8 form of the
# policy by itself when an address needs SMTPUTF8.
_LINE = 76
POLICY = _ShapePolicy().clone(linesep=SMTP.linesep, max_line_length=_LINE)


class _UnbreakableURLHeader(str):
    """A header that holds one ``<URL>`` (List-Unsubscribe).

    The stock folder would turn a URL longer than a line into encoded words, which no mail client
    decodes in that header. Folded before the value instead, the URL sits alone on its continuation
    line: as short as it can be, and still a URL.
    """

    name: str

    def __new__(cls, name: str, url: str) -> _UnbreakableURLHeader:
        header = super().__new__(cls, f"<{single_line(url)}>")
        header.name = name
        return header

    def fold(self, *, policy: Policy) -> str:
        line = f"{self.name}: {self}"
        if len(line) <= (policy.max_line_length or len(line)):
            return line + policy.linesep
        return f"{self.name}:{policy.linesep} {self}{policy.linesep}"


_NL = "\r\n"
_BOUNDARY_DIGITS = len(repr(sys.maxsize - 1))
# Part headers exactly as the email package writes them for build_email_message's calls (its
# make_alternative and make_mixed leave the first part without a MIME-Version of its own).
_TEXT_PART = 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
_HTML_PART = (
    'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n'
    "MIME-Version: 1.0\r\n"
)
_CALENDAR_PART = (
    'Content-Transfer-Encoding: base64\r\nContent-Type: text/calendar; method="{method}"; charset="utf-8"\r\n'
    "MIME-Version: 1.0\r\n"
)
_ATTACHMENT_PART = (
    "Content-Transfer-Encoding: base64\r\n"
    'Content-Disposition: attachment; filename="invite.ics"\r\n'
    'Content-Type: application/ics; method="{method}"\r\nMIME-Version: 1.0\r\n'
)
_METHODS = frozenset({"REQUEST", "CANCEL", "PUBLISH"})


def _boundary() -> str:
    # The email package's own form. "=" followed by "=" cannot occur in quoted-printable or base64
    # bodies, so no body can hold the boundary and no search for it is needed.
    return "=" * 15 + f"{random.randrange(sys.maxsize):0{_BOUNDARY_DIGITS}d}" + "=="


def _quoted_printable(text: str) -> str:
    lines = clean_text(text).encode("utf-8").splitlines()
    encoded = quoprimime.body_encode((b"\n".join(lines) + b"\n").decode("latin-1"), _LINE)
    return encoded.replace("\n", _NL)


def _base64(data: bytes) -> str:
    width = _LINE // 4 * 3
    lines = (binascii.b2a_base64(data[at : at + width]).decode("ascii") for at in range(0, len(data), width))
    return "".join(lines).replace("\n", _NL)


def _header(name: str, value: Any) -> str:
    return POLICY.fold_binary(name, POLICY.header_store_parse(name, value)[1]).decode("ascii")


def _multipart(subtype: str, boundary: str, parts: list[str]) -> str:
    head = f'Content-Type: multipart/{subtype};{_NL} boundary="{boundary}"{_NL}{_NL}'
    body = f"{_NL}--{boundary}{_NL}".join(parts)
    return f"{head}--{boundary}{_NL}{body}{_NL}--{boundary}--{_NL}"


def build_mime(message: OutboxMessage, *, sender: str) -> WireMessage | EmailMessage:
    """The message ready for the relay. An address that only SMTPUTF8 can carry (a non-ASCII local
    part) takes the email package's way, which knows that extension's form of every header."""
    from_address = sender_address(sender)
    to_address = _address(message.recipient_name, message.recipient)
    method = message.ics_method if message.ics else None
    if not (from_address.addr_spec + to_address.addr_spec).isascii() or (method and method not in _METHODS):
        return build_email_message(message, sender=sender)
    headers = [
        _header("From", from_address),
        _header("To", to_address),
        _header("Subject", single_line(message.subject)),
        _header("Date", format_datetime(message.created_at)),
        _header("Message-ID", message.message_id),
        _header("Auto-Submitted", "auto-generated"),
    ]
    if message.unsubscribe_url:
        headers.append(
            _header("List-Unsubscribe", _UnbreakableURLHeader("List-Unsubscribe", message.unsubscribe_url))
        )
        headers.append(_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    text = _quoted_printable(message.body_text or "")
    if not message.body_html and not method:
        body = _TEXT_PART + "MIME-Version: 1.0" + _NL + _NL + text
    else:
        alternatives = [_TEXT_PART + _NL + text]
        if message.body_html:
            alternatives.append(_HTML_PART + _NL + _quoted_printable(message.body_html))
        if method:
            calendar = _base64(bytes(message.ics or b""))
            alternatives.append(_CALENDAR_PART.format(method=method) + _NL + calendar)
            inner = _multipart("alternative", _boundary(), alternatives)
            attachment = _ATTACHMENT_PART.format(method=method) + _NL + calendar
            body = "MIME-Version: 1.0" + _NL + _multipart("mixed", _boundary(), [inner, attachment])
        else:
            body = "MIME-Version: 1.0" + _NL + _multipart("alternative", _boundary(), alternatives)
    return WireMessage(
        ("".join(headers) + body).encode("ascii"),
        envelope_from=from_address.addr_spec,
        envelope_to=to_address.addr_spec,
        message_id=message.message_id,
    )


def build_email_message(message: OutboxMessage, *, sender: str) -> EmailMessage:
    """The same message through the email package: the way for what build_mime does not write
    itself, and the reference its bytes are tested against."""
    mime = EmailMessage(policy=POLICY)
    mime["From"] = sender_address(sender)
    mime["To"] = _address(message.recipient_name, message.recipient)
    # Titles and subjects of older rows may hold what the forms now refuse: a header never carries it.
    mime["Subject"] = single_line(message.subject)
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        # RFC 8058 one-click unsubscribe, as large mailbox providers require for bulk mail.
        mime["List-Unsubscribe"] = _UnbreakableURLHeader("List-Unsubscribe", message.unsubscribe_url)
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    # Quoted-printable keeps every line 7-bit: no reliance on the relay's 8BITMIME support.
    mime.set_content(clean_text(message.body_text), subtype="plain", charset="utf-8", cte="quoted-printable")
    if message.body_html:
        mime.add_alternative(
            clean_text(message.body_html), subtype="html", charset="utf-8", cte="quoted-printable"
        )
    if message.ics and message.ics_method:
        if not message.body_html:
            mime.make_alternative()
        calendar_part = EmailMessage(policy=POLICY)
        calendar_part.set_content(
            message.ics,
            maintype="text",
            subtype="calendar",
            cte="base64",
            params={"method": message.ics_method, "charset": "utf-8"},
        )
        mime.attach(calendar_part)
        mime.make_mixed()
        mime.add_attachment(
            message.ics,
            maintype="application",
            subtype="ics",
            filename="invite.ics",
            params={"method": message.ics_method},
        )
    return mime
