"""Mail: the outbox, what each email says, and the worker that delivers it."""

from flask import Flask

from . import producers, reminders


def init_app(app: Flask) -> None:
    producers.register(app, reminders.enqueue_due)
