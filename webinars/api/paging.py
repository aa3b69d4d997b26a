"""Page-numbered lists with their links, in the body (``meta.links``) and in a ``Link`` header."""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import Select

from ..extensions import db


def _url(page: int) -> str:
    args = request.args.to_dict()
    args["page"] = str(page)
    return url_for(request.endpoint or "", **(request.view_args or {}), **args, _external=True)


def paginate(query: Select[Any], args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(the page as {"items", "meta"}, headers) for ``query``, following the ``page``/``per_page`` args."""
    per_page = min(
        args.get("per_page") or current_app.config["API_PER_PAGE"], current_app.config["API_MAX_PER_PAGE"]
    )
    page = db.paginate(query, page=args.get("page") or 1, per_page=per_page, error_out=False, count=True)
    last = max(page.pages, 1)
    links = {
        "self": _url(page.page),
        "first": _url(1),
        "last": _url(last),
        "next": _url(page.page + 1) if page.page < last else None,
        "prev": _url(min(page.page - 1, last)) if page.page > 1 else None,
    }
    header = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url and rel != "self")
    meta = {
        "page": page.page,
        "per_page": per_page,
        "total": page.total or 0,
        "pages": page.pages,
        "links": links,
    }
    return {"items": list(page.items), "meta": meta}, {"Link": header}
