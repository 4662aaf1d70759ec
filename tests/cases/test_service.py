"""The rules of case records: validation that writes nothing on error, the case channel,
the status workflow with every change timestamped, priority and overdue deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from network import crypto
from network.errors import Conflict, Forbidden, ValidationError
from network.models.cases import Case, CaseStatusChange
from network.models.messaging import Channel, ChannelMember, Notification
from network.models.people import AuditEvent
from network.services import cases
from tests.cases.conftest import case_data, days


def _counts(db: Any) -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Case, Channel, ChannelMember, CaseStatusChange, AuditEvent)
    )


# --- Creation ---------------------------------------------------------------------------------


def test_a_new_case_gets_its_channel_owner_members_first_status_and_audit(desk, db):
    found = desk.case
    channel = found.channel
    assert channel.kind == "case"
    assert channel.network_id == desk.network.id
    assert channel.name == "SN-MLA-2026-001"
    members = {m.user_id: m.is_owner for m in channel.members}
    assert members == {desk.owner.id: True, desk.member.id: False}
    [first] = found.status_changes
    assert (first.from_status, first.to_status, first.actor_id) == (None, "draft", desk.owner.id)
    assert first.changed_at == found.status_changed_at
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "case.created", AuditEvent.entity_id == found.id
        )
    )
    assert event.network_id == desk.network.id
    assert event.channel_id == channel.id
    assert event.actor_id == desk.owner.id
    assert "summary" not in event.after  # the facts never reach the audit trail
    added = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "channel.member_add"))
    assert added.after == {"user_id": desk.member.id}
    [invitation] = db.session.scalars(
        select(Notification).where(Notification.kind == "channel_invitation")
    ).all()
    assert (invitation.user_id, invitation.channel_id) == (desk.member.id, channel.id)


def test_the_summary_is_stored_encrypted_and_read_back(desk, db):
    stored = db.session.scalar(select(Case.summary_encrypted).where(Case.id == desk.case.id))
    assert "Accra" not in stored
    assert crypto.decrypt_text(stored, context=f"case:{desk.case.id}").startswith("Bank records")
    assert cases.case_summary(desk.case) == "Bank records of a shell company in Accra."


def test_a_case_may_start_as_received(desk, db):
    found = cases.create_case(
        desk.owner, desk.network, case_data(reference="IN-1", status="received")
    )
    assert found.status == "received"
    assert [c.to_status for c in found.status_changes] == ["received"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reference": ""}, "reference"),
        ({"reference": "   "}, "reference"),
        ({"reference": "R" * 101}, "reference"),
        ({"reference": 12}, "reference"),
        ({"case_type": "espionage"}, "case_type"),
        ({"case_type": ""}, "case_type"),
        ({"requesting_state": "XX"}, "requesting_state"),
        ({"requested_state": ""}, "requested_state"),
        ({"requested_state": "sn"}, "requested_state"),  # same as the requesting state
        ({"legal_basis": "L" * 301}, "legal_basis"),
        ({"summary": "S" * 5001}, "summary"),
        ({"deadline": "2026-13-01"}, "deadline"),
        ({"deadline": "tomorrow"}, "deadline"),
        ({"urgent": "yes"}, "urgent"),
        ({"urgency_reason": "U" * 301}, "urgency_reason"),
        ({"offence_seriousness": "grave"}, "offence_seriousness"),
        ({"proceedings_stage": "pre-trial"}, "proceedings_stage"),
        ({"pretrial_detention": 1}, "pretrial_detention"),
        ({"status": "executed"}, "status"),
        ({"members": [2_000_000_000]}, "members"),
        ({"members": "everyone"}, "members"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(desk, db, overrides, field):
    before = _counts(db)
    with pytest.raises(ValidationError) as caught:
        cases.create_case(
            desk.owner, desk.network, case_data(**{"reference": "NEW-1", **overrides})
        )
    assert field in caught.value.fields
    assert _counts(db) == before


def test_every_problem_is_reported_at_once(desk, db):
    with pytest.raises(ValidationError) as caught:
        cases.create_case(
            desk.owner,
            desk.network,
            case_data(reference="", case_type="x", requesting_state="ZZ", deadline="never"),
        )
    assert {"reference", "case_type", "requesting_state", "deadline"} <= set(caught.value.fields)


def test_a_reference_refused_for_a_case_one_reads_but_not_for_one_hidden(desk, db):
    """The duplicate check says nothing about cases one may not read: a bystander of the
    network cannot learn that a confidential case with a reference exists, by opening a
    case or by renaming their own, while a member of that case is stopped."""
    with pytest.raises(ValidationError) as caught:  # the case's member sees the duplicate
        cases.create_case(desk.member, desk.network, case_data(reference="sn-mla-2026-001"))
    assert "reference" in caught.value.fields
    mine = cases.create_case(desk.bystander, desk.network, case_data(reference="SN-MLA-2026-999"))
    renamed = cases.update_case(desk.bystander, mine, {"reference": desk.case.reference})
    assert renamed.reference == desk.case.reference
    with pytest.raises(ValidationError) as caught:  # now their own case has it: refused
        cases.create_case(desk.bystander, desk.network, case_data(reference="sn-mla-2026-001"))
    assert "reference" in caught.value.fields


def test_the_reference_is_unique_within_a_network_only(desk, db, make_user):
    before = _counts(db)
    with pytest.raises(ValidationError) as caught:
        cases.create_case(desk.owner, desk.network, case_data(reference="sn-mla-2026-001"))
    assert "reference" in caught.value.fields
    assert _counts(db) == before
    spaniard = make_user("contact_point", desk.other_network)
    elsewhere = cases.create_case(
        spaniard, desk.other_network, case_data(reference="SN-MLA-2026-001")
    )
    assert elsewhere.reference == desk.case.reference


def test_people_out_of_reach_or_inactive_cannot_be_added(desk, db, make_user):
    inactive = make_user("contact_point", desk.network)
    inactive.is_active_account = False
    db.session.commit()
    for person in (desk.outsider, inactive):  # another network's member; a closed account
        before = _counts(db)
        with pytest.raises(ValidationError) as caught:
            cases.create_case(
                desk.owner, desk.network, case_data(reference="NEW-2", members=[person.id])
            )
        assert "members" in caught.value.fields
        assert _counts(db) == before


@pytest.mark.parametrize("who", ["admin", "outsider"])
def test_only_writing_members_of_the_network_open_cases(desk, db, who):
    before = _counts(db)
    with pytest.raises(Forbidden):
        cases.create_case(desk.role(who), desk.network, case_data(reference="NEW-3"))
    assert _counts(db) == before


def test_an_observer_cannot_open_a_case(desk, db, make_user):
    with pytest.raises(Forbidden):
        cases.create_case(
            make_user("observer", desk.network), desk.network, case_data(reference="NEW-4")
        )


# --- Update -------------------------------------------------------------------------------


def test_an_update_is_audited_with_before_and_after_and_renames_the_channel(desk, db):
    cases.update_case(
        desk.member,
        desk.case,
        {"reference": "SN-MLA-2026-001-B", "pretrial_detention": True, "summary": "New facts"},
    )
    assert desk.case.channel.name == "SN-MLA-2026-001-B"
    assert desk.case.priority_score == cases.PRETRIAL_DETENTION_POINTS
    assert cases.case_summary(desk.case) == "New facts"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.updated"))
    assert event.before["reference"] == "SN-MLA-2026-001"
    assert event.after["reference"] == "SN-MLA-2026-001-B"
    assert event.before["pretrial_detention"] is False
    assert event.after["priority_score"] == 40
    assert "New facts" not in str(event.after)
    assert "case_type" not in event.after  # only what changed


def test_an_invalid_update_changes_nothing(desk, db):
    before = cases.snapshot(desk.case)
    audits = _counts(db)
    with pytest.raises(ValidationError) as caught:
        cases.update_case(
            desk.owner, desk.case, {"urgent": True, "requested_state": "SN", "reference": ""}
        )
    assert {"requested_state", "reference"} <= set(caught.value.fields)
    db.session.expire_all()
    assert cases.snapshot(db.session.get(Case, desk.case.id)) == before
    assert _counts(db) == audits


def test_people_outside_the_case_cannot_update_it(desk, db):
    for who in ("bystander", "coordinator", "admin", "outsider"):
        with pytest.raises(Forbidden):
            cases.update_case(desk.role(who), desk.case, {"urgent": True})
        with pytest.raises(Forbidden):
            cases.change_status(desk.role(who), desk.case, "sent")
    assert desk.case.urgent is False
    assert desk.case.status == "draft"


# --- Status workflow ------------------------------------------------------------------------


ALL_STATUSES = [s.value for s in cases.CaseStatus]


@pytest.mark.parametrize("current", ALL_STATUSES)
def test_the_transition_table_allows_exactly_its_moves(desk, db, current):
    allowed = set(cases.TRANSITIONS[current])
    for target in ALL_STATUSES:
        db.session.execute(update(Case).where(Case.id == desk.case.id).values(status=current))
        db.session.commit()
        changes = len(desk.case.status_changes)
        if target in allowed:
            cases.change_status(desk.owner, desk.case, target)
            assert desk.case.status == target
            assert len(desk.case.status_changes) == changes + 1
        else:
            with pytest.raises(ValidationError) as caught:
                cases.change_status(desk.owner, desk.case, target)
            assert "status" in caught.value.fields
            assert desk.case.status == current
            assert len(desk.case.status_changes) == changes


def test_final_statuses_have_no_way_out_and_withdrawal_is_open_until_then():
    for status, following in cases.TRANSITIONS.items():
        if status in cases.FINAL_STATUSES:
            assert following == ()
        else:
            assert "withdrawn" in following


def test_every_change_is_timestamped_in_order_with_who_and_why(desk, db):
    path = ["sent", "received", "in_execution", "executed"]
    for status in path:
        cases.change_status(desk.member, desk.case, status, f"now {status}")
    changes = desk.case.status_changes
    assert [(c.from_status, c.to_status) for c in changes] == [
        (None, "draft"),
        ("draft", "sent"),
        ("sent", "received"),
        ("received", "in_execution"),
        ("in_execution", "executed"),
    ]
    times = [c.changed_at for c in changes]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    assert desk.case.status_changed_at == times[-1]
    assert [c.note for c in changes[1:]] == [f"now {s}" for s in path]
    assert {c.actor_id for c in changes[1:]} == {desk.member.id}
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "case.status_changed").order_by(AuditEvent.id)
    ).all()
    assert [e.after["status"] for e in audited] == path


def test_a_final_case_explains_that_its_status_can_no_longer_change(desk, db):
    cases.change_status(desk.owner, desk.case, "withdrawn")
    with pytest.raises(ValidationError) as caught:
        cases.change_status(desk.owner, desk.case, "sent")
    assert "can no longer change" in caught.value.fields["status"]


@pytest.mark.parametrize("status", [None, "", "closed", 3])
def test_an_unknown_status_is_refused(desk, db, status):
    with pytest.raises(ValidationError) as caught:
        cases.change_status(desk.owner, desk.case, status)
    assert "status" in caught.value.fields


def test_a_note_too_long_is_refused(desk, db):
    with pytest.raises(ValidationError) as caught:
        cases.change_status(desk.owner, desk.case, "sent", "n" * 1001)
    assert "note" in caught.value.fields
    assert desk.case.status == "draft"


def test_a_status_changed_meanwhile_is_a_conflict_not_a_second_change(desk, db):
    # Someone else moved the case to "sent" after this page loaded it as a draft.
    db.session.execute(
        update(Case)
        .where(Case.id == desk.case.id)
        .values(status="sent")
        .execution_options(synchronize_session=False)
    )
    assert desk.case.status == "draft"
    with pytest.raises(Conflict):
        cases.change_status(desk.owner, desk.case, "sent")
    db.session.expire_all()
    assert len(db.session.get(Case, desk.case.id).status_changes) == 1


def test_a_status_change_reaches_the_open_pages_of_the_case_channel(app, desk, db, client, login):
    from network.extensions import socketio

    socket = socketio.test_client(app, flask_test_client=login(client, desk.member))
    ack = socket.emit("join", {"channel_id": desk.case.channel_id, "after_seq": 0}, callback=True)
    assert ack["ok"] is True
    socket.get_received()
    cases.change_status(desk.owner, desk.case, "sent", "Transmitted")
    [event] = [e for e in socket.get_received() if e["name"] == "case_status"]
    payload = event["args"][0] if isinstance(event["args"], list) else event["args"]
    assert payload["case_id"] == desk.case.id
    assert (payload["from_status"], payload["to_status"]) == ("draft", "sent")
    assert payload["note"] == "Transmitted"
    socket.disconnect()


# --- Priority -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criteria", "score", "level", "codes"),
    [
        ({}, 0, "low", []),
        ({"offence_seriousness": "serious"}, 10, "low", ["offence_serious"]),
        ({"proceedings_stage": "trial"}, 15, "low", ["stage_trial"]),
        ({"offence_seriousness": "very_serious"}, 25, "medium", ["offence_very_serious"]),
        ({"urgent": True}, 30, "medium", ["urgent"]),
        ({"pretrial_detention": True}, 40, "medium", ["pretrial_detention"]),
        (
            {"pretrial_detention": True, "offence_seriousness": "serious"},
            50,
            "high",
            ["pretrial_detention", "offence_serious"],
        ),
        (
            {"urgent": True, "evidence_at_risk": True, "proceedings_stage": "appeal"},
            70,
            "high",
            ["urgent", "evidence_at_risk", "stage_appeal"],
        ),
        (
            {
                "urgent": True,
                "pretrial_detention": True,
                "evidence_at_risk": True,
                "offence_seriousness": "very_serious",
                "proceedings_stage": "prosecution",
            },
            130,
            "high",
            [
                "pretrial_detention",
                "urgent",
                "evidence_at_risk",
                "offence_very_serious",
                "stage_prosecution",
            ],
        ),
    ],
)
def test_priority_follows_the_criteria_with_its_reasons(desk, db, criteria, score, level, codes):
    found = cases.create_case(desk.owner, desk.network, case_data(reference="P-1", **criteria))
    assert found.priority_score == score  # stored, so that lists sort in the database
    result = cases.priority(found, days(0))
    assert (result.score, result.level) == (score, level)
    assert [r.code for r in result.reasons] == codes
    assert all(r.label for r in result.reasons)


def test_the_urgency_reason_is_shown_among_the_reasons(desk, db):
    found = cases.create_case(
        desk.owner,
        desk.network,
        case_data(reference="P-2", urgent=True, urgency_reason="Logs kept 90 days"),
    )
    [reason] = cases.priority(found, days(0)).reasons
    assert reason.label == "Urgent: Logs kept 90 days"


def test_the_stored_score_follows_every_edit(desk, db):
    cases.update_case(desk.owner, desk.case, {"evidence_at_risk": True})
    assert desk.case.priority_score == 30
    cases.update_case(desk.owner, desk.case, {"offence_seriousness": "very_serious"})
    assert desk.case.priority_score == 55
    assert db.session.scalar(select(Case.priority_score).where(Case.id == desk.case.id)) == 55


@pytest.mark.parametrize(
    ("deadline", "status", "overdue"),
    [
        (-1, "sent", True),
        (-30, "draft", True),
        (0, "sent", False),  # due today is not late yet
        (5, "sent", False),
        (None, "sent", False),
        (-1, "executed", False),  # a closed case is never overdue
        (-1, "withdrawn", False),
    ],
)
def test_a_passed_deadline_of_an_open_case_is_overdue_and_raises_priority(
    desk, db, deadline, status, overdue
):
    found = cases.create_case(
        desk.owner,
        desk.network,
        case_data(
            reference="D-1",
            offence_seriousness="very_serious",
            deadline=None if deadline is None else days(deadline),
        ),
    )
    db.session.execute(update(Case).where(Case.id == found.id).values(status=status))
    db.session.commit()
    today = days(0)
    assert cases.is_overdue(found, today) is overdue
    result = cases.priority(found, today)
    assert result.score == 25 + (cases.OVERDUE_POINTS if overdue else 0)
    assert ("overdue" in [r.code for r in result.reasons]) is overdue
    if overdue:
        assert result.reasons[-1].label.startswith("Deadline passed on")


def test_overdue_is_judged_by_the_date_in_the_viewers_time_zone(desk, db, make_user):
    # Kiritimati (UTC+14) is always a day or two ahead of Pago Pago (UTC-11).
    ahead = make_user("contact_point", desk.network)
    ahead.timezone = "Pacific/Kiritimati"
    behind = make_user("contact_point", desk.network)
    behind.timezone = "Pacific/Pago_Pago"
    db.session.commit()
    yesterday_ahead = datetime.now(ZoneInfo("Pacific/Kiritimati")).date() - timedelta(days=1)
    cases.update_case(desk.owner, desk.case, {"deadline": yesterday_ahead})
    assert cases.is_overdue(desk.case, cases.today_for(ahead)) is True
    assert cases.is_overdue(desk.case, cases.today_for(behind)) is False
