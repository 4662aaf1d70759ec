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


_ID_PARAM: dict[str, Any] = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
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
                "Channel": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {
                            "type": "string",
                            "enum": ["network", "topic", "case", "direct", "consultation"],
                        },
                        "name": {"type": "string"},
                        "network": {"type": "string", "nullable": True},
                        "last_seq": {"type": "integer"},
                        "last_read_seq": {"type": "integer"},
                        "unread": {"type": "integer"},
                        "can_write": {"type": "boolean"},
                    },
                },
                "Message": {
                    "type": "object",
                    "properties": {
                        "channel_id": {"type": "integer"},
                        "id": {"type": "integer"},
                        "seq": {"type": "integer"},
                        "client_id": {"type": "string"},
                        "parent_id": {"type": "integer", "nullable": True},
                        "author": {"type": "object", "nullable": True},
                        "html": {"type": "string", "description": "sanitised HTML"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "edited_at": {"type": "string", "format": "date-time", "nullable": True},
                        "deleted": {"type": "boolean"},
                    },
                },
                "Posted": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "seq": {"type": "integer"}},
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
            "/channels": {
                "get": {
                    "summary": "Channels the caller may read, with unread counts",
                    "responses": _ok(_list_of("Channel")),
                }
            },
            "/channels/{id}/messages": {
                "get": {
                    "summary": "Messages in seq order, after after_seq or before before_seq",
                    "parameters": [
                        _ID_PARAM,
                        {
                            "name": "after_seq",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                        {
                            "name": "before_seq",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                        },
                    ],
                    "responses": _ok(_list_of("Message")),
                },
                "post": {
                    "summary": "Post a message; a repeated client_id gets the stored one",
                    "parameters": [_ID_PARAM],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["body", "client_id"],
                                    "properties": {
                                        "body": {"type": "string", "description": "Markdown"},
                                        "client_id": {
                                            "type": "string",
                                            "pattern": "^[A-Za-z0-9_-]{8,64}$",
                                        },
                                        "parent_id": {"type": "integer", "nullable": True},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        **_ok({"$ref": "#/components/schemas/Posted"}),
                        "201": {
                            "description": "Created",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Posted"}
                                }
                            },
                        },
                    },
                },
            },
        },
    }
