"""Mass mail: every send to many people (organizer messages, the recording, a webinar's update or
cancellation) is one job row that the worker fans out into the outbox, after the organizer has seen
it as its recipients will and confirmed it."""

from flask import Flask

from ..mail import producers
from .service import expand_pending


def init_app(app: Flask) -> None:
    # A send is expanded into the outbox a chunk per worker pass, never in the request.
    producers.register(app, expand_pending)
