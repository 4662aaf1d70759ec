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


# --- Cases (network/blueprints/api_cases.py) ---------------------------------------------
_CASE_STATUSES = [
    "draft",
    "sent",
    "received",
    "in_execution",
    "additional_information_requested",
    "executed",
    "partially_executed",
    "refused",
    "withdrawn",
]
_CASE_TYPES = [
    "mla",
    "extradition",
    "confiscation",
    "joint_investigation",
    "transfer_of_proceedings",
    "transfer_of_sentenced_persons",
    "e_evidence_preservation",
]
_CASE_FIELDS: dict[str, Any] = {
    "reference": {"type": "string", "maxLength": 100},
    "case_type": {"type": "string", "enum": _CASE_TYPES},
    "requesting_state": {"type": "string", "description": "ISO 3166-1 alpha-2"},
    "requested_state": {"type": "string", "description": "ISO 3166-1 alpha-2"},
    "legal_basis": {"type": "string", "maxLength": 300},
    "summary": {"type": "string", "maxLength": 5000, "description": "confidential"},
    "deadline": {"type": "string", "format": "date", "nullable": True},
    "urgent": {"type": "boolean"},
    "urgency_reason": {"type": "string", "maxLength": 300},
    "offence_seriousness": {"type": "string", "enum": ["ordinary", "serious", "very_serious"]},
    "pretrial_detention": {"type": "boolean"},
    "evidence_at_risk": {"type": "boolean"},
    "proceedings_stage": {
        "type": "string",
        "enum": ["investigation", "prosecution", "trial", "appeal", "enforcement"],
    },
}
_CASE_SCHEMAS: dict[str, Any] = {
    "CaseStatusChange": {
        "type": "object",
        "properties": {
            "case_id": {"type": "integer"},
            "from_status": {"type": "string", "nullable": True},
            "to_status": {"type": "string", "enum": _CASE_STATUSES},
            "to_status_label": {"type": "string"},
            "note": {"type": "string"},
            "changed_at": {"type": "string", "format": "date-time"},
            "actor": {"type": "object", "nullable": True},
        },
    },
    "Case": {
        "type": "object",
        "description": "Readable by the members of its case channel only. The summary, the "
        "status history and the members come with GET /cases/{id}.",
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string"},
            "network": {"type": "string", "description": "network slug"},
            "channel_id": {"type": "integer"},
            "case_type": {"type": "string", "enum": _CASE_TYPES},
            "requesting_state": {"type": "string"},
            "requested_state": {"type": "string"},
            "legal_basis": {"type": "string"},
            "status": {"type": "string", "enum": _CASE_STATUSES},
            "status_changed_at": {"type": "string", "format": "date-time"},
            "next_statuses": {"type": "array", "items": {"type": "string"}},
            "deadline": {"type": "string", "format": "date", "nullable": True},
            "overdue": {"type": "boolean"},
            "criteria": {"type": "object"},
            "priority": {
                "type": "object",
                "properties": {
                    "score": {"type": "integer"},
                    "level": {"type": "string", "enum": ["high", "medium", "low"]},
                    "reasons": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "label": {"type": "string"},
                                "points": {"type": "integer"},
                            },
                        },
                    },
                },
            },
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "can_update": {"type": "boolean"},
            "summary": {"type": "string"},
            "status_changes": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/CaseStatusChange"},
            },
            "members": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _created(ref: str) -> dict[str, Any]:
    return {
        "201": {
            "description": "Created",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
        }
    }


