"""Broadcasts: messages from organizers to the people registered for a webinar."""

from flask import Flask

from ..mail import producers
from .service import expand_pending


def init_app(app: Flask) -> None:
    # A message is expanded into the outbox a chunk per worker pass, never in the request.
    producers.register(app, expand_pending)
