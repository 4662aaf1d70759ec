"""Request authentication by bearer token, the CSRF gate, the HTTP security headers
applied to every response, and URL integers bounded to what the database can hold."""

from __future__ import annotations

from typing import Any

from flask import Request, Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map

from network.errors import Unauthorized, ValidationError
from network.extensions import csrf, login_manager

# No inline script anywhere: scripts and styles come from our own origin only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The largest value of an INTEGER column on PostgreSQL (and of a 32-bit id anywhere).
DATABASE_INT_MAX = 2**31 - 1


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:...>`` in a URL, but never beyond ``DATABASE_INT_MAX``: a larger id cannot
    exist, and passing it on would make the database driver fail (a 500) instead of the
    route answering 404."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = DATABASE_INT_MAX,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def bearer_token(req: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header (scheme case-insensitive), if any."""
    scheme, _, value = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate_bearer() -> None:
    """A request with a bearer token is authenticated by that token alone.

    The session cookie is ignored for such a request (so a bearer header can never turn a
    cookie-authenticated request into one that skips CSRF), and a token that is unknown,
    revoked or belongs to an inactive account is refused with 401 rather than quietly
    treated as anonymous. Raises ``Unauthorized``.
    """
    from network.services import accounts

    token = bearer_token(request)
    if token is None:
        return
    user = accounts.user_for_token(token)
    if user is None:
        raise Unauthorized(_l("The access token is not valid or has been revoked."))
    g.token_auth = True
    # Flask-Login would look at the session first (and, with strong session protection,
    # drop to anonymous when the session holds anything but a login); the token decides.
    login_manager._update_request_context_with_user(user)


def check_csrf() -> None:
    """Every unsafe request needs a CSRF token unless a valid bearer token authenticated it
    (no ambient credential, API.md). Raises ``CSRFError``."""
    if request.method in SAFE_METHODS or not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    if g.get("token_auth"):
        return
    csrf.protect()


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """Refuse text input containing NUL characters with 422, before any service sees it.

    No form or API field has a use for them, and PostgreSQL cannot store or even compare
    such a string: the driver would fail and the caller get a 500 for bad input.
    Raises ``ValidationError``.
    """
    fields: dict[str, Any] = {}
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if _has_nul(key) or _has_nul(value):
                fields[key.replace("\x00", "")] = _l(
                    "This value contains a character that is not allowed."
                )
    if request.is_json and _has_nul(request.get_json(silent=True)):
        fields["body"] = _l("This value contains a character that is not allowed.")
    if fields:
        raise ValidationError(fields=fields)


def apply_security_headers(response: Response) -> Response:
    """Add the security headers to ``response`` (keeping any a view set itself)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "geolocation=(), payment=(), usb=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if response.mimetype == "text/html":
        headers.setdefault("Cache-Control", "no-store")
    return response


# --- Sessions (issue 8) -----------------------------------------------------------------

# What a member who must enrol in two-factor sign-in may still reach.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "static",
        "account.two_factor",
        "account.two_factor_qr",
        "account.recovery_codes",
        "auth.logout",
        "auth.login",
        "auth.second_factor",
        "main.set_language",
    }
)


def enforce_session() -> Any:
    """Load the person of a cookie session now, before any view: the server-side session
    check (revoked, idle, too old) runs and writes its touch here, never in the middle
    of a view's transaction. Then send a member who must use two-factor sign-in to
    enrol first (a page) or refuse with 403 (JSON)."""
    from flask import flash, redirect, session, url_for

    from network import policy
    from network.errors import Forbidden, wants_json

    if request.endpoint == "static" or g.get("token_auth"):
        return None
    if not current_user.is_authenticated:
        if session.get("_user_id"):
            # An ended session: forget it, and have Flask-Login delete the remember-me
            # cookie, instead of looking both up again on every request.
            for key in ("_user_id", "_fresh", "_id"):
                session.pop(key, None)
            session["_remember"] = "clear"
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS or not policy.must_enrol_second_factor(current_user):
        return None
    if wants_json():
        raise Forbidden(_l("Your network requires two-factor sign-in: set it up first."))
    flash(_l("Your network requires two-factor sign-in: set it up to continue."), "info")
    return redirect(url_for("account.two_factor"))


def private_cache_headers(response: Response) -> Response:
    """Every response to a signed-in person (cookie or token) is ``Cache-Control:
    private, no-store``: no shared or browser cache keeps what only they may see
    (ASVS 8.2.1). Static files are the same for everyone and stay cacheable."""
    if request.endpoint == "static":
        return response
    user = g.get("_login_user")
    if user is not None and user.is_authenticated:
        response.headers["Cache-Control"] = "private, no-store"
        response.headers.pop("Expires", None)
        response.headers.setdefault("Pragma", "no-cache")
    return response
