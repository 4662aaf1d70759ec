"""Issue 8, "Access and confidentiality": the headers of every response, tried over the
whole URL map for a signed-in person and an anonymous visitor."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token

# Placeholder values for URL arguments: routes answer 404/403 or a page, never a 500.
_ARGUMENTS = {"int": "1", "default": "x", "path": "x", "any": None}


def _urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        values = {}
        for name, converter in rule._converters.items():
            kind = type(converter).__name__.lower()
            if "any" in kind:
                values[name] = next(iter(converter.items)) if hasattr(converter, "items") else "x"
            elif "integer" in kind:
                values[name] = 1
            else:
                values[name] = "x"
        try:
            with app.test_request_context():
                from flask import url_for

                urls.append(url_for(rule.endpoint, **values))
        except Exception:  # noqa: S112 - a rule we cannot build is skipped
            continue
    return sorted(set(urls))


def _check_headers(path: str, response) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, path
    assert "unsafe-inline" not in csp, path
    assert "frame-ancestors 'none'" in csp, path
    assert headers.get("X-Content-Type-Options") == "nosniff", path
    assert headers.get("Referrer-Policy") in {"same-origin", "no-referrer", "strict-origin"}, path


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_every_authenticated_response_is_private_no_store(app, client, make_user, login, role):
    """ASVS 8.2.1 (no caching of sensitive data), 14.4.3 (CSP), 14.4.4 (nosniff),
    14.4.5 (Referrer-Policy), 14.4.7 (frame-ancestors): tried on every GET route."""
    user = make_user("coordinator", "wacap", admin=role == "admin")
    login(client, user)
    urls = _urls(app)
    assert len(urls) > 60, urls
    for path in urls:
        if path in {"/logout"}:
            continue
        response = client.get(path)
        assert response.status_code < 500, path
        assert response.headers.get("Cache-Control") == "private, no-store", path
        _check_headers(path, response)
    # Still signed in after the whole tour (no route signed us out).
    assert client.get("/account/").status_code == 200
    # A POST answered with a redirect carries the same headers.
    response = client.post("/account/", data={"csrf_token": csrf_token(client, "/account/")})
    assert response.headers.get("Cache-Control") == "private, no-store"


def test_anonymous_responses_carry_the_security_headers(app, client):
    """ASVS 14.4.3-14.4.7 for an anonymous visitor; sign-in pages are not cached either."""
    for path in _urls(app):
        response = client.get(path)
        assert response.status_code < 500, path
        _check_headers(path, response)
    assert "no-store" in client.get("/login").headers["Cache-Control"]
