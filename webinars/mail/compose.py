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

from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, EmailPolicy, Policy
from email.utils import format_datetime, parseaddr
from typing import Any

from ..models import OutboxMessage
from ..text import ascii_address, clean_text, display_name, single_line


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
POLICY = _ShapePolicy().clone(linesep=SMTP.linesep, max_line_length=76)


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


def build_mime(message: OutboxMessage, *, sender: str) -> EmailMessage:
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
