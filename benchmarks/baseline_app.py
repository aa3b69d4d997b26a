"""The baselines: a minimal Flask app on the same database and the same gunicorn settings.

``POST /insert`` inserts one row (Flask-SQLAlchemy, one transaction) and redirects, like the
registration form does; ``GET /template`` renders one small template. No CSRF, sessions, rules or
mail: the cost of Flask + SQLAlchemy + the database + gunicorn alone, to put the app's figures beside.

    DATABASE_URL=... gunicorn -w 4 'benchmarks.baseline_app:create_app()'
    DATABASE_URL=... python -m benchmarks.baseline_app init     # create the table
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from typing import Any

from flask import Flask, redirect, render_template, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Hit(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "baseline_hit"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


SPEAKERS = [
    {"name": "Ane Etxeberria", "affiliation": "Orkestra, Basque Country"},
    {"name": "Camila Rojas", "affiliation": "Universidad de Chile"},
]


def _database_url() -> str:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def create_app() -> Flask:
    app = Flask(__name__, template_folder=os.path.join(os.path.dirname(__file__), "templates"))
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url()
    # The same engine options as the app (config.Config).
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # The same SQLite settings as the app (webinars/database.py).
            @event.listens_for(db.engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()

    @app.post("/insert")
    def insert():  # type: ignore[no-untyped-def]
        db.session.add(
            Hit(
                name=request.form.get("name", ""),
                email=request.form.get("email", ""),
                created_at=datetime.now(UTC),
            )
        )
        db.session.commit()
        return redirect("/done")

    @app.get("/template")
    def template():  # type: ignore[no-untyped-def]
        return render_template(
            "baseline.html",
            title="Webinar #16: Smart Specialisation Strategies and Sustainability",
            summary="Regional innovation policy, from the Basque Country to Chile.",
            speakers=SPEAKERS,
        )

    @app.get("/")
    def home() -> str:
        return "ok"

    return app


if __name__ == "__main__":
    if sys.argv[1:] == ["init"]:
        made = create_app()
        with made.app_context():
            db.create_all()
    else:
        raise SystemExit("usage: python -m benchmarks.baseline_app init")
