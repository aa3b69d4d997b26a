"""The administrator's form for the site's brand."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, Field, StringField, URLField
from wtforms.validators import Length, Optional, ValidationError

from ..images.forms import uploaded
from ..models import SiteSettings
from ..rules import RuleError
from ..validators import BaseForm, web_link
from .service import BrandData, Logo, check_accent, read_logo

ACCEPT = "image/svg+xml,image/png,image/jpeg,image/webp,image/gif"


def _checked_logo(form: BaseForm, field: Field) -> None:
    """Read the upload now, so a refused file is reported beside its field; the result waits on
    ``field.logo`` for the service."""
    field.logo = None
    if not uploaded(field) or not isinstance(field.data, FileStorage):
        return
    limit = current_app.config["IMAGE_MAX_BYTES"]
    data = field.data.stream.read(limit + 1)
    try:
        field.logo = read_logo(data)
    except RuleError as error:
        raise ValidationError(error.messages[0]) from error


class BrandForm(BaseForm):
    site_name = StringField(
        _l("Site name"), validators=[Optional(), Length(max=80)], render_kw={"autocomplete": "organization"}
    )
    logo = FileField(_l("Logo"), validators=[_checked_logo], render_kw={"accept": ACCEPT})
    remove_logo = BooleanField(_l("Remove the logo"))
    accent_color = StringField(
        _l("Accent colour"),
        validators=[Optional()],
        render_kw={"placeholder": "#0b5cad", "spellcheck": "false", "autocomplete": "off"},
    )
    organisation_label = StringField(_l("Organisation name"), validators=[Optional(), Length(max=120)])
    organisation_url = URLField(
        _l("Organisation website"), validators=[Optional(), Length(max=500), web_link]
    )
    privacy_label = StringField(_l("Privacy notice: link text"), validators=[Optional(), Length(max=120)])
    privacy_url = URLField(_l("Privacy notice: address"), validators=[Optional(), Length(max=500), web_link])
    imprint_label = StringField(_l("Imprint or contact: link text"), validators=[Optional(), Length(max=120)])
    imprint_url = URLField(
        _l("Imprint or contact: address"), validators=[Optional(), Length(max=500), web_link]
    )

    def validate_accent_color(self, field: StringField) -> None:
        try:
            field.data = check_accent(field.data or "")
        except RuleError as error:
            raise ValidationError(error.messages[0]) from error

    def fill_from(self, settings: SiteSettings | None) -> None:
        if settings is None:
            return
        for name in (
            "site_name",
            "accent_color",
            "organisation_label",
            "organisation_url",
            "privacy_label",
            "privacy_url",
            "imprint_label",
            "imprint_url",
        ):
            getattr(self, name).data = getattr(settings, name)

    def to_data(self) -> BrandData:
        logo: Logo | None = getattr(self.logo, "logo", None)
        return BrandData(
            site_name=self.site_name.data or "",
            accent_color=self.accent_color.data or "",
            organisation_label=self.organisation_label.data or "",
            organisation_url=self.organisation_url.data or "",
            privacy_label=self.privacy_label.data or "",
            privacy_url=self.privacy_url.data or "",
            imprint_label=self.imprint_label.data or "",
            imprint_url=self.imprint_url.data or "",
            logo=logo,
            remove_logo=bool(self.remove_logo.data),
        )
