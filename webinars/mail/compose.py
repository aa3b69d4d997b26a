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
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from ..models import OutboxMessage


def sender_address(default_sender: str) -> Address:
    name, address = parseaddr(default_sender)
    local, _, domain = address.partition("@")
    return Address(display_name=name, username=local, domain=domain or "localhost")


# RFC 5322 allows 998 characters a line; not folding keeps headers such as List-Unsubscribe on one
# line, where some receivers expect them. CRLF line endings as SMTP requires.
POLICY = SMTP.clone(max_line_length=998)


def build_mime(message: OutboxMessage, *, sender: str) -> EmailMessage:
    mime = EmailMessage(policy=POLICY)
    mime["From"] = sender_address(sender)
    local, _, domain = message.recipient.partition("@")
    mime["To"] = Address(display_name=message.recipient_name, username=local, domain=domain)
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = message.message_id
    mime["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        # RFC 8058 one-click unsubscribe, as large mailbox providers require for bulk mail.
        mime["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    # Quoted-printable keeps every line 7-bit: no reliance on the relay's 8BITMIME support.
    mime.set_content(message.body_text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if message.body_html:
        mime.add_alternative(message.body_html, subtype="html", charset="utf-8", cte="quoted-printable")
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
