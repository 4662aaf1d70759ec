"""A central authority's case list (only the cases one is a member of, the most pressing
first, filters, pages) and the timeline that merges status changes and messages."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from network.errors import ValidationError
from network.models.people import AuditEvent
from network.services import cases, messaging
from tests.cases.conftest import case_data, days


def _open(desk, reference, status=None, **criteria):  # type: ignore[no-untyped-def]
    found = cases.create_case(
        desk.owner,
        desk.network,
        case_data(reference=reference, members=[desk.member.id], **criteria),
    )
    for step in status or []:
        cases.change_status(desk.owner, found, step)
    return found


def _references(user, **filters):  # type: ignore[no-untyped-def]
    return [
        row.case.reference for row in cases.list_cases(user, cases.CaseFilters(**filters)).items
    ]


def test_the_list_puts_the_most_pressing_open_cases_first(desk, db):
    _open(desk, "B-LOW-NO-DEADLINE")
    _open(desk, "A-LOW-NO-DEADLINE")
    _open(desk, "LOW-SOON", deadline=days(3))
    _open(desk, "MEDIUM", urgent=True)  # 30
    _open(desk, "HIGH", pretrial_detention=True, offence_seriousness="serious")  # 50
    _open(desk, "OVERDUE", urgent=True, deadline=days(-2))  # 30 + 20 overdue
    _open(desk, "TOP-BUT-CLOSED", ["withdrawn"], pretrial_detention=True, urgent=True)  # 70
    assert _references(desk.owner) == [
        "OVERDUE",  # 50, deadline before HIGH's (none)
        "HIGH",
        "MEDIUM",
        "LOW-SOON",  # 0 points, the soonest deadline
        "A-LOW-NO-DEADLINE",  # then no deadline, by reference
        "B-LOW-NO-DEADLINE",
        "SN-MLA-2026-001",
        "TOP-BUT-CLOSED",  # closed cases come last whatever their criteria
    ]
    first = cases.list_cases(desk.owner).items[0]
    assert first.overdue is True
    assert first.priority.level == "high"
    assert "overdue" in [r.code for r in first.priority.reasons]


def test_other_sort_orders(desk, db):
    _open(desk, "Z-SOON", deadline=days(1))
    _open(desk, "M-LATER", deadline=days(9), pretrial_detention=True)
    assert _references(desk.owner, sort="deadline")[:2] == ["Z-SOON", "M-LATER"]
    assert _references(desk.owner, sort="reference") == ["M-LATER", "SN-MLA-2026-001", "Z-SOON"]


@pytest.mark.parametrize("who", ["bystander", "coordinator", "admin", "outsider"])
def test_only_members_of_the_case_channel_find_the_case_in_lists(desk, db, who):
    assert _references(desk.member) == ["SN-MLA-2026-001"]
    assert _references(desk.role(who)) == []
    assert cases.list_cases(desk.role(who)).total == 0


def test_filters_narrow_the_list(desk, db, make_user):
    _open(desk, "EXT-GH", case_type="extradition", requested_state="GH")
    _open(desk, "MLA-ML", ["sent"], requested_state="ML")
    _open(desk, "LATE", deadline=days(-1))
    _open(desk, "DONE", ["withdrawn"])
    assert _references(desk.owner, case_type=["extradition"]) == ["EXT-GH"]
    assert _references(desk.owner, status=["sent"]) == ["MLA-ML"]
    assert set(_references(desk.owner, status=["closed"])) == {"DONE"}
    assert "DONE" not in _references(desk.owner, status=["open"])
    assert set(_references(desk.owner, state=["ML"])) == {"MLA-ML"}
    assert len(_references(desk.owner, state=["SN"])) == 5  # requesting state of every case
    assert _references(desk.owner, overdue=True) == ["LATE"]
    assert "LATE" not in _references(desk.owner, overdue=False)
    assert _references(desk.owner, q="ext") == ["EXT-GH"]
    assert _references(desk.owner, q="%") == []  # a wildcard is searched as text
    assert _references(desk.owner, network=["iberred"]) == []


def test_the_list_is_paginated_with_the_total(desk, db):
    for n in range(4):
        _open(desk, f"PAGE-{n}")
    first = cases.list_cases(desk.owner, cases.CaseFilters(sort="reference", per_page=2))
    second = cases.list_cases(desk.owner, cases.CaseFilters(sort="reference", per_page=2, page=3))
    assert first.total == 5
    assert first.pages == 3
    assert [r.case.reference for r in first.items] == ["PAGE-0", "PAGE-1"]
    assert [r.case.reference for r in second.items] == ["SN-MLA-2026-001"]


def test_filters_are_read_from_query_arguments(desk, db):
    filters = cases.parse_filters(
        MultiDict([("status", "sent"), ("status", "open"), ("state", "gh"), ("overdue", "yes")])
    )
    assert filters.status == ["sent", "open"]
    assert filters.state == ["GH"]
    assert filters.overdue is True
    assert cases.parse_filters({"case_type": "mla,extradition"}).case_type == ["mla", "extradition"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"case_type": "espionage"}, "case_type"),
        ({"state": "XX"}, "state"),
        ({"network": "atlantis"}, "network"),
        ({"overdue": "maybe"}, "overdue"),
        ({"sort": "random"}, "sort"),
        ({"page": "0"}, "page"),
        ({"per_page": "500"}, "per_page"),
        ({"page": "two"}, "page"),
    ],
)
def test_unknown_filters_are_named(desk, db, args, field):
    with pytest.raises(ValidationError) as caught:
        cases.parse_filters(args)
    assert field in caught.value.fields


# --- Timeline -------------------------------------------------------------------------------


def _say(desk, author, text):  # type: ignore[no-untyped-def]
    messaging.post_message(desk.case.channel_id, author, text, uuid.uuid4().hex)


def test_the_timeline_merges_status_changes_and_messages_in_time_order(desk, db):
    _say(desk, desk.owner, "Request drafted, please check")
    cases.change_status(desk.owner, desk.case, "sent", "Transmitted")
    _say(desk, desk.member, "Received, **thank you**")
    cases.change_status(desk.member, desk.case, "received")
    result = cases.timeline(desk.case, desk.member)
    assert [e.kind for e in result.entries] == [
        "status",
        "message",
        "status",
        "message",
        "status",
    ]
    assert [e.status_change.to_status for e in result.entries if e.kind == "status"] == [
        "draft",
        "sent",
        "received",
    ]
    messages = [e.message for e in result.entries if e.kind == "message"]
    assert "Request drafted" in messages[0]["html"]  # decrypted and rendered
    assert "<strong>thank you</strong>" in messages[1]["html"]
    assert [e.at for e in result.entries] == sorted(e.at for e in result.entries)
    assert result.has_earlier_messages is False


def test_reading_the_timeline_is_audited_as_a_case_channel_read(desk, db):
    _say(desk, desk.owner, "First note")
    cases.timeline(desk.case, desk.member)
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "case_channel.read", AuditEvent.actor_id == desk.member.id
        )
    )
    assert event is not None
    assert event.channel_id == desk.case.channel_id


def test_a_long_channel_says_that_earlier_messages_are_in_the_channel(desk, db, monkeypatch):
    monkeypatch.setattr(cases, "TIMELINE_MESSAGES", 2)
    for n in range(3):
        _say(desk, desk.owner, f"note {n}")
    result = cases.timeline(desk.case, desk.owner)
    assert [e.message["seq"] for e in result.entries if e.kind == "message"] == [2, 3]
    assert result.has_earlier_messages is True


def test_people_outside_the_case_get_no_timeline(desk, db):
    from network.errors import Forbidden

    for who in ("bystander", "coordinator", "admin", "outsider"):
        with pytest.raises(Forbidden):
            cases.timeline(desk.case, desk.role(who))
