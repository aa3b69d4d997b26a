"""The sitemap and robots.txt: what search engines may read, public pages only."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Event, Series
from ..sharing import external_url
from . import queries

# Named "sharing" as the metadata it belongs with; it lives in events because it lists their pages.
bp = Blueprint("sharing", __name__)


@bp.route("/robots.txt")
def robots() -> ResponseReturnValue:
    # Organizer pages, manage links and sign-up confirmations are nobody's search result.
    lines = [
        "User-agent: *",
        "Disallow: /manage/",
        "Disallow: /login",
        "Disallow: /setup",
        "Disallow: /account/",
        "Disallow: /r/",
        "Disallow: /embed/",
        "Disallow: /api/",
        "Allow: /",
        f"Sitemap: {external_url('sharing.sitemap')}",
        "",
    ]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.route("/sitemap.xml")
def sitemap() -> ResponseReturnValue:
    events = db.session.scalars(
        select(Event).where(queries.is_public()).order_by(Event.starts_at.desc(), Event.id.desc())
    )
    entries = [
        (external_url("events.index"), clock.now()),
        (external_url("events.past"), None),
        (external_url("series.index"), None),
    ]
    entries += [
        (external_url("series.detail", slug=series.slug), series.updated_at)
        for series in db.session.scalars(select(Series).order_by(Series.id))
    ]
    entries += [(external_url("events.detail", slug=event.slug), event.updated_at) for event in events]
    body = render_template("sharing/sitemap.xml", entries=entries)
    return Response(body, mimetype="application/xml")