_CASE = {"$ref": "#/components/schemas/Case"}
_CASE_PATHS: dict[str, Any] = {
    "/cases": {
        "get": {
            "summary": "Cases the caller may read (members of their case channel), open ones "
            "first, then by priority, deadline and reference",
            "parameters": [
                _array_param("status", "status(es), or open / closed"),
                _array_param("case_type", "type(s) of case"),
                _array_param("state", "requesting or requested state(s), ISO 3166-1 alpha-2"),
                _array_param("network", "network slug(s)"),
                _array_param("overdue", "yes or no"),
                _array_param("q", "part of the reference"),
                _array_param("sort", "priority (default), deadline, reference, updated"),
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            ],
            "responses": _ok(_list_of("Case")),
        },
        "post": {
            "summary": "Open a case with its case channel (the caller is its owner)",
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": [
                        "network",
                        "reference",
                        "case_type",
                        "requesting_state",
                        "requested_state",
                    ],
                    "properties": {
                        "network": {"type": "string", "description": "network slug"},
                        **_CASE_FIELDS,
                        "status": {"type": "string", "enum": ["draft", "sent", "received"]},
                        "members": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "description": "account ids of the other members",
                        },
                    },
                }
            ),
            "responses": {**_ok(_CASE), **_created("Case")},
        },
    },
    "/cases/{id}": {
        "get": {
            "summary": "One case with its summary, status history and members",
            "parameters": [_ID_PARAM],
            "responses": _ok(_CASE),
        },
        "patch": {
            "summary": "Change fields and priority criteria (not the status)",
            "parameters": [_ID_PARAM],
            "requestBody": _json_body({"type": "object", "properties": _CASE_FIELDS}),
            "responses": _ok(_CASE),
        },
    },
    "/cases/{id}/status": {
        "post": {
            "summary": "Move the case to one of its next_statuses (422 otherwise)",
            "parameters": [_ID_PARAM],
            "requestBody": _json_body(
                {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"type": "string", "enum": _CASE_STATUSES},
                        "note": {"type": "string", "maxLength": 1000},
                    },
                }
            ),
            "responses": {
                **_ok(
                    {
                        "allOf": [
                            _CASE,
                            {
                                "type": "object",
                                "properties": {
                                    "change": {"$ref": "#/components/schemas/CaseStatusChange"}
                                },
                            },
                        ]
                    }
                ),
                "409": {
                    "description": "The status was changed meanwhile",
                    "content": {"application/json": {"schema": _ERROR}},
                },
            },
        }
    },
}


# --- Live consultations (network/blueprints/consultations.py) -------------------------------
_CONSULTATION_PATHS: dict[str, Any] = {
    "/consultations": {
        "post": {
            "summary": "Open a live consultation with the caller as moderator and invite "
            "people (each gets a live knock, or an e-mail when not connected). With "
            "case_id: the caller writes in the case and invites its members.",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["title", "participants"],
                            "properties": {
                                "title": {"type": "string", "maxLength": 200},
                                "participants": {"type": "array", "items": {"type": "integer"}},
                                "case_id": {"type": "integer"},
                                "calendar_event_id": {"type": "integer"},
                                "scheduled_at": {
                                    "type": "string",
                                    "format": "date-time",
                                    "description": "opens then (knocking the invitees)",
                                },
                            },
                        }
                    }
                },
            },
            "responses": {
                "201": {
                    "description": "Created",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["id", "channel_id"],
                                "properties": {
                                    "id": {"type": "integer"},
                                    "channel_id": {"type": "integer"},
                                },
                            }
                        }
                    },
                },
                "403": {"description": "Forbidden"},
                "404": {"description": "No such case"},
                "422": {"description": "Invalid"},
            },
        }
    },
    "/consultations/{id}": {
        "get": {
            "summary": "A consultation: status, moderator, participants and their state",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": _ok({"type": "object"}),
        }
    },
}


def _json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": required or [], "properties": properties}
            }
        },
    }


