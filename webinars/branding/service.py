"""Changing the site's brand, and the checks a logo and an accent colour must pass.

The accent colour is the background of every button, under white text, so it must reach the WCAG AA
contrast for normal text (4.5:1) against white: a lighter colour is refused with a darker one
suggested, rather than darkened silently into a colour the administrator never chose.

A logo is either a raster picture (decoded, resized and stripped by ``webinars.images`` like any other
picture) or an SVG. An SVG is a document that can carry script, so it passes two guards: it is parsed
with defusedxml (no DTD, no entities) and refused if it holds script, event handlers, embedded
documents or references outside itself; and it is only ever shown through ``<img>`` and served with
``Content-Security-Policy: sandbox``, where a browser runs no script even if one slipped through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from flask import current_app
from flask_babel import gettext as _

from .. import site
from ..extensions import db
from ..images import processing
from ..images import service as images
from ..models import SiteSettings
from ..rules import RuleError
from ..validators import text_errors

MIN_CONTRAST = 4.5
WHITE = "#ffffff"
SVG_MAX_BYTES = 200 * 1024
HEX_COLOUR = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

_SVG_NAMESPACE = "http://www.w3.org/2000/svg"
# Elements that run script, show another document or load one: none belongs in a logo.
_FORBIDDEN_ELEMENTS = frozenset(
    {"script", "foreignobject", "iframe", "embed", "object", "handler", "listener", "audio", "video"}
)
# Pictures embedded in the file itself are fine (a logo often carries one); anything else is a
# reference outside the file, or a javascript: address.
_EMBEDDED_PICTURE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")
_EXTERNAL_IN_CSS = re.compile(r"@import|url\(\s*['\"]?\s*(?!#)|expression\(|javascript:", re.IGNORECASE)


@dataclass
class BrandData:
    """What the settings form (or a command) asks for; ``logo`` None keeps the current logo."""

    site_name: str = ""
    accent_color: str = ""
    organisation_label: str = ""
    organisation_url: str = ""
    privacy_label: str = ""
    privacy_url: str = ""
    imprint_label: str = ""
    imprint_url: str = ""
    logo: Logo | None = None
    remove_logo: bool = False


@dataclass
class Logo:
    """A checked logo: a processed raster picture, or the text of an SVG that passed ``check_svg``."""

    raster: processing.ProcessedImage | None = None
    svg: str | None = None


# --- colour -----------------------------------------------------------------------------------------


def normalise_colour(value: str) -> str:
    """``#RGB`` or ``#RRGGBB`` (the # optional) as lower-case ``#rrggbb``; ValueError otherwise."""
    match = HEX_COLOUR.match(value.strip())
    if not match:
        raise ValueError(value)
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return f"#{digits}"


