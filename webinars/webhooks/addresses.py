"""Where a webhook may be sent: never to the machine itself or the network it sits in.

An endpoint URL is typed by an organizer, and the worker then sends requests to it from inside the
service's network. Left open, that lets anyone with an organizer account probe or poke internal
services (a metadata endpoint, a database admin page): server-side request forgery. So the name is
resolved and every address it gives must be public; this runs when the endpoint is saved, for a
message beside the field, and again before every delivery, because the name's DNS records can
change in between. The delivery then connects to the very address that was checked, so a name that
answers differently a second later (DNS rebinding) still reaches only what was approved.

``WEBHOOKS_ALLOW_PRIVATE`` lifts both rules (private addresses and plain http), for development and
for tests with a receiver on loopback.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..text import has_control_characters

MAX_URL_LENGTH = 500

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(ValueError):
    """The URL cannot be used as a webhook endpoint; the message says why, for the organizer."""


@dataclass(frozen=True)
class Target:
    """A checked URL, with the address to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def allow_private() -> bool:
    return bool(current_app.config.get("WEBHOOKS_ALLOW_PRIVATE"))


def is_public(address: IPAddress) -> bool:
    """A globally routable unicast address: not loopback, private, link-local, shared (CGNAT),
    reserved, documentation or multicast; IPv6 forms that embed an IPv4 address are judged by it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return False
    return address.is_global and not address.is_multicast


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of an endpoint URL; RefusedAddress when it is not one."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise RefusedAddress(str(_l("Enter the address of your endpoint, at most 500 characters.")))
    if has_control_characters(url) or any(character.isspace() for character in url):
        raise RefusedAddress(str(_l("The address cannot contain spaces or control characters.")))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise RefusedAddress(str(_l("This is not a valid web address."))) from error
    schemes = ("http", "https") if allow_private() else ("https",)
    if parts.scheme not in schemes:
        raise RefusedAddress(str(_l("The address must start with https://.")))
    if not parts.hostname:
        raise RefusedAddress(str(_l("This is not a valid web address.")))
    if parts.username is not None or parts.password is not None:
        raise RefusedAddress(
            str(_l("Leave the user name and password out of the address: deliveries are signed instead."))
        )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """Check ``url`` and resolve its host to an address the worker may connect to."""
    scheme, host, port, path = parse(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise RefusedAddress(str(_l("The name in this address could not be found (DNS)."))) from error
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise RefusedAddress(str(_l("The name in this address could not be found (DNS).")))
    # Every address must be public: a name that also points inside the network is refused whole.
    if not allow_private() and not all(is_public(address) for address in addresses):
        raise RefusedAddress(
            str(_l("This address leads to a private or local network, which webhooks cannot reach."))
        )
    return Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))
