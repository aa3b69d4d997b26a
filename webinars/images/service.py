"""Storing accepted pictures and attaching them to webinars, series and speakers."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import clock
from ..extensions import db
from ..models import Image
from . import processing
from .processing import ImageRejected, ProcessedImage
from .storage import storage

__all__ = ["ImageChange", "ImageRejected", "ProcessedImage", "read_upload", "store", "srcset", "url"]


@dataclass
class ImageChange:
    """What a form asks of one picture slot: a new picture, new alt text, or removal.

    ``alt`` None keeps the alt text as it is (callers that never show the field, like the API)."""

    new: ProcessedImage | None = None
    alt: str | None = None
    remove: bool = False


def read_upload(upload: FileStorage) -> ProcessedImage:
    """Read at most the configured size (one byte more tells it was larger) and process the picture."""
    limit = current_app.config["IMAGE_MAX_BYTES"]
    data = upload.stream.read(limit + 1)
    return processing.process(data, max_bytes=limit, max_pixels=current_app.config["IMAGE_MAX_PIXELS"])


def store(processed: ProcessedImage) -> Image:
    """Write the files and add the row to the session (the caller's transaction commits it)."""
    key = secrets.token_hex(12)
    backend = storage()
    for suffix, data in processed.files.items():
        extension = suffix.rsplit(".", 1)[1]
        backend.save(f"{key}-{suffix}", data, processing.CONTENT_TYPES[extension])
    image = Image(
        key=key,
        width=processed.width,
        height=processed.height,
        widths=",".join(str(width) for width in processed.widths),
    )
    db.session.add(image)
    return image


def apply(owner: object, attribute: str, change: ImageChange | None) -> None:
    """Carry out ``change`` on ``owner.<attribute>`` and its ``<attribute>_alt``."""
    if change is None:
        return
    if change.remove:
        setattr(owner, attribute, None)
        setattr(owner, f"{attribute}_alt", "")
        return
    if change.new is not None:
        setattr(owner, attribute, store(change.new))
    if change.alt is not None:
        setattr(owner, f"{attribute}_alt", change.alt.strip())


def url(image: Image, width: int | None = None, extension: str = "jpg") -> str:
    chosen = width if width is not None else image.width_list[-1]
    return storage().url(f"{image.key}-{chosen}.{extension}")


def srcset(image: Image, extension: str) -> str:
    return ", ".join(f"{url(image, width, extension)} {width}w" for width in image.width_list)


def prune_unused(older_than: timedelta = timedelta(hours=1)) -> int:
    """Delete pictures no webinar, series, speaker or site logo shows any more (replaced or removed),
    with their files. Rows go first and files after the commit: a failure in between leaves files
    nobody points at, never a page pointing at a missing file. Returns how many pictures went."""
    from ..models import Event, Series, SiteSettings, Speaker

    # NULLs filtered out: NOT IN over a list holding NULL matches nothing.
    used = (
        select(Event.cover_id)
        .where(Event.cover_id.is_not(None))
        .union(
            select(Series.cover_id).where(Series.cover_id.is_not(None)),
            select(Speaker.photo_id).where(Speaker.photo_id.is_not(None)),
            select(SiteSettings.logo_id).where(SiteSettings.logo_id.is_not(None)),
        )
    )
    unused = list(
        db.session.scalars(
            select(Image).where(Image.id.not_in(used), Image.created_at < clock.now() - older_than)
        )
    )
    names = [
        f"{image.key}-{width}.{extension}"
        for image in unused
        for width in image.width_list
        for extension in processing.CONTENT_TYPES
    ]
    for image in unused:
        db.session.delete(image)
    db.session.commit()
    backend = storage()
    for name in names:
        backend.delete(name)
    return len(unused)
