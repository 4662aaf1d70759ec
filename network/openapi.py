"""The OpenAPI 3 document of /api/v1 (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _list_of(ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
        },
    }


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "401": {
            "description": "Not signed in",
            "content": {"application/json": {"schema": _ERROR}},
        },
        "403": {"description": "Forbidden", "content": {"application/json": {"schema": _ERROR}}},
        "404": {"description": "Not found", "content": {"application/json": {"schema": _ERROR}}},
        "422": {
            "description": "Invalid input",
            "content": {"application/json": {"schema": _ERROR}},
        },
    }


def _array_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Judicial cooperation networks API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "fields": {
                                    "type": "object",
                                    "additionalProperties": {"type": "string"},
                                },
                            },
                            "required": ["code", "message"],
                        }
                    },
                },
                "Network": {
                    "type": "object",
                    "properties": {
                        "slug": {"type": "string"},
                        "acronym": {"type": "string"},
                        "name": {"type": "string"},
                        "region": {"type": "string"},
                        "languages": {"type": "array", "items": {"type": "string"}},
                        "member_states": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "ContactPoint": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "title": {"type": "string"},
                        "institution": {"type": "string"},
                        "authority_type": {"type": "string"},
                        "country": {"type": "string"},
                        "networks": {"type": "array", "items": {"type": "string"}},
                        "languages": {"type": "array", "items": {"type": "string"}},
                        "request_languages": {"type": "array", "items": {"type": "string"}},
                        "expertise": {"type": "array", "items": {"type": "string"}},
                        "channels": {"type": "array", "items": {"type": "string"}},
                        "email": {"type": "string"},
                        "phone": {"type": "string", "nullable": True},
                        "available_24_7": {"type": "boolean"},
                        "last_confirmed": {"type": "string", "format": "date", "nullable": True},
                    },
                },
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/me": {"get": {"summary": "The caller", "responses": _ok({"type": "object"})}},
            "/networks": {"get": {"summary": "Networks", "responses": _ok(_list_of("Network"))}},
            "/contact-points": {
                "get": {
                    "summary": "Search contact points",
                    "parameters": [
                        _array_param("q", "free text"),
                        _array_param("network", "network slug(s)"),
                        _array_param("country", "ISO 3166-1 alpha-2 code(s)"),
                        _array_param("authority_type", "authority type(s)"),
                        _array_param("expertise", "expertise code(s)"),
                        _array_param("language", "ISO 639-1 code(s)"),
                        _array_param("available_24_7", "yes or no"),
                        _array_param("sort", "name, country, confirmed_desc, confirmed_asc"),
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                    ],
                    "responses": _ok(_list_of("ContactPoint")),
                }
            },
            "/contact-points/{id}": {
                "get": {
                    "summary": "One contact point",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": _ok({"$ref": "#/components/schemas/ContactPoint"}),
                }
            },
            "/contact-points/{id}.vcf": {
                "get": {
                    "summary": "One contact point as vCard 4.0",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {"200": {"description": "vCard", "content": {"text/vcard": {}}}},
                }
            },
        },
    }
