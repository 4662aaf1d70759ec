"""/api/v1/openapi.json is a well-formed OpenAPI 3 document that lists every API route.

openapi-spec-validator is not a dependency, so the structure is checked here: the
version, that every operation has responses with descriptions, that path parameters are
declared, that every $ref resolves, and that the document and the routes agree.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PREFIX = "/api/v1"


@pytest.fixture
def spec(client) -> dict[str, Any]:
    response = client.get(f"{PREFIX}/openapi.json")  # public: tools read it before signing in
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"external $ref {ref}"
    node: Any = spec
    for part in ref[2:].split("/"):
        assert isinstance(node, dict)
        assert part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def test_document_declares_openapi_3_with_info(spec):
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    assert [server["url"] for server in spec["servers"]] == [PREFIX]


def test_every_operation_has_described_responses_and_declared_path_parameters(spec):
    assert spec["paths"]
    for path, item in spec["paths"].items():
        assert path.startswith("/")
        placeholders = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            assert method in HTTP_METHODS, f"{path}: {method}"
            assert operation["responses"], f"{method} {path} has no responses"
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5](\d\d|XX)|default", status), status
                assert response["description"]
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            assert declared == placeholders, f"{method} {path}"
            for parameter in operation.get("parameters", []):
                assert parameter["in"] in {"query", "path", "header", "cookie"}
                assert "schema" in parameter or "content" in parameter
                if parameter["in"] == "path":
                    assert parameter["required"] is True


def test_every_reference_resolves(spec):
    refs = _refs(spec)
    assert refs
    for ref in refs:
        _resolve(spec, ref)


def test_security_requirements_name_declared_schemes(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    for requirement in spec["security"]:
        assert set(requirement) <= set(schemes)


def test_error_schema_matches_the_error_body(spec, client):
    schema = spec["components"]["schemas"]["Error"]
    inner = schema["properties"]["error"]
    assert set(inner["required"]) == {"code", "message"}
    body = client.get(f"{PREFIX}/me").get_json()  # an anonymous call: a real error body
    assert set(body) == set(schema["properties"])
    assert set(inner["required"]) <= set(body["error"]) <= set(inner["properties"])


def test_document_lists_exactly_the_api_routes(spec, app):
    def shape(path: str) -> str:
        return re.sub(r"{[^}]+}", "{}", path)

    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<[^>]+>", "{}", rule.rule[len(PREFIX) :])
        methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
        routes.setdefault(path, set()).update(methods)
    documented = {shape(path): set(item) for path, item in spec["paths"].items()}
    assert routes
    assert documented == routes
