"""Where image files live. The local folder is the default (and what the tests use); a bucket shared by
several web machines plugs in behind the same three methods (see README, "Images")."""

from __future__ import annotations

import contextlib
import os
import re
from typing import Protocol

from flask import current_app, url_for

# Names are made here (random key, width, extension), never taken from an upload.
SAFE_NAME = re.compile(r"^[A-Za-z0-9_-]{8,64}-[0-9]{1,5}\.(webp|jpg)$")


class ImageStorage(Protocol):
    def save(self, name: str, data: bytes, content_type: str) -> None: ...

    def delete(self, name: str) -> None: ...

    def url(self, name: str) -> str: ...


class LocalStorage:
    """Files in a folder (by default ``instance/images``), served by the app with long cache headers."""

    def __init__(self, root: str, base_url: str = "") -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def path(self, name: str) -> str:
        if not SAFE_NAME.match(name):
            raise ValueError("not an image name")
        return os.path.join(self.root, name[:2], name)

    def save(self, name: str, data: bytes, content_type: str) -> None:
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.part"
        with open(temporary, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)  # a reader never sees half a file

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(name))

    def url(self, name: str) -> str:
        if self.base_url:  # a CDN or web server in front of the same folder
            return f"{self.base_url}/{name}"
        return url_for("images.file", name=name)


def storage() -> ImageStorage:
    """The configured storage. Only "local" ships; another backend registers here (see README)."""
    kind = current_app.config["IMAGE_STORAGE"]
    if kind != "local":
        raise RuntimeError(f"IMAGE_STORAGE={kind!r} is not available; use 'local'.")
    folder = current_app.config["IMAGE_FOLDER"]
    root = folder if os.path.isabs(folder) else os.path.join(current_app.instance_path, folder)
    return LocalStorage(root, current_app.config["IMAGE_BASE_URL"])
