"""Uploaded pictures: webinar and series covers, speaker photos."""
