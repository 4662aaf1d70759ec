"""Accounts: sign-in with throttling, TOTP two-factor, personal access tokens, preferences."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select

from network import crypto, i18n
from network.errors import Conflict, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.directory import Network
from network.models.people import AccessToken, LoginThrottle, Membership, Role, User
from network.models.sessions import RecoveryCode
from network.services import audit, sessions

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
# Verified against when the account is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
TOKEN_PREFIX = "ntk_"  # noqa: S105 - a public prefix, not a secret
MIN_PASSWORD_LENGTH = 12


class SignInFailed(Exception):
    """Raised for every failed sign-in, with one message whatever the cause."""


class SignInLocked(SignInFailed):
    """Raised at the second step of a sign-in while the e-mail is temporarily locked (the
    password is already proven there, so saying so reveals nothing)."""


def normalise_email(email: str) -> str:
    """Validate an e-mail's syntax and return it normalised; raises ``ValidationError``."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(fields={"email": _("Enter a valid e-mail address.")}) from exc


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            fields={"password": _("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)}
        )
    return _hasher.hash(password)


def get_active_user(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active_account else None


def user_for_session_id(session_id: str, *, touch: bool = True) -> User | None:
    """The active user behind a session's id (``"<id>:<session version>:<key>"``), or
    None when the version is old (the password changed since), the server-side session
    is revoked or timed out (network.services.sessions), or the id is malformed."""
    user_id, _sep, rest = session_id.partition(":")
    version, _sep, key = rest.partition(":")
    if not (user_id.isdigit() and version.isdigit() and key) or len(session_id) > 120:
        return None
    user = get_active_user(int(user_id))
    if user is None or user.session_version != int(version):
        return None
    if sessions.check(user, key, touch=touch) is None:
        return None
    return user


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(
    email: str,
    name: str,
    password: str | None,
    *,
    memberships: list[tuple[str, str]] = (),  # type: ignore[assignment]
    is_admin: bool = False,
    actor: Any = None,
) -> User:
    """Create an account with ``(network slug, role)`` memberships.

    Raises ``ValidationError`` for a bad e-mail, name, password, network or role, and
    ``Conflict`` when the e-mail is taken.
    """
    address = normalise_email(email)
    name = name.strip()
    if not name:
        raise ValidationError(fields={"name": _("A name is required.")})
    if get_user_by_email(address) is not None:
        raise Conflict(_("An account with this e-mail already exists."))
    user = User(
        email=address,
        name=name,
        # None means "no password yet" (e.g. an invitation); an empty one is too short.
        password_hash=hash_password(password) if password is not None else None,
        is_admin=is_admin,
    )
    seen: set[str] = set()
    for slug, role in memberships:
        network = db.session.scalar(select(Network).where(Network.slug == slug))
        if network is None:
            raise ValidationError(fields={"network": _("Unknown network: %(slug)s", slug=slug)})
        if slug in seen:
            raise ValidationError(
                fields={"network": _("%(slug)s is given twice: one role per network.", slug=slug)}
            )
        seen.add(slug)
        if role not in {r.value for r in Role}:
            raise ValidationError(fields={"role": _("Unknown role: %(role)s", role=role)})
        user.memberships.append(Membership(network=network, role=role))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, after={"email": address, "admin": is_admin})
    db.session.commit()
    return user


def _throttle_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _throttle(email: str) -> LoginThrottle:
    key = _throttle_key(email)
    row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.email_key == key))
    if row is None:
        row = LoginThrottle(email_key=key, failures=0)
        db.session.add(row)
    return row


def _is_locked(throttle: LoginThrottle, now: datetime) -> bool:
    return throttle.locked_until is not None and throttle.locked_until > now


def _count_failure(throttle: LoginThrottle, now: datetime) -> None:
    config = current_app.config
    throttle.failures += 1
    throttle.updated_at = now
    if throttle.failures >= config["LOGIN_MAX_FAILURES"]:
        throttle.locked_until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        throttle.failures = 0
        log.warning("sign-in locked for an e-mail key after repeated failures")


