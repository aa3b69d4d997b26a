"""Where the files beside the code live: in the package when installed, at the checkout's root otherwise."""

from __future__ import annotations

import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
CHECKOUT_DIR = os.path.dirname(PACKAGE_DIR)


def resource_dir(name: str) -> str:
    """``templates`` or ``migrations``: the wheel puts them inside the package (see setup.py)."""
    packaged = os.path.join(PACKAGE_DIR, name)
    return packaged if os.path.isdir(packaged) else os.path.join(CHECKOUT_DIR, name)


def is_checkout() -> bool:
    """Running from a source tree (editable install or not installed), not from an installed wheel."""
    return os.path.isfile(os.path.join(CHECKOUT_DIR, "pyproject.toml"))


def default_instance_path() -> str | None:
    """The checkout's ``instance/``; None: Flask's ``<prefix>/var/webinars-instance`` when installed."""
    return os.path.join(CHECKOUT_DIR, "instance") if is_checkout() else None
