"""Benchmarks for Webinars (issue #6): ``make bench`` or ``python -m benchmarks``.

Everything runs on loopback: gunicorn serving the app on SQLite and on PostgreSQL, locust driving
load (as a library, in a subprocess of its own: see drive.py), aiosmtpd receiving mail (sink.py).
Results go to ``bench-results/<timestamp>.json`` and the table to ``docs/benchmarks.md``.
"""
