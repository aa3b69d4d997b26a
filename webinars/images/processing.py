"""Turning an uploaded file into clean, resized pictures, or refusing it with a reason.

Nothing the uploader sent is served: the bytes are decoded by Pillow (only the raster formats listed
below, whatever the file name or declared type says), then re-encoded from pixels alone, so metadata
(EXIF with GPS positions, comments) and anything riding along in a polyglot file are left behind.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

# The formats Pillow may decode; SVG is not among them, since an SVG is a document that can carry script.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
WIDTHS = (320, 640, 1280)
# (extension, Pillow format, content type), the first one preferred by browsers that read it.
ENCODINGS = (("webp", "WEBP", "image/webp"), ("jpg", "JPEG", "image/jpeg"))
CONTENT_TYPES = {extension: content_type for extension, _format, content_type in ENCODINGS}

# Markers of a web page or script hidden inside an image (a polyglot): such a file is refused outright
# rather than silently cleaned, so whoever uploaded it learns it was noticed.
_ACTIVE_CONTENT = re.compile(rb"<\s*(script|html|svg|iframe|\?php)|javascript:", re.IGNORECASE)


class ImageRejected(ValueError):
    """The upload is not a picture this site accepts; ``message`` says why, for the form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ProcessedImage:
    """The pixels of an accepted upload, re-encoded at each width: ``files`` maps a name suffix
    ("640.webp") to its bytes."""

    width: int
    height: int
    widths: list[int]
    files: dict[str, bytes] = field(default_factory=dict)


def process(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Check and re-encode ``data``; raises ImageRejected with a message for the person uploading."""
    if not data:
        raise ImageRejected(str(_l("The file is empty.")))
    if len(data) > max_bytes:
        raise ImageRejected(
            str(_l("The file is larger than %(size)s MB.", size=round(max_bytes / (1024 * 1024), 1)))
        )
    head = data[:512].lstrip()
    if head.startswith(b"<"):
        raise ImageRejected(str(_l("SVG and other documents are not accepted: upload a JPEG, PNG or WebP.")))
    if _ACTIVE_CONTENT.search(data):
        raise ImageRejected(
            str(_l("This file holds more than a picture (it reads as a web page or script)."))
        )
    picture = _decode(data, max_pixels)
    return _encode(picture)


def _decode(data: bytes, max_pixels: int) -> Image.Image:
    not_a_picture = str(_l("This file is not a picture this site reads: upload a JPEG, PNG or WebP."))
    too_large = str(
        _l("The picture is too large: at most %(pixels)s megapixels.", pixels=max_pixels // 1_000_000)
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns at its own decompression-bomb threshold and refuses at twice it; ours is stricter.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            # The size comes from the header, before any pixel is decoded: a bomb is refused unopened.
            if picture.width * picture.height > max_pixels or picture.width < 1 or picture.height < 1:
                raise ImageRejected(too_large)
            picture.seek(0)  # an animation shows its first frame
            picture.load()
            return ImageOps.exif_transpose(picture) or picture
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(too_large) from error
    except UnidentifiedImageError as error:
        raise ImageRejected(not_a_picture) from error
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as error:
        # Truncated or corrupt data: Pillow raises several types depending on where the decoder stops.
        raise ImageRejected(
            str(_l("The picture is damaged or incomplete: export it again and upload the new file."))
        ) from error


def _encode(picture: Image.Image) -> ProcessedImage:
    has_alpha = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    base = picture.convert("RGBA" if has_alpha else "RGB")
    base.info = {}
    # Never enlarge: a small picture is served at its own width only.
    widths = [width for width in WIDTHS if width < base.width] + [min(base.width, WIDTHS[-1])]
    widths = sorted(set(widths))
    result = ProcessedImage(width=base.width, height=base.height, widths=widths)
    for width in widths:
        height = max(1, round(base.height * width / base.width))
        resized = base.resize((width, height), Image.Resampling.LANCZOS) if width != base.width else base
        resized.info = {}
        for extension, pillow_format, _content_type in ENCODINGS:
            frame = resized
            if pillow_format == "JPEG" and frame.mode == "RGBA":
                # JPEG has no transparency: lay the picture on white, as a page would show it.
                backdrop = Image.new("RGB", frame.size, (255, 255, 255))
                backdrop.paste(frame, mask=frame.getchannel("A"))
                frame = backdrop
            buffer = io.BytesIO()
            frame.save(buffer, pillow_format, quality=82, optimize=pillow_format == "JPEG")
            result.files[f"{width}.{extension}"] = buffer.getvalue()
    return result
