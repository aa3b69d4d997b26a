"""Attendance from the participant reports of Zoom, Microsoft Teams and Google Meet."""
