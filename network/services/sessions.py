"""Server-side sessions (issue 8, "Sessions and accounts").

The Flask-Login id kept in the signed session cookie and in the remember-me cookie is
``"<user id>:<session version>:<session key>"``. The key is random and names one row
of ``user_sessions`` (by its SHA-256); a request is signed in only while that row is
not revoked, was used within the idle timeout and is younger than the absolute
lifetime. So:

* a new key at every sign-in (no fixation, ASVS 3.2.1);
* sign-out, a password or two-factor change and an administrator's deactivation or
  "end sessions" revoke rows on the server: a copy of the cookie replayed afterwards
  is anonymous (ASVS 3.3.1, 3.3.3, 3.3.4);
* idle timeout ``NETWORK_SESSION_IDLE_MINUTES`` (30) and absolute lifetime
  ``NETWORK_SESSION_ABSOLUTE_HOURS`` (12) are enforced by the server, whatever the
  cookie says (ASVS 3.3.2). "Remember me" only lets the session outlive the browser
  window within those same limits: it is the same row.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import ua_parser
from flask import current_app, g, has_request_context, request
from flask_babel import gettext as _
from sqlalchemy import select, update

from network import events, policy
from network.errors import NotFound
from network.extensions import db
from network.models.base import utcnow
from network.models.sessions import UserSession
from network.security import is_database_int
from network.services import audit

log = logging.getLogger(__name__)
# A session's last use is written at most this often (not on every request).
TOUCH_SECONDS = 60


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def idle_timeout() -> timedelta:
    return timedelta(minutes=float(current_app.config["SESSION_IDLE_MINUTES"]))


def absolute_lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config["SESSION_ABSOLUTE_HOURS"]))


def reauth_window() -> timedelta:
    return timedelta(minutes=float(current_app.config["REAUTH_MINUTES"]))


def start(user: Any, *, remember: bool = False) -> UserSession:
    """Open a new session for ``user`` (at sign-in) and make ``user.get_id()`` name it.
    Commits."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(
        key_hash=_digest(key),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        reauthenticated_at=now,
        remember=remember,
        user_agent=(request.user_agent.string[:300] or None) if has_request_context() else None,
    )
    db.session.add(record)
    db.session.commit()
    user.session_key = key
    if has_request_context():
        g.user_session = record
    return record


def current() -> UserSession | None:
    """The session row of the current request (None for a token or anonymous caller)."""
    return g.get("user_session") if has_request_context() else None


def current_id() -> int | None:
    """The id of the current request's session row, read from its identity (the row
    object may have been loaded by an earlier session of the same application context)."""
    from sqlalchemy import inspect

    record = current()
    identity = inspect(record).identity if record is not None else None
    return int(identity[0]) if identity else None


def _expired_reason(record: UserSession, now: datetime) -> str | None:
    if now - _aware(record.created_at) > absolute_lifetime():
        return "expired"
    if now - _aware(record.last_seen_at) > idle_timeout():
        return "idle"
    return None


def check(user: Any, key: str, *, touch: bool = True) -> UserSession | None:
    """The live session row behind ``key`` for ``user``, or None (revoked, timed out, or
    another person's). A row found timed out is revoked now. Commits when it writes."""
    if not key or len(key) > 100:
        return None
    record = db.session.scalar(select(UserSession).where(UserSession.key_hash == _digest(key)))
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        return None
    now = utcnow()
    reason = _expired_reason(record, now)
    if reason is not None:
        record.revoked_at = now
        record.revoked_reason = reason
        db.session.commit()
        return None
    if touch and (now - _aware(record.last_seen_at)).total_seconds() >= TOUCH_SECONDS:
        record.last_seen_at = now
        db.session.commit()
    user.session_key = key
    if has_request_context():
        g.user_session = record
    return record


def revoke(record: UserSession | None, reason: str) -> None:
    """End one session and close its sockets. Commits."""
    if record is None:
        return
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        record.revoked_reason = reason
        db.session.commit()
    events.disconnect_session(record.id)


def revoke_all(user_id: int, reason: str, *, keep: int | None = None) -> int:
    """End every session of a person (all devices), or every one but ``keep`` (the
    person's own "sign out everywhere else"), and close their sockets. Commits; returns
    how many were live."""
    ids = list(
        db.session.scalars(
            select(UserSession.id).where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.id != (keep if keep is not None else -1),
            )
        )
    )
    if ids:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id.in_(ids))
            .values(revoked_at=utcnow(), revoked_reason=reason)
        )
    db.session.commit()
    if keep is None:
        events.disconnect_user(user_id)
    else:
        for session_id in ids:
            events.disconnect_session(session_id)
    log.info("ended %d sessions of user %s (%s)", len(ids), user_id, reason)
    return len(ids)


def ended_among(ids: set[int]) -> set[int]:
    """Of these session rows, those no longer live: revoked, gone, or timed out by now
    (revoked now, with the reason). Commits when it revokes."""
    now, ended, found = utcnow(), set(), set()
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for record in db.session.scalars(select(UserSession).where(UserSession.id.in_(chunk))):
            found.add(record.id)
            if record.revoked_at is not None:
                ended.add(record.id)
                continue
            reason = _expired_reason(record, now)
            if reason is not None:
                record.revoked_at, record.revoked_reason = now, reason
                ended.add(record.id)
                log.info("session %s ended (%s) with only sockets open", record.id, reason)
    db.session.commit()
    return ended | (ids - found)


@functools.lru_cache(maxsize=256)
def _device(user_agent: str) -> tuple[str, str]:
    found = ua_parser.parse(user_agent)
    browser = found.user_agent.family if found.user_agent else ""
    system = found.os.family if found.os else ""
    return ("" if browser == "Other" else browser), ("" if system == "Other" else system)


def device_label(record: UserSession) -> str:
    """The browser and system a session was opened from, for its owner's list: "Firefox
    on Linux" (ua-parser's names), or "Unknown browser"."""
    browser, system = _device(record.user_agent or "")
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")


def end_own(user: Any, session_id: Any) -> UserSession:
    """Sign out one of the person's other sessions (a browser they no longer use); its
    sockets close. Raises ``NotFound`` for a session that is not theirs, not live, or the
    current one (signing out of this browser is the sign-out button). Commits."""
    record = db.session.get(UserSession, session_id) if is_database_int(session_id) else None
    if (
        record is None
        or not policy.can_end_session(user, record)
        or record.revoked_at is not None
        or record.id == current_id()
    ):
        raise NotFound(_("No such session."))
    audit.record(user, "session.end", "user_session", record.id)
    revoke(record, "user")
    log.info("user %s signed out their session %s", user.id, record.id)
    return record


def end_others(user: Any) -> int:
    """Sign out every session of the person but the current one; their sockets close.
    Commits; returns how many ended."""
    ended = revoke_all(user.id, "user", keep=current_id())
    audit.record(user, "session.end_others", "user", user.id, after={"sessions": ended})
    db.session.commit()
    return ended


def live_sessions(user_id: int) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def mark_reauthenticated(record: UserSession | None) -> None:
    if record is not None:
        record.reauthenticated_at = utcnow()
        db.session.commit()


def recently_authenticated(record: UserSession | None) -> bool:
    """Whether the person proved who they are in this session within the re-auth
    window (5 minutes)."""
    if record is None:
        return False
    return utcnow() - _aware(record.reauthenticated_at) <= reauth_window()
