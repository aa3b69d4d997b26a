"""Mail that time makes due (reminders, the next chunk of an organizer's message, retention jobs to
come) is written by *producers* that each domain registers with the app, the way pretix hangs jobs
on its periodic signal. The worker runs them before each delivery pass without knowing any of them,
so mail stays below the domains that use it.

A producer takes no arguments, writes outbox rows and commits, and returns how many it wrote; the
worker keeps running passes until a pass produces and delivers nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

Producer = Callable[[], int]

_KEY = "webinars.mail.producers"


def register(app: Flask, producer: Producer) -> None:
    """Run ``producer`` on every worker pass of ``app``, after those registered before it."""
    producers: list[Producer] = app.extensions.setdefault(_KEY, [])
    if producer not in producers:
        producers.append(producer)


def registered(app: Flask) -> list[Producer]:
    return list(app.extensions.get(_KEY, []))


def produce_due() -> int:
    """Run the current app's producers; how many outbox rows they wrote."""
    return sum(producer() for producer in registered(current_app))
