"""Cross-cutting protections: CSRF on every form, cookie flags, security headers on every
response, templates free of inline script, and the rule that only a valid bearer token
skips CSRF."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from network.services import accounts
from tests.conftest import PASSWORD, csrf_token

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _signed_in(client, make_user, login, role="coordinator"):
    user = make_user(role, "wacap")
    login(client, user)
    return user


# --- CSRF ---------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused_and_does_not_sign_in(client, make_user):
    user = make_user("observer", "wacap")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "expired or was not sent from this site" in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 302  # still anonymous


def test_login_with_a_forged_csrf_token_is_refused(client, make_user):
    user = make_user("observer", "wacap")
    csrf_token(client, "/login")  # the session holds a real token; the form sends another
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/account/").status_code == 302


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(client, make_user, login):
    _signed_in(client, make_user, login)
    assert client.post("/logout").status_code == 400
    assert client.get("/account/").status_code == 200


def test_logout_with_csrf_token_signs_out(client, make_user, login):
    _signed_in(client, make_user, login)
    token = csrf_token(client, "/account/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/account/").status_code == 302


def test_language_switch_without_csrf_token_is_refused(client, make_user, login, db):
    user = _signed_in(client, make_user, login)
    response = client.post("/language", data={"locale": "fr", "next": "/"})
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.locale != "fr"
    assert 'lang="en"' in client.get("/networks").get_data(as_text=True)


def test_language_switch_with_csrf_token_changes_language(client, make_user, login, db):
    user = _signed_in(client, make_user, login)
    token = csrf_token(client, "/networks")
    response = client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.locale == "fr"
    assert 'lang="fr"' in client.get("/networks").get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/account/", {"locale": "fr", "timezone": "Asia/Tokyo", "submit": "Save"}),
        ("/account/password", {"pw-current_password": PASSWORD, "pw-new_password": "x" * 20}),
        ("/account/tokens", {"tok-label": "script"}),
        ("/account/2fa", {"code": "123456"}),
    ],
)
def test_account_forms_without_csrf_token_change_nothing(client, make_user, login, db, path, data):
    user = _signed_in(client, make_user, login)
    hash_before = user.password_hash
    response = client.post(path, data=data)
    assert response.status_code == 400
    db.session.refresh(user)
    assert user.timezone == "UTC"
    assert user.password_hash == hash_before
    assert accounts.active_tokens(user) == []


def test_directory_confirm_without_csrf_token_is_refused_and_changes_nothing(
    client, make_user, login, make_contact_point, db
):
    _signed_in(client, make_user, login, role="coordinator")
    cp = make_contact_point(last_confirmed=date(2020, 1, 1))
    response = client.post(f"/directory/{cp.id}/confirm")
    assert response.status_code == 400
    db.session.refresh(cp)
    assert cp.last_confirmed_at == date(2020, 1, 1)


def test_directory_edit_without_csrf_token_is_refused_and_changes_nothing(
    client, make_user, login, make_contact_point, db
):
    _signed_in(client, make_user, login, role="coordinator")
    cp = make_contact_point(name="Original Name")
    response = client.post(
        f"/directory/{cp.id}/edit",
        data={"name": "Changed Name", "authority_type": "central_authority", "country": "SN"},
    )
    assert response.status_code == 400
    db.session.refresh(cp)
    assert cp.name == "Original Name"


def test_reminders_without_csrf_token_are_refused_and_send_nothing(
    client, make_user, login, make_contact_point, db
):
    _signed_in(client, make_user, login, role="secretariat")
    cp = make_contact_point(last_confirmed=date(2020, 1, 1))
    response = client.post("/directory/networks/wacap/remind")
    assert response.status_code == 400
    db.session.refresh(cp)
    assert cp.reminder_sent_at is None


def test_session_authenticated_api_write_needs_csrf(client, make_user, login):
    _signed_in(client, make_user, login)
    response = client.post("/api/v1/me", json={})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_bearer_token_api_call_skips_csrf(client, make_user):
    user = make_user("observer", "wacap")
    _token, plain = accounts.create_token(user, "script")
    # No write route exists yet: a POST passes the CSRF gate and reaches routing (405).
    response = client.post("/api/v1/me", json={}, headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_valid_bearer_token_form_post_needs_no_csrf_token(client, make_user, db):
    user = make_user("observer", "wacap")
    _token, plain = accounts.create_token(user, "script")
    response = client.post(
        "/language", data={"locale": "fr"}, headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.locale == "fr"


def test_bogus_bearer_header_does_not_let_a_session_skip_csrf(client, make_user, login, db):
    user = _signed_in(client, make_user, login)
    response = client.post(
        "/language",
        data={"locale": "fr", "next": "/"},
        headers={"Authorization": "Bearer ntk_not-a-real-token"},
    )
    # Refused as unauthenticated (a page sends the browser to the sign-in form)...
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    db.session.refresh(user)
    assert user.locale != "fr"
    # ...and on the API the session does not stand in for the bad token either.
    api = client.get("/api/v1/me", headers={"Authorization": "Bearer ntk_not-a-real-token"})
    assert api.status_code == 401
    assert api.get_json()["error"]["code"] == "unauthorized"


def test_bearer_call_acts_as_the_token_owner_not_the_session(client, make_user, login):
    _signed_in(client, make_user, login)
    other = make_user("observer", "wacap")
    _token, plain = accounts.create_token(other, "script")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"}).get_json()
    assert me["email"] == other.email


# --- Cookies and headers --------------------------------------------------------------------


def _cookie_header(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set")


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("observer", "wacap")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    cookie = _cookie_header(response, "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_remember_me_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("observer", "wacap")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    cookie = _cookie_header(response, "remember_token")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/networks",
        "/login",
        "/healthz",
        "/static/css/app.css",
        "/directory/",  # a redirect to the sign-in page
        "/no-such-page",
        "/api/v1/me",  # a 401 JSON error
        "/api/v1/openapi.json",
    ],
)
def test_every_response_carries_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().partition(" ")[::2] for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in {"same-origin", "strict-origin", "no-referrer"}


def test_signed_in_pages_are_not_cached(client, make_user, login):
    _signed_in(client, make_user, login)
    # Issue 8: "private, no-store" on every authenticated response (ASVS 8.2.1).
    assert client.get("/account/").headers["Cache-Control"] == "private, no-store"


def test_templates_have_no_inline_script_or_event_handlers():
    offences = []
    script = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
    handler = re.compile(r"<[a-zA-Z][^>]*\s(on[a-z]+)\s*=", re.IGNORECASE | re.DOTALL)
    js_url = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
    style_attribute = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.IGNORECASE | re.DOTALL)
    files = sorted(TEMPLATES.rglob("*.html"))
    assert files, "no templates found"
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(TEMPLATES)
        for match in script.finditer(text):
            attributes, body = match.groups()
            # A data island (type="application/json", filled through Jinja's |tojson,
            # which escapes "<", ">" and "&") is never run: the CSP's script-src does not
            # apply to it, and the page's own script reads it with JSON.parse.
            if re.search(r"""type\s*=\s*["']application/json["']""", attributes):
                if "|tojson" not in body:
                    offences.append(f"{name}: JSON data island not filled with |tojson")
                continue
            if body.strip():
                offences.append(f"{name}: inline <script> content")
            if "src=" not in attributes:
                offences.append(f"{name}: <script> without src")
        offences += [f"{name}: {m.group(1)}= handler" for m in handler.finditer(text)]
        offences += [f"{name}: javascript: URL" for _ in js_url.finditer(text)]
        # style-src 'self' also blocks style attributes: they would silently not apply.
        offences += [f"{name}: style attribute" for _ in style_attribute.finditer(text)]
    assert offences == []
