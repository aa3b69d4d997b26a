"""Who may show a page inside a frame.

By default no one: the Content-Security-Policy says ``frame-ancestors 'none'`` and X-Frame-Options
says DENY. A view that may be framed names the allowed origins with allow_framing(); that replaces
the ``frame-ancestors`` directive of its own response's policy (see webinars.security), and the
X-Frame-Options header, which cannot name origins, is left out for it.
"""

from __future__ import annotations

from .security import set_csp


def allow_framing(origins: list[str]) -> None:
    """Let pages of ``origins`` (and the site itself) frame the current response."""
    set_csp("frame-ancestors", "'self'", *origins)