def authenticate(email: str, password: str) -> User:
    """Check a password; returns the user or raises ``SignInFailed``.

    An unknown account and a wrong password fail the same way, and both count towards
    the temporary lock, so neither the message nor the lock tells whether an account
    exists.
    """
    throttle = _throttle(email)
    now = utcnow()
    if _is_locked(throttle, now):
        _record_failure(get_user_by_email(email), "locked")
        db.session.commit()
        raise SignInFailed()
    user = get_user_by_email(email)
    ok = False
    try:
        ok = _hasher.verify(
            user.password_hash if user and user.password_hash else _DUMMY_HASH, password
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.password_hash or not user.is_active_account:
        _count_failure(throttle, now)
        _record_failure(user, "password" if not ok else "inactive")
        db.session.commit()
        raise SignInFailed()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    if not user.totp_enabled:
        # With two-factor sign-in the count is cleared only once the code is right too.
        throttle.failures = 0
        throttle.locked_until = None
    db.session.commit()
    return user


def check_sign_in_code(user: User, code: str) -> None:
    """The second step of a sign-in: a code from the authenticator app.

    Wrong or replayed codes count towards the same temporary lock as wrong passwords, so
    someone who knows the password cannot try codes for long. Raises ``SignInLocked``
    while the lock lasts and ``SignInFailed`` for a code that is not accepted.
    """
    throttle = _throttle(user.email)
    now = utcnow()
    if _is_locked(throttle, now):
        db.session.commit()
        raise SignInLocked()
    if not accept_second_factor(user, code):
        _count_failure(throttle, now)
        _record_failure(user, "second_step")
        db.session.commit()
        raise SignInLocked() if _is_locked(throttle, now) else SignInFailed()
    throttle.failures = 0
    throttle.locked_until = None
    db.session.commit()


def reauthenticate(user: User, password: str, code: str) -> None:
    """Prove again who you are (before a sensitive action): the password, and with
    two-factor sign-in a code or a recovery code. Failures count towards the sign-in
    lock. Raises ``SignInFailed``."""
    throttle = _throttle(user.email)
    now = utcnow()
    ok = False
    if not _is_locked(throttle, now):
        try:
            ok = _hasher.verify(user.password_hash or _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok and user.totp_enabled:
            ok = accept_second_factor(user, code)
    if not ok:
        _count_failure(throttle, now)
        audit.record(user, "user.reauth_failure", "user", user.id)
        db.session.commit()
        raise SignInFailed()
    throttle.failures = 0
    audit.record(user, "user.reauth", "user", user.id)
    db.session.commit()


def _record_failure(user: User | None, reason: str) -> None:
    """Audit a refused sign-in (ASVS 7.2.1): the account when it exists, the reason and
    the address; never the e-mail typed for an unknown account (a password is sometimes
    typed there) nor the password or code."""
    audit.record(
        None, "user.login_failed", "user", user.id if user else None, after={"reason": reason}
    )


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(user, "user.login", "user", user.id)
    db.session.commit()


# --- TOTP two-factor -----------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def seal_setup_secret(user: User, secret: str) -> str:
    """Encrypt a secret being enrolled, for keeping in the (signed, readable) session
    cookie until the person confirms it: a copy of the cookie must not reveal it."""
    return crypto.encrypt_text(secret, context=f"totp-setup:{user.id}")


def open_setup_secret(user: User, sealed: str | None) -> str | None:
    """The secret sealed by ``seal_setup_secret``, or None when absent or not valid."""
    if not sealed:
        return None
    try:
        return crypto.decrypt_text(sealed, context=f"totp-setup:{user.id}")
    except ValueError:
        return None


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name="Judicial Networks")


def _matching_step(secret: str, code: str) -> int | None:
    """The time step a code belongs to (±1 step of clock drift), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = utcnow()
    for drift in (0, -1, 1):
        at = now + timedelta(seconds=30 * drift)
        if hmac.compare_digest(totp.at(at), code):
            return totp.timecode(at)
    return None


def enable_totp(user: User, secret: str, code: str) -> None:
    """Confirm enrolment with a code from the app; raises ``ValidationError``."""
    step = _matching_step(secret, code)
    if step is None:
        raise ValidationError(fields={"code": _("That code is not valid. Try the current one.")})
    user.totp_secret_encrypted = crypto.encrypt_text(secret, context=f"totp:{user.id}")
    user.totp_last_step = step
    audit.record(user, "user.totp_enable", "user", user.id)
    db.session.commit()
    # A change of the second factor ends every session (ASVS 3.3.3); the caller opens a
    # new one for this browser.
    sessions.revoke_all(user.id, "2fa")


def _accept_code(user: User, code: str) -> bool:
    """Whether ``code`` is right and newer than the last one accepted; records its step."""
    if not user.totp_secret_encrypted:
        return False
    secret = crypto.decrypt_text(user.totp_secret_encrypted, context=f"totp:{user.id}")
    step = _matching_step(secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def verify_totp(user: User, code: str) -> bool:
    """Check a second-factor code (or a recovery code); a code is accepted once (no
    replay)."""
    accepted = accept_second_factor(user, code)
    if accepted:
        db.session.commit()
    return accepted


def disable_totp(user: User, code: str) -> None:
    if not verify_totp(user, code):
        raise ValidationError(fields={"code": _("That code is not valid. Try the current one.")})
    user.totp_secret_encrypted = None
    user.totp_last_step = None
    delete_recovery_codes(user)
    audit.record(user, "user.totp_disable", "user", user.id)
    db.session.commit()
    sessions.revoke_all(user.id, "2fa")


# --- Recovery codes (issue 8) ---------------------------------------------------------

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _recovery_digest(user: User, code: str) -> str:
    # Bound to the account, so equal codes of two people never share a digest.
    return hashlib.sha256(f"{user.id}:{_normalise_recovery_code(code)}".encode()).hexdigest()


def delete_recovery_codes(user: User) -> None:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def new_recovery_codes(user: User) -> list[str]:
    """Replace the person's recovery codes with ten new single-use ones; returns them
    in clear, to be shown once (only SHA-256 digests are stored). Commits."""
    delete_recovery_codes(user)
    codes = []
    for _n in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_digest(user, raw)))
    audit.record(user, "user.recovery_codes", "user", user.id)
    db.session.commit()
    return codes


def recovery_codes_left(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def _use_recovery_code(user: User, code: str) -> bool:
    """Spend a recovery code (once); the caller commits."""
    normalised = _normalise_recovery_code(code)
    if len(normalised) != 10:
        return False
    row = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_digest(user, normalised),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row is None:
        return False
    row.used_at = utcnow()
    audit.record(user, "user.recovery_code_used", "user", user.id)
    return True


def accept_second_factor(user: User, code: str) -> bool:
    """A TOTP code newer than the last accepted one, or an unused recovery code. The
    caller commits (which spends the code)."""
    if not user.totp_enabled:
        return False
    return _accept_code(user, code) or _use_recovery_code(user, code)


# --- Personal access tokens ---------------------------------------------------------


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, label: str) -> tuple[AccessToken, str]:
    """Create a token; the plain value is returned once and never stored.

    Raises ``ValidationError`` for a label too long or an inactive account (whose token
    would never be accepted).
    """
    if not user.is_active_account:
        raise ValidationError(_("This account is deactivated."))
    label = (label or "").strip() or "token"
    if len(label) > 100:
        raise ValidationError(fields={"label": _("Use at most 100 characters.")})
    if any(unicodedata.category(ch) == "Cc" for ch in label):  # issue 8: they were stored
        raise ValidationError(fields={"label": _("Contains control characters.")})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        user_id=user.id, label=label, token_hash=_token_digest(plain), prefix=plain[:10]
    )
    db.session.add(token)
    db.session.flush()
    audit.record(user, "token.create", "access_token", token.id, after={"label": label})
    db.session.commit()
    return token, plain


# ``user_for_token``'s query, built once.
_USER_FOR_TOKEN = (
    select(User)
    .join(AccessToken, AccessToken.user_id == User.id)
    .where(
        AccessToken.token_hash == bindparam("digest"),
        AccessToken.revoked_at.is_(None),
        User.is_active_account.is_(True),
    )
)


def user_for_token(plain: str) -> User | None:
    """The active account behind a personal access token not revoked, or None."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    # One indexed query (the unique digest), as it runs for every socket event: a token
    # revoked or an account deactivated stops working at the next event.
    return db.session.scalar(_USER_FOR_TOKEN, {"digest": _token_digest(plain)})


def revoke_token(user: User, token_id: int) -> None:
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound()
    token.revoked_at = utcnow()
    audit.record(user, "token.revoke", "access_token", token.id)
    db.session.commit()


# The networks and roles of one person, as rows (``/api/v1/me``): no network objects are
# made, so their names in every language are not loaded either.
_MEMBERSHIP_ROLES = (
    select(Network.slug, Membership.role)
    .join(Membership.network)
    .where(Membership.user_id == bindparam("user_id"))
    .order_by(Membership.id)
)


def membership_roles(user: User) -> list[tuple[str, str]]:
    """``(network slug, role)`` of each of the person's memberships, in the order they
    were made."""
    rows = db.session.execute(_MEMBERSHIP_ROLES, {"user_id": user.id})
    return [(slug, role) for slug, role in rows]


def active_tokens(user: User) -> list[AccessToken]:
    return list(
        db.session.scalars(
            select(AccessToken)
            .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
            .order_by(AccessToken.created_at.desc())
        )
    )


# --- Preferences ----------------------------------------------------------------------


def update_preferences(
    user: User, *, locale: str | None = None, timezone: str | None = None
) -> None:
    """Change the UI language and/or time zone; raises ``ValidationError``."""
    errors = {}
    if locale is not None and locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _("This language is not available.")
    if timezone is not None and not i18n.is_valid_timezone(timezone):
        errors["timezone"] = _("Choose a time zone from the list.")
    if errors:
        raise ValidationError(fields=errors)
    if locale is not None:
        user.locale = locale
    if timezone is not None:
        user.timezone = timezone
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError) as exc:
        raise ValidationError(
            fields={"current_password": _("The current password is wrong.")}
        ) from exc
    user.password_hash = hash_password(new)
    user.session_version += 1  # every other session and remember-me cookie ends
    audit.record(user, "user.password_change", "user", user.id)
    db.session.commit()
    # Every server-side session ends too (ASVS 3.3.3), and the sockets opened by them
    # close; the caller opens a new session for this browser.
    sessions.revoke_all(user.id, "password")
