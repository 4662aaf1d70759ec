"""Configuration: defaults for a laptop, overridden by ``NETWORK_*`` environment variables."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _instance_path() -> Path:
    return Path(os.environ.get("NETWORK_INSTANCE_PATH", PROJECT_ROOT / "instance")).resolve()


def normalise_database_url(url: str) -> str:
    """Accept a plain ``postgresql://`` URL (API.md) and choose the driver ourselves.

    psycopg2 cooperates with eventlet once psycogreen's patch is applied, so it is the
    driver in every mode.
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://") :]
    return url


def socket_origins(base_url: str) -> list[str]:
    """The origins whose pages may open a Socket.IO connection: the platform's own
    address only (never "*"); on a laptop both spellings of the loopback address."""
    base = base_url.rstrip("/")
    origins = [base]
    for a, b in (("://127.0.0.1", "://localhost"), ("://localhost", "://127.0.0.1")):
        if a in base:
            origins.append(base.replace(a, b))
    return origins


def _secret_key(instance: Path) -> str:
    """The secret from the environment, else one generated once into ``instance/``."""
    from_env = os.environ.get("NETWORK_SECRET_KEY")
    if from_env:
        return from_env
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from the environment and ``overrides``."""
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or _instance_path())
    instance.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("NETWORK_DATABASE_URL") or f"sqlite:///{instance / 'network.db'}"
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("NETWORK_REDIS_URL") or None,
        # Connections a process may open to publish to Redis (more wait; none fail).
        "REDIS_MAX_CONNECTIONS": int(os.environ.get("NETWORK_REDIS_MAX_CONNECTIONS", 50)),
        # The Redis channel the processes of one deployment share (and the prefix of its
        # keys): two deployments on one Redis need two names.
        "REDIS_CHANNEL": os.environ.get("NETWORK_REDIS_CHANNEL", "network-socketio"),
        # Seconds after which the consultation presence of a process that stopped renewing
        # it (crashed) is dropped by the others (network.realtime.presence).
        "PRESENCE_HOST_TTL": int(os.environ.get("NETWORK_PRESENCE_HOST_TTL", 30)),
        "DATA_KEY": os.environ.get("NETWORK_DATA_KEY") or None,
        "DATA_KEYS_PREVIOUS": os.environ.get("NETWORK_DATA_KEYS_PREVIOUS") or None,
        "UPLOAD_FOLDER": os.environ.get("NETWORK_UPLOAD_FOLDER") or str(instance / "uploads"),
        "MAX_IMPORT_BYTES": int(os.environ.get("NETWORK_MAX_IMPORT_BYTES", 5 * 1024 * 1024)),
        # Attachments: per file, and per upload request and message. A request body may
        # carry one whole file plus the multipart framing: larger bodies are a 413 from
        # Werkzeug before anything is read (JSON for /api, a page otherwise).
        "MAX_ATTACHMENT_BYTES": int(
            os.environ.get("NETWORK_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024)
        ),
        "MAX_ATTACHMENTS_PER_MESSAGE": int(
            os.environ.get("NETWORK_MAX_ATTACHMENTS_PER_MESSAGE", 10)
        ),
        "MAX_CONTENT_LENGTH": int(
            os.environ.get("NETWORK_MAX_CONTENT_LENGTH")
            or int(os.environ.get("NETWORK_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024))
            + 5 * 1024 * 1024
        ),
        # A URL-encoded form or a JSON body (no file in it) is refused over this (issue 8);
        # multipart text parts are held to Flask's MAX_FORM_MEMORY_SIZE (500 KB).
        "MAX_FORM_BYTES": int(os.environ.get("NETWORK_MAX_FORM_BYTES", 1024 * 1024)),
        "MAIL_SERVER": os.environ.get("NETWORK_MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("NETWORK_MAIL_PORT", 25)),
        "MAIL_USERNAME": os.environ.get("NETWORK_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("NETWORK_MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("NETWORK_MAIL_USE_TLS", False),
        "MAIL_SENDER": os.environ.get("NETWORK_MAIL_SENDER", "no-reply@network.example.org"),
        "MAIL_OUTBOX": str(instance / "outbox"),
        "BASE_URL": os.environ.get("NETWORK_BASE_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("NETWORK_SECURE_COOKIES", False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("NETWORK_SECURE_COOKIES", False),
        # --- sessions (issue 8): enforced on the server (network.services.sessions) ---
        "SESSION_IDLE_MINUTES": float(os.environ.get("NETWORK_SESSION_IDLE_MINUTES", 30)),
        "SESSION_ABSOLUTE_HOURS": float(os.environ.get("NETWORK_SESSION_ABSOLUTE_HOURS", 12)),
        # Sensitive actions ask for the password (and code) again after this long.
        "REAUTH_MINUTES": float(os.environ.get("NETWORK_REAUTH_MINUTES", 5)),
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        # CSRF is checked by our own before_request so that bearer-token API calls skip
        # it while browser sessions never do (API.md).
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # The interface languages the platform is built for (the six UN languages it
        # serves). Only those whose compiled catalogue exists are offered: see
        # network.i18n.offered_languages, applied when the app starts.
        "LANGUAGES": ["en", "fr", "es", "pt", "ar", "ru"],
        # Sign-in rate limits are shared by every process through Redis when it is set.
        "RATELIMIT_STORAGE_URI": os.environ.get("NETWORK_RATELIMIT_STORAGE_URI")
        or os.environ.get("NETWORK_REDIS_URL")
        or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("NETWORK_LOGIN_RATE_LIMIT", "20 per minute"),
        "LOGIN_MAX_FAILURES": int(os.environ.get("NETWORK_LOGIN_MAX_FAILURES", 5)),
        "LOGIN_LOCK_MINUTES": int(os.environ.get("NETWORK_LOGIN_LOCK_MINUTES", 15)),
        "STALE_AFTER_DAYS": int(os.environ.get("NETWORK_STALE_AFTER_DAYS", 365)),
        # The app is agnostic of eventlet: it runs threaded unless the server process
        # (network.server) asks for eventlet after monkey-patching.
        "SOCKETIO_ASYNC_MODE": os.environ.get("NETWORK_SOCKETIO_ASYNC_MODE", "threading"),
        "TESTING": False,
        # Live consultations: the Engine.IO heartbeat decides how soon a crashed client
        # leaves a room's presence (interval + timeout); STUN/TURN servers for WebRTC as a
        # JSON list of RTCIceServer objects, none by default (nothing outside is contacted).
        "SOCKET_PING_INTERVAL": float(os.environ.get("NETWORK_SOCKET_PING_INTERVAL", 10)),
        "SOCKET_PING_TIMEOUT": float(os.environ.get("NETWORK_SOCKET_PING_TIMEOUT", 10)),
        "WEBRTC_ICE_SERVERS": json.loads(os.environ.get("NETWORK_WEBRTC_ICE_SERVERS") or "[]"),
        # How often the server closes the sockets of sessions that timed out unnoticed.
        "SOCKET_SESSION_SWEEP_SECONDS": float(
            os.environ.get("NETWORK_SOCKET_SESSION_SWEEP_SECONDS", 30)
        ),
        # How often the server opens scheduled consultations whose start time has come.
        "CONSULTATION_OPEN_SECONDS": float(os.environ.get("NETWORK_CONSULTATION_OPEN_SECONDS", 30)),
        # SQLite: the pages of write-ahead log after which a commit copies the log into the
        # database file (SQLite's own default). The eventlet server sets 0 and does that
        # copy on a thread of its own every SQLITE_CHECKPOINT_SECONDS (network.server).
        "SQLITE_WAL_AUTOCHECKPOINT": 1000,
        "SQLITE_CHECKPOINT_SECONDS": float(os.environ.get("NETWORK_SQLITE_CHECKPOINT_SECONDS", 1)),
    }
    config.update(overrides)
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _secret_key(instance)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    _session_cookies(config)
    if not config.get("SOCKET_ALLOWED_ORIGINS"):
        config["SOCKET_ALLOWED_ORIGINS"] = socket_origins(config["BASE_URL"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A busy timeout rides out concurrent writers. sqlite3 waits for the lock in C,
        # blocking its OS thread: the eventlet server (network.server) passes a connection
        # class that waits without blocking the other requests.
        connect_args: dict[str, Any] = {"timeout": 15}
        if config.get("SQLITE_CONNECTION_FACTORY"):
            connect_args["factory"] = config["SQLITE_CONNECTION_FACTORY"]
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": connect_args}
    return config


def _session_cookies(config: dict[str, Any]) -> None:
    """Cookie lifetimes follow the server-side absolute lifetime, and under TLS both
    cookies are Secure and ``__Host-`` prefixed (no Domain, Path=/: a sibling host
    cannot set or overwrite them; ASVS 3.4.1-3.4.4)."""
    from datetime import timedelta

    lifetime = timedelta(hours=float(config["SESSION_ABSOLUTE_HOURS"]))
    config["PERMANENT_SESSION_LIFETIME"] = lifetime
    config.setdefault("REMEMBER_COOKIE_DURATION", lifetime)
    if config["SESSION_COOKIE_SECURE"]:
        config["REMEMBER_COOKIE_SECURE"] = True
        config.setdefault("SESSION_COOKIE_NAME", "__Host-session")
        config.setdefault("REMEMBER_COOKIE_NAME", "__Host-remember_token")
        config["SESSION_COOKIE_DOMAIN"] = None
        config["SESSION_COOKIE_PATH"] = "/"
        config["REMEMBER_COOKIE_DOMAIN"] = None
        config["REMEMBER_COOKIE_PATH"] = "/"
