"""Keys for the rate limits: the client (after ProxyFix, the real visitor) and what an attacker cannot
multiply, the address being registered or the account being signed into.

Addresses are hashed before they become storage keys, so Redis holds no list of who signed up.
"""

from __future__ import annotations

import hashlib

from flask import Response, request
from flask_limiter.util import get_remote_address

from .text import normalise_email


def client() -> str:
    return get_remote_address() or "unknown"


def _hashed_address(field: str) -> str:
    raw = (request.form.get(field) or "").strip()
    try:
        address = normalise_email(raw)
    except ValueError:
        address = raw.lower()
    return hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:32]


def registered_address() -> str:
    return "address:" + _hashed_address("email")


def account() -> str:
    return "account:" + _hashed_address("email")


def failed_sign_in(response: Response) -> bool:
    """A successful sign-in redirects; anything else (the form again) counts against the limits."""
    return response.status_code != 302
