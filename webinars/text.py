"""Small text helpers shared by forms and services."""

from __future__ import annotations

import re
import secrets
import unicodedata

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


def normalise_email(address: str) -> str:
    """The form an address is compared in: syntax checked, domain normalised, lower-cased.

    Raises ValueError with a readable message when the address is not valid.
    """
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from error
    return result.normalized.lower()


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "webinar"


def new_token() -> str:
    """An unguessable token for private links (256 bits)."""
    return secrets.token_urlsafe(32)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def single_line(value: str) -> str:
    """Collapse whitespace and drop control characters (names end up in mail headers)."""
    return " ".join(_CONTROL.sub(" ", value or "").split())
