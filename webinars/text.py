"""Small text helpers shared by forms and services."""

from __future__ import annotations

import re
import secrets
import unicodedata

import idna
import nh3
from email_validator import EmailNotValidError, validate_email
from markdown_it import MarkdownIt
from markupsafe import Markup

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "hr",
    "h2",
    "h3",
    "h4",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


def render_markdown(source: str) -> Markup:
    """Markdown to HTML that is safe to show: rendered, then sanitised."""
    html = _markdown.render(source or "")
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


class UnsupportedAddress(ValueError):
    """A valid address whose part before the @ is not ASCII.

    Such an address can only be delivered through relays that offer SMTPUTF8, and most do not, so
    the invitation would fail after the person was told they are registered. We refuse it at the
    door instead; internationalised domains are fine (they travel in their IDNA form).
    """


def normalise_email(address: str) -> str:
    """The form an address is compared in: syntax checked, domain normalised, lower-cased.

    Raises ValueError with a readable message when the address is not valid, UnsupportedAddress
    when its local part is not ASCII.
    """
    try:
        result = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        if not (address.partition("@")[0].isascii()):
            raise UnsupportedAddress(str(error)) from error
        raise ValueError(str(error)) from error
    return result.normalized.lower()


def ascii_address(address: str) -> str:
    """``address`` as it travels over SMTP: an internationalised domain in its IDNA (xn--) form.

    A non-ASCII local part stays as it is (only SMTPUTF8 can carry it); a domain IDNA refuses is
    left alone for the relay to refuse, so this never raises.
    """
    local, _, domain = address.rpartition("@")
    if not local or domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except idna.IDNAError:
        return address


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "webinar"


def new_token() -> str:
    """An unguessable token for private links (256 bits)."""
    return secrets.token_urlsafe(32)


# C0 and C1 controls and DEL. Line and paragraph separators (U+2028/9) count too: several parsers
# (and mail clients) break lines on them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# What multi-line text (descriptions, message bodies) may hold besides printable characters.
_CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str | None, *, multiline: bool = False) -> bool:
    """True when ``value`` holds a character no text field accepts.

    One-line fields (names, titles, subjects, URLs) refuse every control character, CR and LF
    included; multi-line fields accept line breaks and tabs.
    """
    if not value:
        return False
    return bool((_CONTROL_BUT_LAYOUT if multiline else _CONTROL).search(value))


def single_line(value: str | None) -> str:
    """Collapse whitespace and drop control characters (names end up in mail headers)."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def clean_text(value: str | None) -> str:
    """Multi-line text without control characters other than line breaks and tabs.

    Renderers use this and ``single_line`` on what older rows may hold, so a character a form let
    through once can never make a calendar, a header or a feed impossible to build.
    """
    return _CONTROL_BUT_LAYOUT.sub("", value or "").replace("\r\n", "\n").replace("\r", "\n")


def display_name(value: str | None) -> str:
    """A person's name for a mail header or a calendar CN: one line, and no double quotes.

    A quote in a CN parameter needs RFC 6868 caret escapes, which most calendar parsers show
    literally; an apostrophe reads the same to people and needs no escaping anywhere.
    """
    return single_line(value).replace('"', "'")


_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
MAX_EMBED_ORIGINS = 20


def normalise_origin(value: str) -> str:
    """A web origin as browsers send it ("https://example.org" or "http://127.0.0.1:8080").

    Raises ValueError for anything else: a path, a query, credentials, a wildcard or another scheme,
    since the value ends up in a Content-Security-Policy header where each of them would widen or
    break the policy.
    """
    from urllib.parse import urlsplit

    text = (value or "").strip()
    if not text or len(text) > 200 or _CONTROL.search(text) or " " in text:
        raise ValueError(text)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        raise ValueError(text)
    if parts.path not in ("", "/") or parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError(text)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError(text) from error
    if not _HOST.match(host):
        raise ValueError(text)
    default_port = 443 if parts.scheme.lower() == "https" else 80
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def normalise_origins(lines: list[str]) -> list[str]:
    """Every line an origin (see normalise_origin), duplicates dropped, order kept."""
    origins: list[str] = []
    for line in lines:
        if line.strip():
            origin = normalise_origin(line)
            if origin not in origins:
                origins.append(origin)
    if len(origins) > MAX_EMBED_ORIGINS:
        raise ValueError("too many origins")
    return origins
