"""Form fields for pictures: the file, checked as it arrives, and its alt text."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, Field, Form, StringField
from wtforms.validators import Length, ValidationError

from ..validators import single_line_text
from .service import ImageChange, ImageRejected, read_upload

ACCEPT = "image/jpeg,image/png,image/webp,image/gif"


def uploaded(field: Field) -> bool:
    return isinstance(field.data, FileStorage) and bool(field.data.filename)


def picture(form: Form, field: Field) -> None:
    """Decode the upload now, so a refused file is reported next to its field; the result waits on
    ``field.processed`` for the service."""
    field.processed = None
    if not uploaded(field):
        return
    try:
        field.processed = read_upload(field.data)
    except ImageRejected as error:
        raise ValidationError(error.message) from error


def picture_field(label: str) -> FileField:
    return FileField(label, validators=[picture], render_kw={"accept": ACCEPT})


def alt_field(label: str) -> StringField:
    # No Optional(): it would stop the chain before the form's check that a picture has its alt text.
    return StringField(label, validators=[Length(max=300), single_line_text])


def require_alt(file_field: Field, alt: Field, has_picture: bool, removing: bool = False) -> None:
    """Alt text is required whenever a picture will be shown: a new one, or one kept."""
    if removing or not (uploaded(file_field) or has_picture):
        return
    if not (alt.data or "").strip():
        raise ValidationError(_l("Describe the picture for people who cannot see it."))


def change_from(file_field: Field, alt: Field, remove: BooleanField | None = None) -> ImageChange:
    return ImageChange(
        new=getattr(file_field, "processed", None),
        alt=alt.data or "",
        remove=bool(remove is not None and remove.data),
    )
