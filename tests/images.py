"""Pictures for tests, made with Pillow: real encoders, and hostile files built from them."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_TAG = 0x8825  # EXIF GPSInfo


def jpeg(width: int = 1600, height: int = 900, *, with_location: bool = False) -> bytes:
    picture = Image.new("RGB", (width, height), (30, 110, 160))
    buffer = io.BytesIO()
    if with_location:
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        exif[GPS_TAG] = {1: "S", 2: (33.0, 26.0, 0.0), 3: "W", 4: (70.0, 39.0, 0.0)}
        picture.save(buffer, "JPEG", exif=exif.tobytes())
    else:
        picture.save(buffer, "JPEG")
    return buffer.getvalue()


def png(width: int = 400, height: int = 400) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 40, 40, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels: a decompression bomb's shape."""
    data = bytearray(png(1, 1))
    header = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + header) & 0xFFFFFFFF)
    return bytes(data)


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)