def _channels(colour: str) -> tuple[int, int, int]:
    digits = normalise_colour(colour)[1:]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in _channels(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def darkened_for_white_text(colour: str) -> str:
    """The same hue, darkened step by step until white text on it reaches ``MIN_CONTRAST``."""
    red, green, blue = _channels(colour)
    factor = 1.0
    candidate = normalise_colour(colour)
    while contrast_ratio(candidate, WHITE) < MIN_CONTRAST and factor > 0:
        factor = round(factor - 0.02, 2)
        candidate = "#{:02x}{:02x}{:02x}".format(*(int(channel * factor) for channel in (red, green, blue)))
    return candidate


def check_accent(value: str) -> str:
    """The colour as stored (``#rrggbb``, or empty for the stylesheet's own); RuleError otherwise."""
    if not value.strip():
        return ""
    try:
        colour = normalise_colour(value)
    except ValueError as error:
        raise RuleError.on(
            "accent_color", _("Write the colour as a hex code such as #0b5cad (# and six digits 0-9, a-f).")
        ) from error
    ratio = contrast_ratio(colour, WHITE)
    if ratio < MIN_CONTRAST:
        raise RuleError.on(
            "accent_color",
            _(
                "White text on %(colour)s has a contrast of %(ratio)s:1; buttons need at least 4.5:1 to be "
                "readable. Choose a darker colour, for example %(suggestion)s.",
                colour=colour,
                ratio=f"{ratio:.2f}",
                suggestion=darkened_for_white_text(colour),
            ),
        )
    return colour


# --- logo -------------------------------------------------------------------------------------------


def looks_like_svg(data: bytes) -> bool:
    """A document rather than a picture: the bytes start with markup (after a BOM and white space)."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _namespace(name: str) -> str:
    return name[1:].split("}", 1)[0] if name.startswith("{") else ""


def _refuse(message: str) -> RuleError:
    return RuleError.on("logo", message)


def check_svg(data: bytes) -> str:
    """The SVG's text when it is a picture and nothing more; RuleError on ``logo`` otherwise."""
    if len(data) > SVG_MAX_BYTES:
        raise _refuse(_("An SVG logo may be at most %(size)s KB.", size=SVG_MAX_BYTES // 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(_("This SVG is not UTF-8 text: export it again as plain SVG.")) from error
    if "<?xml-stylesheet" in text:
        raise _refuse(_("This SVG loads a stylesheet from elsewhere: export it with its styles inside."))
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise _refuse(_("This SVG declares a DTD or entities, which a logo does not need.")) from error
    except (ParseError, ValueError) as error:
        raise _refuse(_("This file is neither a picture nor a well-formed SVG.")) from error
    if root.tag != f"{{{_SVG_NAMESPACE}}}svg":
        raise _refuse(_("This file is neither a picture nor a well-formed SVG."))
    for element in root.iter():
        _check_element(element)
    return text


def _check_element(element: Element) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    name = _local(tag)
    if name in _FORBIDDEN_ELEMENTS or _namespace(tag) == "http://www.w3.org/1999/xhtml":
        raise _refuse(_("An SVG logo may not contain scripts or embedded pages (<%(name)s>).", name=name))
    external_style = _("An SVG logo may not load anything from elsewhere (styles with url() or @import).")
    if name == "style" and _EXTERNAL_IN_CSS.search(element.text or ""):
        raise _refuse(external_style)
    # Animations could swap a link's target after these checks: a logo has no need of animated links.
    animates_link = name in ("set", "animate") and "href" in element.attrib.get("attributeName", "").lower()
    for attribute, value in element.attrib.items():
        attribute_name = _local(attribute)
        if attribute_name.startswith("on"):
            raise _refuse(
                _("An SVG logo may not contain scripts (the %(name)s attribute).", name=attribute_name)
            )
        target = value.strip()
        if animates_link or (
            attribute_name == "href" and not (target.startswith("#") or _EMBEDDED_PICTURE.match(target))
        ):
            raise _refuse(
                _(
                    "An SVG logo may not link or refer to anything outside the file (%(value)s).",
                    value=target[:60],
                )
            )
        if _EXTERNAL_IN_CSS.search(value):
            raise _refuse(external_style)


def read_logo(data: bytes) -> Logo:
    """Check an uploaded logo by its bytes (never its name or declared type): an SVG document, or a
    raster picture that ``webinars.images`` decodes, resizes and strips."""
    if looks_like_svg(data):
        return Logo(svg=check_svg(data))
    try:
        processed = processing.process(
            data,
            max_bytes=current_app.config["IMAGE_MAX_BYTES"],
            max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
        )
    except processing.ImageRejected as error:
        raise _refuse(error.message) from error
    return Logo(raster=processed)


# --- saving -----------------------------------------------------------------------------------------


def _is_web_address(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def _check(data: BrandData) -> dict[str, str]:
    labels = {
        "site_name": data.site_name,
        "organisation_label": data.organisation_label,
        "privacy_label": data.privacy_label,
        "imprint_label": data.imprint_label,
    }
    links = {
        "organisation_url": data.organisation_url,
        "privacy_url": data.privacy_url,
        "imprint_url": data.imprint_url,
    }
    errors = text_errors(one_line={**labels, **links})
    limits = {"site_name": 80, "organisation_label": 120, "privacy_label": 120, "imprint_label": 120}
    for name, limit in limits.items():
        if name not in errors and len(labels[name].strip()) > limit:
            errors[name] = _("At most %(count)s characters.", count=limit)
    for name, value in links.items():
        value = value.strip()
        if name in errors or not value:
            continue
        if len(value) > 500 or not _is_web_address(value):
            errors[name] = _("Enter a web address starting with https:// or http://.")
    if (
        data.organisation_label.strip()
        and not data.organisation_url.strip()
        and "organisation_url" not in errors
    ):
        errors["organisation_url"] = _("Give the address the organisation's name links to.")
    try:
        check_accent(data.accent_color)
    except RuleError as error:
        errors["accent_color"] = error.errors["accent_color"][0]
    return errors


def update(data: BrandData) -> SiteSettings:
    """Save the brand (commits). Every page shows it from the next request on; ``version`` rises so
    the stylesheet and logo get new addresses and cached pages new keys."""
    errors = _check(data)
    if errors:
        raise RuleError(errors)
    settings = site.load_settings()
    if settings is None:
        settings = SiteSettings(id=site.SETTINGS_ID, version=0)
        db.session.add(settings)
    settings.site_name = " ".join(data.site_name.split())
    settings.accent_color = check_accent(data.accent_color)
    settings.organisation_label = data.organisation_label.strip()
    settings.organisation_url = data.organisation_url.strip()
    settings.privacy_label = data.privacy_label.strip()
    settings.privacy_url = data.privacy_url.strip()
    settings.imprint_label = data.imprint_label.strip()
    settings.imprint_url = data.imprint_url.strip()
    if data.remove_logo:
        settings.logo = None
        settings.logo_svg = None
    elif data.logo is not None:
        if data.logo.raster is not None:
            settings.logo = images.store(data.logo.raster)
            settings.logo_svg = None
        else:
            settings.logo = None
            settings.logo_svg = data.logo.svg
    settings.version = (settings.version or 0) + 1
    db.session.commit()
    site.forget()
    return settings


def stylesheet(current: site.Brand) -> str:
    """The few rules the settings change; everything else stays in the static stylesheet."""
    if not current.accent_color:
        return "/* The site keeps the stylesheet's own accent colour. */\n"
    return f":root {{ --accent: {current.accent_color}; }}\n"


def svg_logo() -> str | None:
    settings = site.load_settings()
    return settings.logo_svg if settings is not None else None
