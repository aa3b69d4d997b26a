"""Personal data: an attendee's copy of it, erasure on request, and the retention purge."""

from flask import Flask

from ..mail import producers
from .service import purge_when_due


def init_app(app: Flask) -> None:
    producers.register(app, purge_when_due)
