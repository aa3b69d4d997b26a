"""Broadcasts: messages from organizers to the people registered for a webinar (sent through
webinars.massmail, which also runs the worker's fan-out)."""
