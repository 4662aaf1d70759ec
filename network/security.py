"""Request authentication by bearer token, the CSRF gate, the HTTP security headers
applied to every response, and URL integers bounded to what the database can hold."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Request, Response, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter, Map

from network.errors import TooLarge, Unauthorized, ValidationError
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


_INT64 = 2**63


def has_huge_int(value: Any, depth: int = 0) -> bool:
    """Whether a decoded JSON value holds an integer beyond 64 bits anywhere. No field has
    a use for one, and a lookup with it makes both database drivers fail (a 500); the
    gate refuses it for every JSON body and socket event (issue 8)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return not -_INT64 <= value < _INT64
    if depth > 100:
        return False  # the size and nesting limits deal with such documents
    if isinstance(value, dict):
        return any(has_huge_int(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(has_huge_int(v, depth + 1) for v in value)
    return False


def is_database_int(value: Any) -> bool:
    """An int (not a bool) that an INTEGER column can hold. A larger one from a form, the
    JSON API or a socket event names nothing, and the driver would fail on it with a 500
    (issue 8: found by the hostile-input corpus)."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -DATABASE_INT_MAX - 1 <= value <= DATABASE_INT_MAX
    )


class DatabaseIntegerConverter(IntegerConverter):
    """``<int:...>`` in a URL, at most ten digits: a longer number cannot be an id, and
    passing it on would make the database driver fail (a 500) instead of the route
    answering 404.

    The bound is in the pattern rather than a ``max`` (issue 8, found by schemathesis):
    Werkzeug checks a rule's method before its converter, so a ``max`` refusing
    ``PATCH /cases/99999999999`` left only the GET rule "matching" and answered 405. Ten
    digits stay within 64 bits, which both databases compare with an INTEGER column.
    """

    regex = r"\d{1,10}"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
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


# NUL and the other C0/C1 control characters except tab, line feed and carriage return
# (bad input, issue 8, ASVS V5.1.3/V5.1.4): no field of a form or of the API has a use for
# them, PostgreSQL cannot store NUL, and the others (escape sequences, DEL, NEL) only serve
# to confuse terminals, logs, CSV readers and comparisons.
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return _FORBIDDEN_CHARACTERS.search(value) is not None
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_characters() -> None:
    """Refuse text input containing NUL or another control character (other than tab and
    line breaks) with 422, before any service sees it.

    No form or API field has a use for them, and PostgreSQL cannot store or even compare
    such a string: the driver would fail and the caller get a 500 for bad input.
    Invalid UTF-8 in the query string or a URL-encoded form is refused too (Werkzeug would
    quietly turn it into U+FFFD and a service store that).
    Raises ``ValidationError``.
    """
    fields: dict[str, Any] = {}
    raw = [request.query_string]
    if request.mimetype == "application/x-www-form-urlencoded":
        raw.append(request.get_data(cache=True))
    for encoded in raw:
        for pair in encoded.split(b"&"):
            key, _sep, value = pair.partition(b"=")
            try:
                unquote_to_bytes(value.replace(b"+", b" ")).decode()
                unquote_to_bytes(key.replace(b"+", b" ")).decode()
            except UnicodeDecodeError:
                name = unquote_to_bytes(key).decode(errors="ignore")
                fields[_FORBIDDEN_CHARACTERS.sub("", name)] = _l(
                    "This value contains a character that is not allowed."
                )
    # A page's form keeps its own field checks (the form comes back with the message next
    # to the field); only NUL, which PostgreSQL cannot even compare, is refused here.
    page_form = not request.path.startswith("/api/")
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if source is request.form and page_form:
                bad = "\x00" in key or "\x00" in value
            else:
                bad = _has_nul(key) or _has_nul(value)
            if bad:
                fields[_FORBIDDEN_CHARACTERS.sub("", key)] = _l(
                    "This value contains a character that is not allowed."
                )
    if request.is_json and _has_nul(request.get_json(silent=True)):
        fields["body"] = _l("This value contains a character that is not allowed.")
    if request.is_json and has_huge_int(request.get_json(silent=True)):
        fields["body"] = _l("A number in this request is out of range.")
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


# --- Bad input (issue 8): body size and JSON depth ----------------------------------------


def refuse_oversize_bodies() -> None:
    """Refuse a URL-encoded form or a JSON body over ``MAX_FORM_BYTES`` (1 MB) with 413,
    before anything parses it (ASVS V5.1.4, V12.1.1).

    Werkzeug limits the text parts of a multipart form (``MAX_FORM_MEMORY_SIZE``) but reads
    a URL-encoded or JSON body whole, up to ``MAX_CONTENT_LENGTH``, which is sized for
    file uploads (30 MB): without this a 10 MB "name" reached the services.
    Raises ``TooLarge``.
    """
    if request.method in SAFE_METHODS:
        return
    limit = int(current_app.config.get("MAX_FORM_BYTES", 1024 * 1024))
    form_or_json = request.mimetype in {"application/x-www-form-urlencoded", "application/json"}
    if form_or_json and (request.content_length or 0) > limit:
        raise TooLarge(_l("The request is too large."))


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a document nested too deeply to parse (``[[[[…`` ten thousand
    levels) is invalid JSON (a 400/422 through ``get_json``) instead of a
    ``RecursionError`` and a 500 (ASVS V5.1.4, V13.1)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return json.loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
