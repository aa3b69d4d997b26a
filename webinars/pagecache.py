"""Public pages rendered once per (content version, language, URL) and reused by every visitor.

A public page is the same for every anonymous visitor but for a few parts: the form's CSRF token, the
CSP nonce, and the seats left, which change with every sign-up. The page is rendered with markers in
their place (a random, per-site string nobody can type into a page: it is derived from SECRET_KEY),
kept, and each response fills in its own values: the token and nonce of this response, the seats
from one small query. Rendering is what costs; filling in is string work.

Freshness comes from ``content_version``, one row that every change to what these pages show raises
in the transaction that makes the change (``_raise_version`` below, hooked on every session flush and
every ORM UPDATE/DELETE of a content model): the next request of any process reads the new number and
renders again. Time changes pages too (a webinar goes live, registration closes): a kept page is valid
until the next such moment of any webinar it shows, and never longer than PAGE_CACHE_SECONDS (the
bound on how late a webinar that just ended appears in the archive).

Pages are kept in each process (an LRU of PAGE_CACHE_SIZE pages) and, when PAGE_CACHE_REDIS_URL is
set, in Redis as well, so a page rendered by one process serves all of them.

Shared caches (nginx, a CDN) may keep a page only when it holds nothing personal: no CSRF token, no
session cookie. A shared cache announces itself with a ``Surrogate-Capability`` request header; it
then gets the page without the token (``static/site.js`` fetches one from ``/csrf-token`` into the
form), with ``Cache-Control: public``. A browser talking to the app directly gets the token in the
page, as Flask-WTF has it, and a private response.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import pickle
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    jsonify,
    make_response,
    request,
    session,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Select, bindparam, func, insert, select, update
from sqlalchemy import event as orm_event
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import ORMExecuteState, Session

from . import clock
from .database import autocommit_connection
from .extensions import db
from .models import ContentVersion, Event, Image, Question, Series, SiteSettings, Speaker, Tag
from .security import csp_nonce

# What public pages show: a change to any of these raises the content version.
CONTENT_MODELS: tuple[type[Any], ...] = (Event, Series, Speaker, Image, Tag, Question, SiteSettings)
# Statements that change a content model without changing what pages show (a seat taken: the seats
# are filled in per response) say so with this execution option.
UNCHANGED_CONTENT = "page_content_unchanged"

_RENDERING = "webinars.pagecache.rendering"
_RAISED = "webinars.pagecache.raised"
F = TypeVar("F", bound=Callable[..., Any])


# --- the content version ---------------------------------------------------------------------------


def watch_content_models(*models: type[Any]) -> None:
    """Count more models as page content (a package whose rows appear on public pages)."""
    global CONTENT_MODELS
    CONTENT_MODELS = (*CONTENT_MODELS, *(model for model in models if model not in CONTENT_MODELS))


def _raise_version(session: Session) -> None:
    # Once per transaction is enough: other transactions see the number only after the commit.
    if session.info.get(_RAISED):
        return
    session.info[_RAISED] = True
    now = clock.now()
    raised = cast(
        CursorResult[Any],
        session.execute(
            update(ContentVersion)
            .where(ContentVersion.id == 1)
            .values(version=ContentVersion.version + 1, changed_at=now)
        ),
    )
    if raised.rowcount == 0:  # the row was removed (a truncated table): start counting again
        session.execute(insert(ContentVersion).values(id=1, version=1, changed_at=now))


def _changes_content(session: Session) -> bool:
    if any(isinstance(obj, CONTENT_MODELS) for obj in (*session.new, *session.deleted)):
        return True
    return any(isinstance(obj, CONTENT_MODELS) and session.is_modified(obj) for obj in session.dirty)


@orm_event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: object, _instances: object) -> None:
    if _changes_content(session):
        _raise_version(session)


@orm_event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(UNCHANGED_CONTENT):
        return
    mapper = state.bind_mapper
    if mapper is not None and issubclass(mapper.class_, CONTENT_MODELS):
        _raise_version(state.session)


@orm_event.listens_for(Session, "after_commit")
@orm_event.listens_for(Session, "after_rollback")
def _transaction_ended(session: Session) -> None:
    session.info.pop(_RAISED, None)


def content_version() -> tuple[int, datetime | None]:
    row = db.session.execute(
        select(ContentVersion.version, ContentVersion.changed_at).where(ContentVersion.id == 1)
    ).first()
    return (row[0], row[1]) if row else (0, None)


# --- markers ---------------------------------------------------------------------------------------


def _rendering() -> dict[str, Any] | None:
    if not has_request_context():
        return None
    return cast(dict[str, Any] | None, request.environ.get(_RENDERING))


@functools.lru_cache(maxsize=8)
def _secret_of(key: str) -> str:
    return hmac.new(key.encode(), b"webinars page cache markers", hashlib.sha256).hexdigest()[:20]


def _secret() -> str:
    return _secret_of(str(current_app.config["SECRET_KEY"]))


def _marker(kind: str, arg: object = "") -> str:
    return f"@wbn{_secret()}.{kind}.{arg}@"


@functools.lru_cache(maxsize=8)
def _marker_pattern(secret: str) -> re.Pattern[str]:
    # A number in JSON was written as the string "marker": the quotes go with it.
    return re.compile(f'"@wbn{secret}\\.left\\.(\\d+)@"|@wbn{secret}\\.(csrf|nonce|left|badge)\\.(\\d*)@')


def watch(event: Event) -> str:
    """Templates call this for every webinar a page shows: the page is kept only until the next
    moment that changes how that webinar reads (registration closes, it starts, it ends), and its
    seats are filled in per response. Returns nothing to print."""
    state = _rendering()
    if state is not None:
        now = clock.now()
        moments = [event.registration_closes_at, event.starts_at, event.ends_at]
        state["moments"].extend(moment for moment in moments if moment > now)
        if event.capacity is not None:
            state["seats"][event.id] = (event.capacity, event.seats_taken)
    return ""


def seats_badge(event: Event) -> Markup:
    """The badge of a webinar with a capacity that is open for registration."""
    watch(event)
    if _rendering() is not None:
        return Markup(_marker("badge", event.id))
    return _badge(event.seats_left or 0)


def _badge(seats_left: int) -> Markup:
    if seats_left > 0:
        text = ngettext("%(num)s seat left", "%(num)s seats left", seats_left)
        return Markup('<span class="badge confirmed">{}</span>').format(text)
    return Markup('<span class="badge waitlisted">{}</span>').format(_("Fully booked: waitlist open"))


def seats_left(event: Event) -> int | str | None:
    """``event.seats_left`` for data a page carries (schema.org's remainingAttendeeCapacity)."""
    watch(event)
    if _rendering() is not None and event.capacity is not None:
        return _marker("left", event.id)
    return event.seats_left


# A kept page is its text cut at the markers, once: serving it is a join, not a search.
Piece = str | tuple[str, int]


def _cut(body: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    at = 0
    for match in _marker_pattern(_secret()).finditer(body):
        pieces.append(body[at : match.start()])
        if match.group(1) is not None:
            pieces.append(("left", int(match.group(1))))
        else:
            pieces.append((match.group(2), int(match.group(3) or 0)))
        at = match.end()
    pieces.append(body[at:])
    return tuple(piece for piece in pieces if piece != "")


def _left(seats: dict[int, tuple[int, int]], event_id: int) -> int:
    capacity, taken = seats.get(event_id, (0, 0))
    return max(capacity - taken, 0)


def _join(pieces: Iterable[Piece], seats: dict[int, tuple[int, int]], token: str, nonce: str) -> str:
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        kind, event_id = piece
        if kind == "csrf":
            out.append(token)
        elif kind == "nonce":
            out.append(nonce)
        elif kind == "left":
            out.append(str(_left(seats, event_id)))
        else:
            out.append(str(_badge(_left(seats, event_id))))
    return "".join(out)


def rendering() -> bool:
    return _rendering() is not None


# --- the store ---------------------------------------------------------------------------------------


@dataclass
class Page:
    pieces: tuple[Piece, ...]
    content_type: str
    valid_until: datetime
    rendered_at: datetime
    # the content version it was rendered at: a kept page is checked against the current one
    version: tuple[int, datetime | None]
    # hash of the text with its markers, the base of every response's ETag
    digest: str
    # capacity and seats taken of the webinars whose seats the page shows, as rendered
    seats: dict[int, tuple[int, int]] = field(default_factory=dict)
    # the webinars that were full when rendered: text that depends on it is part of the page
    full: frozenset[int] = frozenset()
    has_form: bool = False


class _Local:
    """This process's pages, by address (language and URL): one page per address, the latest."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.pages: OrderedDict[str, Page] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Page | None:
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: Page) -> None:
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()


class _Redis:
    """Pages shared by every process, by address and content version; a Redis that fails only costs
    a render."""

    def __init__(self, url: str, prefix: str, seconds: int) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix
        self.seconds = seconds

    def get(self, key: str) -> Page | None:
        try:
            raw = self.client.get(self.prefix + key)
        except Exception:  # a cache that is down is a cache miss
            return None
        # Written by this application only, under a key that holds a secret-derived prefix.
        return cast(Page, pickle.loads(cast(bytes, raw))) if raw else None

    def put(self, key: str, page: Page) -> None:
        try:
            self.client.set(self.prefix + key, pickle.dumps(page), ex=self.seconds)
        except Exception:  # the page is served all the same
            return


def _stores(app: Flask) -> tuple[_Local, _Redis | None]:
    return cast(tuple[_Local, _Redis | None], app.extensions["webinars.pagecache"])


def clear() -> None:
    """Forget the pages this process keeps (tests that change rows behind the services' back)."""
    _stores(current_app)[0].clear()


# --- serving -----------------------------------------------------------------------------------------


def _anonymous_visit() -> bool:
    if not current_app.config["PAGE_CACHE_ENABLED"] or request.method not in ("GET", "HEAD"):
        return False
    if request.cookies.get(current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")):
        return False
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return True
    # Signed-in people get their own header; flashed messages are for one visitor.
    return "_user_id" not in session and "_flashes" not in session


def _address() -> str:
    # The language decides the words; the URL (with its query) the rest.
    parts = [
        str(get_locale() or ""),
        request.full_path,
        current_app.config["BASE_URL"],
        current_app.config["SQLALCHEMY_DATABASE_URI"],
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _shared_key(address: str, version: tuple[int, datetime | None]) -> str:
    # The moment of the change goes with its number, so a database restored to an older number never
    # meets pages kept in Redis.
    number, changed_at = version
    return f"{address}:{number}:{changed_at.isoformat() if changed_at else ''}"


# Built once: constructing a statement costs more than running this one on a kept page.
@functools.cache
def _version_statement() -> Select[int, datetime | None]:
    return select(ContentVersion.version, ContentVersion.changed_at).where(ContentVersion.id == 1)


@functools.cache
def _version_and_seats_statement() -> Select[int, datetime | None, int, int | None, int]:
    return (
        select(
            ContentVersion.version,
            ContentVersion.changed_at,
            Event.id,
            Event.capacity,
            Event.seats_taken,
        )
        .select_from(ContentVersion)
        .outerjoin(Event, Event.id.in_(bindparam("ids", expanding=True)))
        .where(ContentVersion.id == 1)
    )


def _version_and_seats(
    event_ids: Iterable[int],
) -> tuple[tuple[int, datetime | None], dict[int, tuple[int, int]]]:
    """The content version and the seats of a kept page's webinars, in one round trip: on a kept
    page this is all the database work of the request. Core, not the ORM: no objects are needed."""
    ids = sorted(event_ids)
    statement, parameters = (
        (_version_and_seats_statement(), {"ids": ids}) if ids else (_version_statement(), {})
    )
    if db.engine.dialect.name == "postgresql":
        # One read on its own: in autocommit it needs neither BEGIN nor ROLLBACK, two of the four
        # round trips a kept page would otherwise cost. (SQLite has no round trips to save.)
        with autocommit_connection() as connection:
            rows = connection.execute(statement, parameters).all()
    else:
        rows = db.session.connection().execute(statement, parameters).all()
    if not rows:
        return (0, None), {}
    version = (cast(int, rows[0][0]), cast(datetime | None, rows[0][1]))
    seats: dict[int, tuple[int, int]] = {}
    for row in rows if ids else ():
        if row[2] is not None and row[3] is not None:
            seats[cast(int, row[2])] = (cast(int, row[3]), cast(int, row[4]))
    return version, seats


def _next_moments(now: datetime) -> list[datetime]:
    """When any webinar next starts, ends or closes registration: lists gain and lose webinars at
    those moments (the archive shows a webinar the moment it ends), so no page is kept past them."""
    row = db.session.execute(
        select(
            select(func.min(Event.starts_at)).where(Event.starts_at > now).scalar_subquery(),
            select(func.min(Event.ends_at)).where(Event.ends_at > now).scalar_subquery(),
            select(func.min(Event.registration_deadline))
            .where(Event.registration_deadline > now)
            .scalar_subquery(),
        )
    ).one()
    return [moment for moment in row if moment is not None]


def _full(seats: dict[int, tuple[int, int]]) -> frozenset[int]:
    return frozenset(event_id for event_id, (capacity, taken) in seats.items() if taken >= capacity)


def _render(
    view: Callable[..., Any], args: Any, kwargs: Any, version: tuple[int, datetime | None]
) -> tuple[Response, Page | None]:
    state: dict[str, Any] = {"moments": [], "seats": {}}
    request.environ[_RENDERING] = state
    try:
        response = make_response(view(*args, **kwargs))
    finally:
        request.environ.pop(_RENDERING, None)
    seats: dict[int, tuple[int, int]] = state["seats"]
    if response.direct_passthrough:
        return response, None
    if response.status_code != 200 or response.mimetype != "text/html":
        _fill_response(response, seats)
        return response, None
    body = response.get_data(as_text=True)
    token = g.get("csrf_token")
    if token:
        body = body.replace(str(token), _marker("csrf"))
    nonce = request.environ.get("webinars.csp_nonce")
    if nonce:
        body = body.replace(str(nonce), _marker("nonce"))
    now = clock.now()
    longest = now + timedelta(seconds=current_app.config["PAGE_CACHE_SECONDS"])
    state["moments"].extend(_next_moments(now))
    pieces = _cut(body)
    page = Page(
        pieces=pieces,
        content_type=response.content_type or "text/html; charset=utf-8",
        valid_until=min([longest, *state["moments"]]),
        rendered_at=now,
        version=version,
        digest=hashlib.sha256(body.encode()).hexdigest(),
        seats=seats,
        full=_full(seats),
        has_form=("csrf", 0) in pieces,
    )
    return response, page


def _fill_response(response: Response, seats: dict[int, tuple[int, int]]) -> None:
    """A response rendered with markers but not kept (an error page): fill them in at once."""
    body = response.get_data(as_text=True)
    if f"@wbn{_secret()}" in body:
        nonce = request.environ.get("webinars.csp_nonce", "")
        response.set_data(_join(_cut(body), seats, str(g.get("csrf_token", "")), str(nonce)))


def _for_shared_cache() -> bool:
    return "Surrogate-Capability" in request.headers


def _respond(page: Page, seats: dict[int, tuple[int, int]]) -> Response:
    shared = _for_shared_cache()
    token = generate_csrf() if page.has_form and not shared else ""
    body = _join(page.pieces, seats, token, csp_nonce())
    response = Response(body, content_type=page.content_type)
    personal = (page.has_form and not shared) or session.modified
    if personal:
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    # What a shared copy holds is the page and the seats it shows: the ETag is made of those.
    shown = ",".join(f"{event_id}:{_left(seats, event_id)}" for event_id in sorted(page.seats))
    response.set_etag(hashlib.sha256(f"{page.digest}|{shown}".encode()).hexdigest()[:32], weak=True)
    response.last_modified = page.rendered_at
    max_age = current_app.config["PAGE_MAX_AGE"]
    response.headers["Cache-Control"] = f"public, max-age={max_age}, stale-while-revalidate={4 * max_age}"
    response.vary.update(("Accept-Language", "Cookie"))
    response.make_conditional(request)
    return response


def _kept(address: str) -> tuple[Page | None, tuple[int, datetime | None], dict[int, tuple[int, int]] | None]:
    """The page kept for this address if it is still the current one, the content version, and the
    seats now (None when not read yet)."""
    local, shared = _stores(current_app)
    page = local.get(address)
    if page is not None:
        version, seats = _version_and_seats(page.seats)
        if page.version == version:
            return page, version, seats
    else:
        version, _none = _version_and_seats(())
    if shared is None:
        return None, version, None
    page = shared.get(_shared_key(address, version))
    if page is None:
        return None, version, None
    local.put(address, page)
    return page, version, None


def cached_page(view: F) -> F:
    """Serve a public page from the kept renders (see the module's docstring). Signed-in visitors,
    visitors with a message waiting and anything but GET get the page rendered as usual."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _anonymous_visit():
            return view(*args, **kwargs)
        address = _address()
        page, version, seats = _kept(address)
        if page is not None and page.valid_until <= clock.now():
            page = None
        if page is not None:
            if seats is None:
                seats = _version_and_seats(page.seats)[1]
            if _full(seats) != page.full:  # text beyond the markers changes when a webinar fills
                page = None
        if page is None:
            response, page = _render(view, args, kwargs, version)
            if page is None:
                return response
            if _for_shared_cache() and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
                # The render made this visitor a CSRF token, which a shared cache's copy must not carry.
                session.clear()
                session.modified = False
            local, shared = _stores(current_app)
            local.put(address, page)
            if shared is not None:
                shared.put(_shared_key(address, version), page)
            seats = page.seats
        return _respond(page, seats if seats is not None else page.seats)

    return cast(F, wrapper)


def _csrf_token() -> Response:
    """The visitor's CSRF token, for a form that came from a shared cache without one."""
    response = jsonify(token=generate_csrf())
    response.headers["Cache-Control"] = "private, no-store"
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("PAGE_CACHE_ENABLED", True)
    app.config.setdefault("PAGE_CACHE_SIZE", 512)
    app.config.setdefault("PAGE_CACHE_SECONDS", 60)
    app.config.setdefault("PAGE_MAX_AGE", 10)
    app.config.setdefault("PAGE_CACHE_REDIS_URL", "")
    shared = None
    if app.config["PAGE_CACHE_REDIS_URL"]:
        secret = hmac.new(str(app.config["SECRET_KEY"]).encode(), b"pages", hashlib.sha256).hexdigest()[:12]
        shared = _Redis(app.config["PAGE_CACHE_REDIS_URL"], f"webinars:page2:{secret}:", 3600)
    app.extensions["webinars.pagecache"] = (_Local(app.config["PAGE_CACHE_SIZE"]), shared)
    app.add_url_rule("/csrf-token", "csrf_token", _csrf_token)
    app.jinja_env.globals["watch"] = watch
    app.jinja_env.globals["seats_badge"] = seats_badge