def _channel_paths() -> dict[str, Any]:
    """Channels, members, threads, edits, receipts, people and notifications."""
    ids = {"type": "array", "items": {"type": "integer"}}
    created = {"201": {"description": "Created"}}
    gone = {"204": {"description": "Done"}}
    q = {"name": "q", "in": "query", "schema": {"type": "string"}}
    page = {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
    return {
        "/channels/{id}/members": {
            "get": {
                "summary": "Members of a readable channel (a network channel: the network's)",
                "parameters": [_ID_PARAM],
                "responses": _ok(_list_of("Member")),
            },
            "post": {
                "summary": "Add people (the channel's owners or coordinators)",
                "parameters": [_ID_PARAM],
                "requestBody": _json_body({"user_ids": ids}, ["user_ids"]),
                "responses": {**_ok(_list_of("Member")), **created},
            },
        },
        "/channels/{id}/members/{user_id}": {
            "delete": {
                "summary": "Remove a member (oneself: leave); their sockets leave at once",
                "parameters": [
                    _ID_PARAM,
                    {
                        "name": "user_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                ],
                "responses": {**_ok({"type": "object"}), **gone},
            }
        },
        "/people": {
            "get": {
                "summary": "People the caller may start a conversation with (20 at most)",
                "parameters": [q],
                "responses": _ok(_list_of("Person")),
            }
        },
        "/messages/{id}": {
            "get": {
                "summary": "One message (with its Markdown body for its author)",
                "parameters": [_ID_PARAM],
                "responses": _ok({"$ref": "#/components/schemas/Message"}),
            },
            "patch": {
                "summary": "The author edits; the earlier version is kept",
                "parameters": [_ID_PARAM],
                "requestBody": _json_body({"body": {"type": "string"}}, ["body"]),
                "responses": _ok({"$ref": "#/components/schemas/Message"}),
            },
            "delete": {
                "summary": "The author or a manager deletes; a tombstone stays",
                "parameters": [_ID_PARAM],
                "responses": {**_ok({"type": "object"}), **gone},
            },
        },
        "/messages/{id}/thread": {
            "get": {
                "summary": "A thread: its first message, then the replies in seq order",
                "parameters": [_ID_PARAM],
                "responses": _ok(_list_of("Message")),
            }
        },
        "/messages/{id}/revisions": {
            "get": {
                "summary": "Earlier versions of an edited message, oldest first",
                "parameters": [_ID_PARAM],
                "responses": _ok({"type": "object"}),
            }
        },
        "/messages/{id}/receipts": {
            "get": {
                "summary": "Certified receipts of a case-channel message (its sender only)",
                "parameters": [_ID_PARAM],
                "responses": _ok({"type": "object"}),
            }
        },
        "/notifications": {
            "get": {
                "summary": "The caller's notifications, newest first, with the unread count",
                "parameters": [page],
                "responses": _ok(_list_of("Notification")),
            }
        },
        "/notifications/read": {
            "post": {
                "summary": "Mark one notification ({id}) or all ({}) read",
                "requestBody": _json_body({"id": {"type": "integer"}}),
                "responses": _ok({"type": "object"}),
            }
        },
    }


# --- Calendar (network/blueprints/api_calendar.py) -----------------------------------------
_EVENT_SCHEMAS: dict[str, Any] = {
    "Event": {
        "type": "object",
        "description": "One occurrence of an event (a recurring event gives one per date).",
        "properties": {
            "id": {"type": "integer"},
            "uid": {"type": "string", "description": "iCalendar UID, stable for life"},
            "title": {"type": "string"},
            "kind": {
                "type": "string",
                "enum": [
                    "plenary",
                    "working_group",
                    "workshop",
                    "training",
                    "bilateral_consultation",
                    "webinar",
                ],
            },
            "format": {"type": "string", "enum": ["in_person", "virtual", "hybrid"]},
            "visibility": {"type": "string", "enum": ["members", "invited", "public"]},
            "status": {"type": "string", "enum": ["draft", "scheduled", "cancelled"]},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "timezone": {"type": "string", "description": "IANA zone of the event"},
            "recurring": {"type": "boolean"},
            "networks": {"type": "array", "items": {"type": "string"}},
            "venue": {"type": "string"},
            "online_url": {
                "type": "string",
                "description": "empty unless the caller is registered, invited or organises",
            },
            "series": {"type": "string"},
            "sequence": {"type": "integer"},
            "registration": {
                "type": "string",
                "nullable": True,
                "enum": ["accepted", "tentative", "declined", None],
            },
            "ics_url": {"type": "string"},
        },
    }
}
_EVENT_PATHS: dict[str, Any] = {
    "/events": {
        "get": {
            "summary": "Occurrences of the events the caller may see in [start, end)",
            "parameters": [
                {
                    "name": "start",
                    "in": "query",
                    "required": True,
                    "description": "ISO 8601 date or date-time (UTC when no offset)",
                    "schema": {"type": "string"},
                },
                {
                    "name": "end",
                    "in": "query",
                    "required": True,
                    "description": "ISO 8601; at most 400 days after start",
                    "schema": {"type": "string"},
                },
                _array_param("network", "network slug(s)"),
                _array_param("kind", "kind(s) of event"),
                _array_param("format", "in_person, virtual or hybrid"),
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                },
            ],
            "responses": _ok(_list_of("Event")),
        }
    }
}


# --- Training (trainer-of-trainers tracker) ------------------------------------------------------
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
_TRAINING_SCHEMAS: dict[str, Any] = {
    "Programme": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "network": {"type": "string", "description": "network slug"},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "pass_threshold": {
                "type": "integer",
                "description": "post-test percent needed (with every module completed) "
                "for certification",
            },
            "modules": {"type": "array", "items": {"type": "object"}},
            "cohorts": {"type": "integer"},
        },
    },
    "ProgrammeReport": {
        "type": "object",
        "description": "participants, breakdowns, completion and gain are of the direct "
        "trainees (the programme's own cohorts); cascade_reach counts every generation",
        "properties": {
            "programme": {"type": "object"},
            "participants": {"type": "integer"},
            "by_country": {**_COUNTS, "description": "ISO 3166-1 alpha-2 -> trainees"},
            "by_profession": {
                **_COUNTS,
                "description": "prosecutor, judge, law_enforcement, central_authority, "
                "interpol, other -> trainees",
            },
            "by_gender": {
                **_COUNTS,
                "description": "female, male, other, prefer_not_to_say, not_given",
            },
            "completion_rate": {
                "type": "number",
                "nullable": True,
                "description": "share (0-1) of direct trainees with every module completed",
            },
            "knowledge_gain": {
                "type": "object",
                "properties": {
                    "trainees": {"type": "integer", "description": "with both tests"},
                    "pre_mean": {"type": "number", "nullable": True},
                    "post_mean": {"type": "number", "nullable": True},
                    "points": {"type": "number", "nullable": True},
                    "percent": {
                        "type": "number",
                        "nullable": True,
                        "description": "(post_mean - pre_mean) / pre_mean * 100",
                    },
                },
            },
            "knowledge_gain_by_cohort": {
                "type": "array",
                "description": "each cohort of every generation, in the programme's order, "
                "with the gain of its own trainees who took both tests",
                "items": {
                    "type": "object",
                    "properties": {
                        "cohort_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "generation": {"type": "integer"},
                        "trainees": {"type": "integer", "description": "with both tests"},
                        "pre_mean": {"type": "number", "nullable": True},
                        "post_mean": {"type": "number", "nullable": True},
                        "points": {"type": "number", "nullable": True},
                        "percent": {"type": "number", "nullable": True},
                    },
                },
            },
            "certified": {"type": "integer"},
            "cascade_reach": {
                "type": "object",
                "properties": {
                    "direct_trainees": {"type": "integer"},
                    "later_generations": {"type": "integer"},
                    "total": {"type": "integer"},
                    "cascade_cohorts": {"type": "integer"},
                    "by_generation": _COUNTS,
                    "by_country": _COUNTS,
                    "by_profession": _COUNTS,
                },
            },
        },
    },
}
_TRAINING_PATHS: dict[str, Any] = {
    "/programmes": {
        "get": {
            "summary": "Training programmes the caller may see (their networks', and those "
            "they train or are trained in)",
            "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                {
                    "name": "per_page",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
            ],
            "responses": _ok(_list_of("Programme")),
        }
    },
    "/programmes/{programme_id}/report": {
        "get": {
            "summary": "A programme's report (coordinators and secretariats of its network)",
            "parameters": [
                {
                    "name": "programme_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": _ok({"$ref": "#/components/schemas/ProgrammeReport"}),
        }
    },
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
                        "name": {
                            "type": "string",
                            "description": "The name in the caller's language "
                            "(Accept-Language) when the network has one, else its default name",
                        },
                        "names": {
                            "type": "object",
                            "description": "The network's names by language code",
                            "additionalProperties": {"type": "string"},
                        },
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
                        "mentions": {"type": "integer"},
                        "purged_through_seq": {"type": "integer"},
                        "archived": {"type": "boolean"},
                        "description": {"type": "string"},
                        "can_write": {"type": "boolean"},
                    },
                },
                "Member": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "is_owner": {"type": "boolean"},
                        "role": {"type": "string", "nullable": True},
                    },
                },
                "Person": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "networks": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Notification": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {
                            "type": "string",
                            "enum": ["mention", "reply", "channel_invitation"],
                        },
                        "channel_id": {"type": "integer", "nullable": True},
                        "message_id": {"type": "integer", "nullable": True},
                        "read": {"type": "boolean"},
                        "created_at": {"type": "string", "format": "date-time"},
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
                        "parent": {"type": "object", "nullable": True},
                        "reply_count": {"type": "integer"},
                        "author": {"type": "object", "nullable": True},
                        "html": {"type": "string", "description": "sanitised HTML"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "edited_at": {"type": "string", "format": "date-time", "nullable": True},
                        "deleted": {"type": "boolean"},
                        "attachments": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Attachment"},
                        },
                    },
                },
                "Posted": {
                    "type": "object",
                    "properties": {"id": {"type": "integer"}, "seq": {"type": "integer"}},
                },
                "Attachment": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "filename": {"type": "string", "description": "cleaned on upload"},
                        "content_type": {
                            "type": "string",
                            "description": "detected from the content, not the name",
                        },
                        "size": {"type": "integer"},
                        "sha256": {"type": "string", "description": "of the content"},
                        "url": {
                            "type": "string",
                            "description": "GET it (outside /api/v1: /attachments/{id}/"
                            "download, session or bearer token) to download the file as an "
                            "attachment; for readers of the channel once the file is sent "
                            "with a message, 404 otherwise; each download is audited; 409 "
                            "attachment_damaged when the stored file fails its integrity "
                            "check",
                        },
                    },
                },
                **_CASE_SCHEMAS,
                **_EVENT_SCHEMAS,
                **_TRAINING_SCHEMAS,
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
            **_CASE_PATHS,
            **_EVENT_PATHS,
            **_TRAINING_PATHS,
            **_CONSULTATION_PATHS,
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
                    # The errors are documented too (issue 8, found by schemathesis).
                    "responses": {
                        **_ok({"type": "object"}),
                        "200": {"description": "vCard", "content": {"text/vcard": {}}},
                    },
                }
            },
            "/search": {
                "get": {
                    "summary": "Messages holding every word of q, in channels the caller "
                    "may read, newest first (words of 3+ letters also match as prefixes)",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 200},
                        },
                        {"name": "channel_id", "in": "query", "schema": {"type": "integer"}},
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
                    "responses": _ok(
                        {
                            "type": "object",
                            "properties": {
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "channel_id": {"type": "integer"},
                                            "seq": {"type": "integer"},
                                            "channel": {"type": "object"},
                                            "author": {"type": "object", "nullable": True},
                                            "created_at": {"type": "string", "format": "date-time"},
                                            "snippet": {
                                                "type": "string",
                                                "description": "escaped text, matches in <mark>",
                                            },
                                            "url": {"type": "string"},
                                        },
                                    },
                                },
                                "total": {"type": "integer"},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                            },
                        }
                    ),
                }
            },
            "/channels/{id}/attachments": {
                "post": {
                    "summary": "Upload files to a channel, to send with a message (by their "
                    "ids in attachment_ids); uploads never sent are removed after a day",
                    "parameters": [_ID_PARAM],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "binary"},
                                            "description": "one part per file, at most "
                                            "MAX_ATTACHMENTS_PER_MESSAGE (10) parts of "
                                            "MAX_ATTACHMENT_BYTES (25 MB) each; PDF, Office "
                                            "and OpenDocument files, RTF, UTF-8 text, CSV, "
                                            "e-mail, images and voice notes; the type is "
                                            "checked from the content and must agree with "
                                            "the name",
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        **_ok({"type": "object"}),
                        "201": {
                            "description": "Stored, not yet sent",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "items": {
                                                "type": "array",
                                                "items": {
                                                    "$ref": "#/components/schemas/Attachment"
                                                },
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "413": {
                            "description": "A file over the size limit, or too many parts",
                            "content": {"application/json": {"schema": _ERROR}},
                        },
                    },
                }
            },
            "/attachments/{id}": {
                "delete": {
                    "summary": "Remove one of your uploads not yet sent",
                    "parameters": [_ID_PARAM],
                    "responses": {
                        "204": {"description": "Removed"},
                        "401": {
                            "description": "Not signed in",
                            "content": {"application/json": {"schema": _ERROR}},
                        },
                        "404": {
                            "description": "No such upload of yours waiting to be sent",
                            "content": {"application/json": {"schema": _ERROR}},
                        },
                    },
                }
            },
            "/channels": {
                "get": {
                    "summary": "Channels the caller may read, with unread and mention counts",
                    "responses": _ok(_list_of("Channel")),
                },
                "post": {
                    "summary": "Create a topic channel or a direct conversation",
                    "requestBody": _json_body(
                        {
                            "kind": {"type": "string", "enum": ["topic", "direct"]},
                            "network": {"type": "string", "description": "topic: a slug"},
                            "name": {"type": "string"},
                            "description": {"type": "string"},
                            "members": {"type": "array", "items": {"type": "integer"}},
                        },
                        ["kind"],
                    ),
                    "responses": {
                        **_ok({"$ref": "#/components/schemas/Channel"}),
                        "201": {"description": "Created"},
                    },
                },
            },
            **_channel_paths(),
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
                                        "attachment_ids": {
                                            "type": "array",
                                            "items": {"type": "integer"},
                                            "description": "your uploads to this channel "
                                            "not yet sent (POST /channels/{id}/attachments)",
                                        },
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
