"""The collaboration platform of regional judicial cooperation networks.

``create_app`` is a flat list of ``configure_*`` steps; it writes nothing to the database.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, session
from flask_login import current_user

from network.config import PROJECT_ROOT, load_config
from network.extensions import babel, csrf, db, limiter, login_manager, migrate, socketio

log = logging.getLogger(__name__)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment-derived settings."""
    settings = load_config(config)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=settings["INSTANCE_PATH"],
    )
    app.config.update(settings)
    configure_logging(app)
    configure_extensions(app)
    configure_auth(app)
    configure_i18n(app)
    configure_blueprints(app)
    configure_realtime(app)
    configure_security(app)
    configure_errors(app)
    configure_cli(app)
    configure_jinja(app)
    return app


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def configure_extensions(app: Flask) -> None:
    import network.models  # noqa: F401  (registers the models on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from network.models.base import enable_sqlite_pragmas

        with app.app_context():
            enable_sqlite_pragmas(
                db.engine, wal_autocheckpoint=int(app.config["SQLITE_WAL_AUTOCHECKPOINT"])
            )


def configure_auth(app: Flask) -> None:
    from network.services import accounts

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):  # type: ignore[no-untyped-def]
        return accounts.user_for_session_id(session_id)

    @login_manager.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        from network.errors import Unauthorized

        raise Unauthorized()

    from network.security import (
        authenticate_bearer,
        check_csrf,
        enforce_session,
        refuse_oversize_bodies,
    )

    # Order matters: an oversize body is refused before anything parses it (issue 8); a
    # bearer token decides who the caller is before the CSRF gate asks.
    app.before_request(refuse_oversize_bodies)
    app.before_request(authenticate_bearer)
    # Issue 8: the server-side session is checked (and two-factor enrolment demanded)
    # before anything else reads the person.
    app.before_request(enforce_session)
    app.before_request(check_csrf)


def configure_i18n(app: Flask) -> None:
    from network import i18n

    translations = PROJECT_ROOT / "network" / "translations"
    # Offer only the languages whose catalogue is compiled (`make translations`): a
    # language added to LANGUAGES before its .po exists does not break the interface.
    app.config["SUPPORTED_LANGUAGES"] = list(app.config["LANGUAGES"])
    app.config["LANGUAGES"] = i18n.offered_languages(
        app.config["LANGUAGES"], translations, app.config["BABEL_DEFAULT_LOCALE"]
    )
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        timezone_selector=i18n.select_timezone,
        default_translation_directories=str(translations),
    )


def configure_blueprints(app: Flask) -> None:
    from network.blueprints import account, admin, api, auth, directory, main, members, messaging
    from network.security import DatabaseIntegerConverter

    # Before any route is added: every <int:...> id is bounded to what the database holds.
    app.url_map.converters["int"] = DatabaseIntegerConverter
    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(directory.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(messaging.bp)
    from network.blueprints import notifications as notifications_views

    app.register_blueprint(notifications_views.bp)
    from network.blueprints import attachments as attachment_views

    app.register_blueprint(attachment_views.bp)
    from network.blueprints import api_cases, cases

    app.register_blueprint(cases.bp)
    app.register_blueprint(api_cases.bp)
    from network.blueprints import search as search_views

    app.register_blueprint(search_views.bp)
    from network.blueprints import audit as audit_views

    app.register_blueprint(audit_views.bp)
    # --- calendar (issue 4) ---
    from network.blueprints import api_calendar
    from network.blueprints import calendar as calendar_views

    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(api_calendar.bp)
    # Training-of-trainers tracker (issue 5).
    from network.blueprints import api_training
    from network.blueprints import training as training_views

    app.register_blueprint(training_views.bp)
    app.register_blueprint(training_views.public)
    app.register_blueprint(api_training.bp)
    from network.blueprints import consultations as consultation_views

    app.register_blueprint(consultation_views.bp)
    app.register_blueprint(consultation_views.api_bp)


def configure_realtime(app: Flask) -> None:
    from network.realtime import register_handlers
    from network.realtime.queue import ReliableRedisManager

    redis_url = app.config["REDIS_URL"]
    socketio.init_app(
        app,
        # Always given, so that an application made without Redis after one with it
        # (tests) does not inherit the other's manager from the shared SocketIO object.
        client_manager=(
            ReliableRedisManager(
                redis_url,
                channel=app.config["REDIS_CHANNEL"],
                max_connections=app.config["REDIS_MAX_CONNECTIONS"],
            )
            if redis_url
            else None
        ),
        message_queue=redis_url,
        cors_allowed_origins=app.config["SOCKET_ALLOWED_ORIGINS"],
        async_mode=app.config.get("SOCKETIO_ASYNC_MODE"),
        manage_session=False,
        ping_interval=app.config["SOCKET_PING_INTERVAL"],
        ping_timeout=app.config["SOCKET_PING_TIMEOUT"],
    )
    register_handlers()


def configure_security(app: Flask) -> None:
    from network.security import (
        BoundedJSONProvider,
        apply_security_headers,
        refuse_nul_characters,
    )

    app.json = BoundedJSONProvider(app)  # deep JSON is invalid JSON, not a 500 (issue 8)
    app.before_request(refuse_nul_characters)
    app.after_request(apply_security_headers)
    # Issue 8: responses to a signed-in person are never cached (runs before the above).
    from network.security import private_cache_headers

    app.after_request(private_cache_headers)


def configure_errors(app: Flask) -> None:
    from network.errors import register_error_handlers

    register_error_handlers(app)


def configure_cli(app: Flask) -> None:
    from network.cli import register_commands

    register_commands(app)


def configure_jinja(app: Flask) -> None:
    from types import SimpleNamespace

    from network import i18n, policy
    from network.services import directory, membership, messaging

    labels = SimpleNamespace(
        authority_type=directory.authority_type_label,
        expertise=directory.expertise_label,
        channel=directory.channel_label,
        action=directory.action_label,
    )
    app.jinja_env.globals.update(
        labels=labels,
        channel_kind_label=messaging.channel_kind_label,
        role_label=membership.role_label,
        policy=policy,
        country_name=i18n.country_name,
        language_name=i18n.language_name,
        available_languages=i18n.available_languages,
        current_locale=i18n.current_locale_code,
        text_direction=i18n.text_direction,
        current_timezone=i18n.current_timezone_name,
        format_file_size=i18n.format_file_size,
        format_number=i18n.format_number,
    )
    app.jinja_env.filters["datetime"] = i18n.format_instant
    app.jinja_env.filters["span"] = i18n.format_span
    app.jinja_env.filters["times"] = i18n.format_times
    app.jinja_env.filters["time_of_day"] = i18n.format_time_of_day
    app.jinja_env.filters["date_skeleton"] = i18n.format_day_skeleton
    app.jinja_env.filters["percent"] = i18n.format_percent_value
    app.jinja_env.filters["date"] = i18n.format_day
    app.jinja_env.filters["wall_clock"] = i18n.format_wall_clock
    app.jinja_env.filters["file_size"] = i18n.format_file_size
    app.jinja_env.filters["number"] = i18n.format_number
    app.jinja_env.filters["iso_datetime"] = i18n.format_iso_instant
    app.jinja_env.filters["country_label"] = i18n.country_name
    app.jinja_env.filters["sort_names"] = i18n.sort_names
    app.jinja_env.filters["language_label"] = i18n.language_name
    app.jinja_env.filters["format_list"] = i18n.format_items
    app.jinja_env.filters["bdi"] = i18n.isolate

    @app.context_processor
    def inject_user() -> dict[str, Any]:
        return {"current_user": current_user, "session": session}
