"""The site's languages: which one a request is answered in, how each is named, and saying so in every
response.

The list lives in one setting, ``LANGUAGES`` (config.py); a new language is its code there and a
catalogue in webinars/translations/. Content (a webinar's title and description) may be in any of
``CONTENT_LANGUAGES``, which include the site's own: a programme can hold a webinar in French on a
site that speaks English, Spanish and Portuguese.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError
from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_babel import get_locale, refresh
from flask_babel import lazy_gettext as _l

# Query argument that chooses a language; emails put it in their links so the page opens in the
# language the reader registered in, whatever their browser says.
QUERY_ARGUMENT = "lang"
SESSION_KEY = "lang"


def site_languages() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def content_languages() -> tuple[str, ...]:
    """The languages a webinar or series may be held in: the site's, then any others configured."""
    extra = (code for code in current_app.config.get("CONTENT_LANGUAGES", ()) if code not in site_languages())
    return (*site_languages(), *extra)


def current() -> str:
    """The language of the page or message being rendered."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def default_content_language() -> str:
    """A new webinar's language: the one its organizer is using the site in, else the site's default.

    Outside a request (the CLI) nobody is using the site: asking Flask-Babel there would also make it
    remember the default for the rest of a long-lived app context."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    language = current()
    return language if language in content_languages() else current_app.config["BABEL_DEFAULT_LOCALE"]


@cache
def name(code: str, in_language: str | None = None) -> str:
    """A language's name as a reader of ``in_language`` says it, capitalised for a menu or a choice
    ("Spanish", "Espanhol"); by default in the language itself ("Español"), as language menus show it."""
    try:
        language = Locale.parse(code)
        shown = language.get_display_name(in_language or code) or code
    except (UnknownLocaleError, ValueError):
        return code
    # CLDR writes language names in lower case in Spanish and Portuguese; as a menu entry or a
    # choice in a form they start a phrase.
    return shown[:1].upper() + shown[1:]


def in_text(code: str, in_language: str | None = None) -> str:
    """A language's name inside a sentence ("In Spanish", "Em espanhol"): as CLDR writes it."""
    try:
        return Locale.parse(code).get_display_name(in_language or current()) or code
    except (UnknownLocaleError, ValueError):
        return code


def menu() -> dict[str, str]:
    """The site's languages, each named in itself, for the language menu."""
    return {code: name(code) for code in site_languages()}


def content_choices() -> list[tuple[str, str]]:
    """(code, name in the reader's language) for the content-language select of the forms."""
    return [(code, name(code, current())) for code in content_languages()]


def select_locale() -> str | None:
    """The page's language: ``?lang=`` (kept in the session for the pages that follow), then the one
    kept in the session, then the browser's Accept-Language. Outside a request (CLI, worker) the
    default, or whatever ``force_locale`` chose."""
    if not has_request_context():
        return None
    languages = site_languages()
    chosen = request.args.get(QUERY_ARGUMENT)
    if chosen in languages:
        session[SESSION_KEY] = chosen
        g.language_negotiated = True
        return chosen
    g.language_negotiated = True
    if session.get(SESSION_KEY) in languages:
        return str(session[SESSION_KEY])
    return request.accept_languages.best_match(languages)


def _language_headers(response: Response) -> Response:
    """Every page says its language (``Content-Language``) and that it depends on the browser's
    (``Vary: Accept-Language``), so a shared cache never hands a Spanish page to a Portuguese reader.
    A response in whose making no language was chosen (an image, a calendar file) says nothing."""
    if response.mimetype == "text/html" or g.get("language_negotiated"):
        response.vary.add("Accept-Language")
        response.headers.setdefault("Content-Language", current())
    return response


def _choose_afresh() -> None:
    """Flask-Babel keeps the language it chose in ``g``, which belongs to the app context; a request
    inside an app context that outlives it (a test's, a CLI command's) would otherwise inherit the
    previous request's language instead of negotiating its own."""
    refresh()
    g.pop("language_negotiated", None)


def register(app: Flask) -> None:
    app.before_request(_choose_afresh)
    app.after_request(_language_headers)


def language_errors(code: str | None) -> dict[str, str]:
    """A content language the site does not offer (a hand-made form or an API call) is refused."""
    if code and code not in content_languages():
        return {"language": str(_l("Choose one of the languages offered."))}
    return {}
