"""Webhooks: endpoints an organizer registers per webinar or series, signed per Standard Webhooks,
written beside the change they report and delivered by the worker."""

from flask import Flask

from ..mail import producers
from . import delivery


def init_app(app: Flask) -> None:
    # The worker runs this on every pass, like the mail producers, without importing webhooks.
    producers.register(app, delivery.deliver_due)
