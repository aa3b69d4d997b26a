"""Webinars: register people to webinars and send them real calendar invitations."""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Flask, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from config import Config, configs

from . import (
    api,
    cli,
    database,
    languages,
    mail,
    massmail,
    pagecache,
    paths,
    privacy,
    security,
    templating,
    webhooks,
)
from .api import problems
from .attendance.views import bp as attendance_bp
from .auth.views import bp as auth_bp
from .branding.views import bp as branding_bp
from .branding.views import manage_bp as branding_manage_bp
from .broadcasts.views import bp as broadcasts_bp
from .calendar.views import bp as calendar_bp
from .database import set_writing
from .embed.views import bp as embed_bp
from .events.archive_manage import bp as archive_manage_bp
from .events.manage import bp as manage_bp
from .events.sitemap import bp as sharing_bp
from .events.views import bp as events_bp
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .images.views import bp as images_bp
from .mail.views import bp as mail_admin_bp
from .models import User
from .ops import logs, metrics
from .ops.views import bp as ops_bp
from .privacy.views import bp as privacy_bp
from .questions.views import bp as questions_bp
from .registrations.views import bp as registrations_bp
from .reports.views import bp as reports_bp
from .series.views import bp as series_bp
from .series.views import manage_bp as series_manage_bp
from .team.views import bp as team_bp
from .team.views import manage_bp as team_manage_bp
from .webhooks.views import bp as webhooks_bp


class MissingSecretKey(RuntimeError):
    """Production settings without SECRET_KEY: sessions and tokens could be forged."""


def create_app(config: str | type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application.

    ``config`` is a name from config.configs ("development", "testing", "production") or a class;
    by default the environment variable WEBINARS_CONFIG chooses, falling back to development.
    """
    app = Flask(
        __name__,
        template_folder=paths.resource_dir("templates"),
        instance_path=os.environ.get("WEBINARS_INSTANCE") or paths.default_instance_path(),
    )
    if config is None or isinstance(config, str):
        config = configs[config or os.environ.get("WEBINARS_CONFIG", "development")]
    app.config.from_object(config)
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise MissingSecretKey("SECRET_KEY is not set: refusing to start (set it in the environment).")
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "webinars.db")
    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        # Only as many hops as configured: a client's own X-Forwarded-For entries stay untrusted.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]

    logs.configure(app)
    # Before the extensions' hooks: a request that CSRF or a rate limit stops is still logged and counted.
    logs.register(app)
    metrics.register(app)
    security.register_converters(app)
    _init_extensions(app)
    _register_blueprints(app)
    _register_mail_producers(app)
    _register_request_hooks(app)
    security.register(app)
    languages.register(app)
    _register_error_handlers(app)

    cli.register(app)
    templating.register(app)
    pagecache.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    if app.config.get("DATABASE_TRANSACTION_POOLING"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            database.configure_sqlite(db.engine)
    migrate.init_app(app, db, render_as_batch=True, directory=paths.resource_dir("migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=languages.select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        return User.from_session_id(session_id)


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(events_bp)
    app.register_blueprint(manage_bp)
    app.register_blueprint(registrations_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(series_bp)
    app.register_blueprint(series_manage_bp)
    app.register_blueprint(broadcasts_bp)
    app.register_blueprint(mail_admin_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(archive_manage_bp)
    app.register_blueprint(embed_bp)
    app.register_blueprint(questions_bp)
    app.register_blueprint(attendance_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(images_bp)
    app.register_blueprint(sharing_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(team_manage_bp)
    app.register_blueprint(branding_bp)
    app.register_blueprint(branding_manage_bp)
    app.register_blueprint(webhooks_bp)
    api.init_app(app)


def _register_mail_producers(app: Flask) -> None:
    # In this order on every worker pass: reminders, the next chunk of each organizer message, the
    # retention purge of personal data, and the webhook deliveries that are due.
    mail.init_app(app)
    massmail.init_app(app)
    privacy.init_app(app)  # the retention purge writes no mail, but is due with time all the same
    webhooks.init_app(app)  # webhook deliveries ride the same worker passes as mail


MAX_PAGE = 100_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _register_request_hooks(app: Flask) -> None:
    from flask import abort

    @app.before_request
    def _mark_writing_requests() -> None:
        # A POST may write: on SQLite its transactions take the write lock at BEGIN (see database.py).
        set_writing(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.before_request
    def _refuse_absurd_query_values() -> None:
        # No query value of this site may hold a control character; PostgreSQL cannot even store a NUL.
        if any(
            _CONTROL.search(key) or _CONTROL.search(value) for key, value in request.args.items(multi=True)
        ):
            abort(400)
        # The pages' lists read ?page= themselves: a page beyond any list (or no number at all) is a
        # page not found. The API validates its own arguments and answers with a problem document.
        page = request.args.get("page")
        if (
            page is not None
            and not problems.is_api_request()
            and not (page.isdigit() and 1 <= int(page) <= MAX_PAGE)
        ):
            abort(404)

    @app.teardown_request
    def _reset_writing(_exc: BaseException | None) -> None:
        set_writing(False)


def _register_error_handlers(app: Flask) -> None:
    pages = {
        400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
        403: (_l("Not allowed"), _l("You do not have access to this page.")),
        404: (_l("Page not found"), _l("This page does not exist, or is no longer available.")),
        405: (_l("Not allowed"), _l("This action is not available here.")),
        413: (_l("Too large"), _l("The upload is larger than this site accepts.")),
        429: (_l("Too many attempts"), _l("Please wait a minute and try again.")),
        500: (_l("Something went wrong"), _l("We could not complete your request. Please try again later.")),
    }

    def forget_failed_transaction() -> None:
        # First, before anything else reads the session: after a database error it must roll back.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - a broken connection must not stop the error answer
            app.logger.warning("rollback before the error page failed", exc_info=True)

    def error_page(title: object, message: object, code: int) -> ResponseReturnValue:
        # Drawn for a visitor nobody looks up: an error page has to render when the database is the
        # thing that failed (base.html reads current_user).
        forget_failed_transaction()
        signed_in = g.pop("_login_user", None)
        g._login_user = login_manager.anonymous_user()
        try:
            return render_template("errors/error.html", title=title, message=message), code
        finally:
            g.pop("_login_user", None)
            if signed_in is not None:
                g._login_user = signed_in

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        message = _l(
            "Your session expired or the form was sent from elsewhere. Reload the page and try again."
        )
        return error_page(_l("Form expired"), message, 400)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        if problems.is_api_request():
            forget_failed_transaction()
            return problems.from_http_exception(error)
        code = error.code or 500
        if code not in pages:
            return error
        title, message = pages[code]
        return error_page(title, message, code)

    @app.errorhandler(500)
    def _server_error(error: Exception) -> ResponseReturnValue:
        if problems.is_api_request():
            forget_failed_transaction()
            return problems.problem(500, detail="The request could not be completed; try again later.")
        title, message = pages[500]
        return error_page(title, message, 500)
