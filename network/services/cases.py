"""Case records: creation with their case channel, edits, the status workflow, priority,
the case list of a central authority and the timeline of a case.

A case is as confidential as its case channel (``policy.can_read_case``): only the
channel's members see it, administrators included in "nobody else". The facts of the case
(``summary``) are stored AES-GCM-encrypted under the context ``case:<id>``.

Status workflow
---------------
Each change is one ``CaseStatusChange`` row (who, when, from, to, note) and moves
``Case.status_changed_at``; the creation is the first row (from nothing).

==================================  ===================================================
from                                allowed next statuses
==================================  ===================================================
(creation)                          draft, sent, received (a requested state records an
                                    incoming request as received)
draft                               sent, withdrawn
sent                                received, withdrawn
received                            in execution, additional information requested,
                                    refused, withdrawn
additional information requested    in execution, refused, withdrawn
in execution                        executed, partially executed, additional information
                                    requested, refused, withdrawn
executed, partially executed,       none: these are final. A request sent again after a
refused, withdrawn                  refusal or a withdrawal is a new case.
==================================  ===================================================

Withdrawal is allowed from every open status: the requesting state may withdraw a request
at any time before it has been executed.

Priority (DOMAIN.md; seed 003 §16)
----------------------------------
When a backlog forces a choice, the criteria are urgency, seriousness of the offence,
pre-trial detention, risk of losing key evidence and the stage of proceedings. Each is
recorded on the case; the points add up:

============================================  ======
criterion                                     points
============================================  ======
a person is in pre-trial detention                40
marked urgent                                     30
key evidence at risk of being lost                30
very serious offence                              25
serious offence (UNTOC art. 2(b))                 10
stage: trial                                      15
stage: appeal                                     10
stage: prosecution                                 5
stage: investigation, enforcement                  0
deadline passed (case still open)                 20
============================================  ======

Level: high from 50 points, medium from 25, low below. ``Case.priority_score`` stores the
part that does not depend on the date (written on every change, so lists sort in the
database); the overdue points are added when reading, with "today" taken in the viewer's
time zone. The case list puts open cases before final ones, then sorts by priority
(highest first), deadline (soonest first, none last) and reference.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from network import crypto, events, i18n, policy
from network.errors import Conflict, Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.cases import (
    Case,
    CaseStatus,
    CaseStatusChange,
    CaseType,
    OffenceSeriousness,
    ProceedingsStage,
)
from network.models.directory import Network
from network.models.messaging import Channel, ChannelKind, ChannelMember
from network.models.people import User
from network.services import audit, messaging, notifications

log = logging.getLogger(__name__)

S = CaseStatus
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.DRAFT: (S.SENT, S.WITHDRAWN),
    S.SENT: (S.RECEIVED, S.WITHDRAWN),
    S.RECEIVED: (S.IN_EXECUTION, S.ADDITIONAL_INFORMATION_REQUESTED, S.REFUSED, S.WITHDRAWN),
    S.ADDITIONAL_INFORMATION_REQUESTED: (S.IN_EXECUTION, S.REFUSED, S.WITHDRAWN),
    S.IN_EXECUTION: (
        S.EXECUTED,
        S.PARTIALLY_EXECUTED,
        S.ADDITIONAL_INFORMATION_REQUESTED,
        S.REFUSED,
        S.WITHDRAWN,
    ),
    S.EXECUTED: (),
    S.PARTIALLY_EXECUTED: (),
    S.REFUSED: (),
    S.WITHDRAWN: (),
}
FINAL_STATUSES = frozenset(s for s, following in TRANSITIONS.items() if not following)
INITIAL_STATUSES: tuple[str, ...] = (S.DRAFT, S.SENT, S.RECEIVED)

PRETRIAL_DETENTION_POINTS = 40
URGENT_POINTS = 30
EVIDENCE_AT_RISK_POINTS = 30
SERIOUSNESS_POINTS = {
    OffenceSeriousness.VERY_SERIOUS: 25,
    OffenceSeriousness.SERIOUS: 10,
    OffenceSeriousness.ORDINARY: 0,
}
STAGE_POINTS = {
    ProceedingsStage.TRIAL: 15,
    ProceedingsStage.APPEAL: 10,
    ProceedingsStage.PROSECUTION: 5,
    ProceedingsStage.INVESTIGATION: 0,
    ProceedingsStage.ENFORCEMENT: 0,
}
OVERDUE_POINTS = 20
HIGH_FROM = 50
MEDIUM_FROM = 25

MAX_REFERENCE = 100
MAX_LEGAL_BASIS = 300
MAX_URGENCY_REASON = 300
MAX_SUMMARY = 5000
MAX_NOTE = 1000
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
TIMELINE_MESSAGES = 100
SORTS = ("priority", "deadline", "reference", "updated")


# --- Labels ---------------------------------------------------------------------------------


def case_type_label(value: str) -> str:
    return {
        CaseType.MLA: _("Mutual legal assistance"),
        CaseType.EXTRADITION: _("Extradition"),
        CaseType.CONFISCATION: _("Confiscation and asset recovery"),
        CaseType.JOINT_INVESTIGATION: _("Joint investigation"),
        CaseType.TRANSFER_OF_PROCEEDINGS: _("Transfer of proceedings"),
        CaseType.TRANSFER_OF_SENTENCED_PERSONS: _("Transfer of sentenced persons"),
        CaseType.E_EVIDENCE_PRESERVATION: _("Preservation of electronic evidence"),
    }.get(value, value)


def status_label(value: str | None) -> str:
    if value is None:
        return ""
    return {
        S.DRAFT: _("Draft"),
        S.SENT: _("Sent"),
        S.RECEIVED: _("Received"),
        S.IN_EXECUTION: _("In execution"),
        S.ADDITIONAL_INFORMATION_REQUESTED: _("Additional information requested"),
        S.EXECUTED: _("Executed"),
        S.PARTIALLY_EXECUTED: _("Partially executed"),
        S.REFUSED: _("Refused"),
        S.WITHDRAWN: _("Withdrawn"),
    }.get(value, value)


def seriousness_label(value: str) -> str:
    return {
        OffenceSeriousness.ORDINARY: _("Ordinary offence"),
        OffenceSeriousness.SERIOUS: _("Serious offence (four years or more)"),
        OffenceSeriousness.VERY_SERIOUS: _("Very serious offence"),
    }.get(value, value)


def stage_label(value: str) -> str:
    return {
        ProceedingsStage.INVESTIGATION: _("Investigation"),
        ProceedingsStage.PROSECUTION: _("Prosecution"),
        ProceedingsStage.TRIAL: _("Trial"),
        ProceedingsStage.APPEAL: _("Appeal"),
        ProceedingsStage.ENFORCEMENT: _("Enforcement of the sentence"),
    }.get(value, value)


def level_label(level: str) -> str:
    return {"high": _("High priority"), "medium": _("Medium priority"), "low": _("Low priority")}[
        level
    ]


def case_type_choices() -> list[tuple[str, str]]:
    return [(t.value, case_type_label(t.value)) for t in CaseType]


def status_choices(statuses: tuple[str, ...] | list[str] | None = None) -> list[tuple[str, str]]:
    return [(str(s), status_label(s)) for s in (statuses or [s.value for s in CaseStatus])]


def seriousness_choices() -> list[tuple[str, str]]:
    return [(s.value, seriousness_label(s.value)) for s in OffenceSeriousness]


def stage_choices() -> list[tuple[str, str]]:
    return [(s.value, stage_label(s.value)) for s in ProceedingsStage]


# --- Priority and deadline ------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityReason:
    code: str
    label: str
    points: int


@dataclass(frozen=True)
class Priority:
    score: int
    level: str  # high, medium, low
    reasons: list[PriorityReason]

    @property
    def label(self) -> str:
        return level_label(self.level)


def level_for(score: int) -> str:
    if score >= HIGH_FROM:
        return "high"
    if score >= MEDIUM_FROM:
        return "medium"
    return "low"


def _criteria_reasons(criteria: Mapping[str, Any]) -> list[PriorityReason]:
    reasons = []
    if criteria.get("pretrial_detention"):
        reasons.append(
            PriorityReason(
                "pretrial_detention",
                _("A person is in pre-trial detention"),
                PRETRIAL_DETENTION_POINTS,
            )
        )
    if criteria.get("urgent"):
        why = (criteria.get("urgency_reason") or "").strip()
        label = _("Urgent: %(reason)s", reason=why) if why else _("Marked urgent")
        reasons.append(PriorityReason("urgent", label, URGENT_POINTS))
    if criteria.get("evidence_at_risk"):
        reasons.append(
            PriorityReason(
                "evidence_at_risk",
                _("Key evidence is at risk of being lost"),
                EVIDENCE_AT_RISK_POINTS,
            )
        )
    seriousness = criteria.get("offence_seriousness") or OffenceSeriousness.ORDINARY
    if SERIOUSNESS_POINTS.get(seriousness, 0):
        reasons.append(
            PriorityReason(
                f"offence_{seriousness}",
                seriousness_label(seriousness),
                SERIOUSNESS_POINTS[seriousness],
            )
        )
    stage = criteria.get("proceedings_stage") or ProceedingsStage.INVESTIGATION
    if STAGE_POINTS.get(stage, 0):
        reasons.append(
            PriorityReason(
                f"stage_{stage}",
                _("Stage of proceedings: %(stage)s", stage=stage_label(stage)),
                STAGE_POINTS[stage],
            )
        )
    return reasons


def criteria_score(criteria: Mapping[str, Any]) -> int:
    """The stored part of the priority: the criteria alone, without the date."""
    return sum(reason.points for reason in _criteria_reasons(criteria))


def criteria_of(found: Case) -> dict[str, Any]:
    return {
        "urgent": found.urgent,
        "urgency_reason": found.urgency_reason,
        "offence_seriousness": found.offence_seriousness,
        "pretrial_detention": found.pretrial_detention,
        "evidence_at_risk": found.evidence_at_risk,
        "proceedings_stage": found.proceedings_stage,
    }


def today_for(user: Any) -> date:
    """Today's date where the viewer is (their time zone; UTC when unknown)."""
    name = getattr(user, "timezone", None) or "UTC"
    try:
        zone: Any = ZoneInfo(name)
    except (KeyError, ValueError):
        zone = UTC
    return datetime.now(zone).date()


def is_final(found: Case) -> bool:
    return found.status in FINAL_STATUSES


def is_overdue(found: Case, today: date) -> bool:
    """The deadline has passed (before ``today``) and the case is still open."""
    return found.deadline is not None and found.deadline < today and not is_final(found)


def priority(found: Case, today: date) -> Priority:
    """The case's priority with its reasons, as seen on ``today``."""
    reasons = _criteria_reasons(criteria_of(found))
    if found.deadline is not None and is_overdue(found, today):
        reasons.append(
            PriorityReason(
                "overdue",
                _("Deadline passed on %(date)s", date=i18n.format_day(found.deadline)),
                OVERDUE_POINTS,
            )
        )
    score = sum(r.points for r in reasons)
    return Priority(score=score, level=level_for(score), reasons=reasons)


def allowed_transitions(found: Case) -> tuple[str, ...]:
    return tuple(str(s) for s in TRANSITIONS.get(found.status, ()))


# --- Input ----------------------------------------------------------------------------------

_TEXT_FIELDS = {
    "reference": MAX_REFERENCE,
    "legal_basis": MAX_LEGAL_BASIS,
    "urgency_reason": MAX_URGENCY_REASON,
    "summary": MAX_SUMMARY,
}
_FLAG_FIELDS = ("urgent", "pretrial_detention", "evidence_at_risk")
EDITABLE_FIELDS = (
    "reference",
    "case_type",
    "requesting_state",
    "requested_state",
    "legal_basis",
    "summary",
    "deadline",
    "urgent",
    "urgency_reason",
    "offence_seriousness",
    "pretrial_detention",
    "evidence_at_risk",
    "proceedings_stage",
)
_DEFAULTS: dict[str, Any] = {
    "reference": "",
    "case_type": "",
    "requesting_state": "",
    "requested_state": "",
    "legal_basis": "",
    "summary": "",
    "deadline": None,
    "urgent": False,
    "urgency_reason": "",
    "offence_seriousness": OffenceSeriousness.ORDINARY.value,
    "pretrial_detention": False,
    "evidence_at_risk": False,
    "proceedings_stage": ProceedingsStage.INVESTIGATION.value,
}


def _parse_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        raise ValueError("an instant is not a date")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    raise ValueError("not an ISO date")


def _clean(
    data: Mapping[str, Any],
    network: Network,
    current: Case | None,
    errors: dict[str, str],
    actor: Any,
) -> dict[str, Any]:
    """Validated values of the editable fields present in ``data`` (all of them when a
    case is created); problems go into ``errors`` by field."""
    keys = [k for k in EDITABLE_FIELDS if current is None or k in data]
    clean: dict[str, Any] = {}
    for key in keys:
        value = data.get(key, _DEFAULTS[key])
        if value is None and key != "deadline":
            value = _DEFAULTS[key]
        if key in _TEXT_FIELDS:
            if not isinstance(value, str):
                errors[key] = _("Use text.")
                continue
            value = value.replace("\r\n", "\n").strip()
            if len(value) > _TEXT_FIELDS[key]:
                errors[key] = _("Use at most %(n)d characters.", n=_TEXT_FIELDS[key])
                continue
        elif key in _FLAG_FIELDS:
            if not isinstance(value, bool):
                errors[key] = _("Use true or false.")
                continue
        elif key in ("requesting_state", "requested_state"):
            if not isinstance(value, str) or value.strip().upper() not in i18n.country_codes():
                errors[key] = i18n.country_code_message()
                continue
            value = value.strip().upper()
        elif key == "deadline":
            try:
                value = _parse_date(value)
            except ValueError:
                errors[key] = _("Give a date as YYYY-MM-DD.")
                continue
        else:
            allowed = {
                "case_type": [t.value for t in CaseType],
                "offence_seriousness": [s.value for s in OffenceSeriousness],
                "proceedings_stage": [s.value for s in ProceedingsStage],
            }[key]
            if value not in allowed:
                errors[key] = {
                    "case_type": _("Choose a type of case from the list."),
                    "offence_seriousness": _("Choose the seriousness of the offence."),
                    "proceedings_stage": _("Choose the stage of proceedings."),
                }[key]
                continue
        clean[key] = value

    if "reference" in clean:
        if not clean["reference"]:
            errors["reference"] = _("A reference is required.")
        elif _reference_taken(actor, network.id, clean["reference"], current):
            errors["reference"] = _("Another case of this network already has this reference.")
    requesting = clean.get("requesting_state", current.requesting_state if current else None)
    requested = clean.get("requested_state", current.requested_state if current else None)
    if (
        requesting
        and requesting == requested
        and "requesting_state" not in errors
        and "requested_state" not in errors
    ):
        errors["requested_state"] = _("The requested state must differ from the requesting one.")
    return clean


def _reference_taken(actor: Any, network_id: int, reference: str, current: Case | None) -> bool:
    """Whether another case of the network that ``actor`` may read has this reference
    (letter case aside). Cases they may not read do not count: refusing the reference
    would tell them that a confidential case with it exists."""
    query = select(Case).where(
        Case.network_id == network_id, func.lower(Case.reference) == reference.lower()
    )
    if current is not None:
        query = query.where(Case.id != current.id)
    return any(policy.can_read_case(actor, other) for other in db.session.scalars(query))


def _member_users(raw: Any, actor: Any, channel: Channel, errors: dict[str, str]) -> list[User]:
    """The people to add besides the creator: active accounts the actor can reach (who
    share a network with them or are listed in a directory they read, as for direct
    conversations, so that no account can be probed by id) and the policy admits."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw
    ):
        errors["members"] = _("Give the members as a list of account ids.")
        return []
    ids = sorted({v for v in raw if v != actor.id})
    if not ids:
        return []
    users = list(
        db.session.scalars(messaging.reachable_people_query(actor).where(User.id.in_(ids)))
    )
    if len(users) != len(ids) or not all(policy.can_be_added_to_channel(u, channel) for u in users):
        errors["members"] = _("Some of the people chosen cannot be added.")
        return []
    return users


def snapshot(found: Case) -> dict[str, Any]:
    """The case's values as the audit trail keeps them. The summary is confidential and
    never written there in clear."""
    return {
        "reference": found.reference,
        "case_type": found.case_type,
        "requesting_state": found.requesting_state,
        "requested_state": found.requested_state,
        "legal_basis": found.legal_basis,
        "deadline": found.deadline.isoformat() if found.deadline else None,
        "urgent": found.urgent,
        "urgency_reason": found.urgency_reason,
        "offence_seriousness": found.offence_seriousness,
        "pretrial_detention": found.pretrial_detention,
        "evidence_at_risk": found.evidence_at_risk,
        "proceedings_stage": found.proceedings_stage,
        "priority_score": found.priority_score,
        "status": found.status,
    }


def _summary_context(case_id: int) -> str:
    return f"case:{case_id}"


def case_summary(found: Case) -> str:
    """The decrypted facts of the case (the caller has checked access)."""
    if not found.summary_encrypted:
        return ""
    return crypto.decrypt_text(found.summary_encrypted, context=_summary_context(found.id))


def _set_summary(found: Case, text: str) -> None:
    found.summary_encrypted = (
        crypto.encrypt_text(text, context=_summary_context(found.id)) if text else None
    )


# --- Writes ---------------------------------------------------------------------------------


def create_case(actor: Any, network: Network, data: Mapping[str, Any]) -> Case:
    """Open a case in ``network`` with its case channel: the actor as owner, plus the
    account ids in ``data["members"]``; the first status is ``data["status"]`` (draft,
    sent or received; draft when absent).

    Raises ``Forbidden`` (the actor may not open cases in this network) or
    ``ValidationError`` (per field; nothing is written).
    """
    if not policy.can_create_case(actor, network):
        raise Forbidden(_("You cannot open cases in this network."))
    errors: dict[str, str] = {}
    clean = _clean(data, network, None, errors, actor)
    status = data.get("status") or S.DRAFT.value
    if status not in INITIAL_STATUSES:
        errors["status"] = _("A new case starts as a draft, sent or received.")
    channel = Channel(
        kind=ChannelKind.CASE.value,
        network=network,
        name=clean.get("reference", ""),
        created_by_id=actor.id,
    )
    others = _member_users(data.get("members"), actor, channel, errors)
    if errors:
        raise ValidationError(fields=errors)
    channel.members = [
        ChannelMember(user_id=actor.id, is_owner=True, added_by_id=actor.id),
        *(ChannelMember(user_id=u.id, added_by_id=actor.id) for u in others),
    ]
    now = utcnow()
    summary = clean.pop("summary")
    found = Case(
        network=network,
        channel=channel,
        status=status,
        status_changed_at=now,
        created_by_id=actor.id,
        priority_score=criteria_score(clean),
        **clean,
    )
    db.session.add(found)
    try:
        db.session.flush()
        _set_summary(found, summary)
        db.session.add(
            CaseStatusChange(
                case_id=found.id,
                from_status=None,
                to_status=status,
                actor_id=actor.id,
                changed_at=now,
            )
        )
        audit.record(
            actor,
            "case.created",
            "case",
            found.id,
            after={**snapshot(found), "members": sorted([actor.id, *(u.id for u in others)])},
            network_id=network.id,
            channel_id=channel.id,
        )
        # As for any channel: each person added is audited and told (channel_invitation).
        invited = []
        for person in others:
            audit.record_channel_event(actor, "channel.member_add", channel, user_id=person.id)
            invited.append(notifications.on_member_added(channel, person.id, actor))
        db.session.commit()
    except IntegrityError as exc:
        # Another case took the reference between the check and the insert.
        db.session.rollback()
        raise ValidationError(
            fields={"reference": _("Another case of this network already has this reference.")}
        ) from exc
    log.info("user %s opened case %s in network %s", actor.id, found.id, network.id)
    notifications.publish(invited)
    return found


def update_case(actor: Any, found: Case, data: Mapping[str, Any]) -> Case:
    """Change the fields and priority criteria present in ``data`` (the status moves only
    through ``change_status``); audited with the values before and after.

    Raises ``Forbidden`` or ``ValidationError`` (nothing is written).
    """
    if not policy.can_update_case(actor, found):
        raise Forbidden(_("You cannot change this case."))
    errors: dict[str, str] = {}
    clean = _clean(data, found.network, found, errors, actor)
    if errors:
        raise ValidationError(fields=errors)
    before = snapshot(found)
    summary_changed = False
    if "summary" in clean:
        summary = clean.pop("summary")
        summary_changed = summary != case_summary(found)
        if summary_changed:
            _set_summary(found, summary)
    for key, value in clean.items():
        setattr(found, key, value)
    found.priority_score = criteria_score(criteria_of(found))
    if found.channel.name != found.reference:
        found.channel.name = found.reference
    old, new = audit.diff(before, snapshot(found))
    if summary_changed:
        # The audit says that the facts changed, never what they say.
        old["summary"], new["summary"] = "[confidential]", "[confidential, changed]"
    if not new:
        return found
    audit.record(
        actor,
        "case.updated",
        "case",
        found.id,
        before=old,
        after=new,
        network_id=found.network_id,
        channel_id=found.channel_id,
    )
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationError(
            fields={"reference": _("Another case of this network already has this reference.")}
        ) from exc
    log.info("user %s updated case %s", actor.id, found.id)
    events.publish("case_updated", {"case_id": found.id}, f"channel:{found.channel_id}")
    return found


def change_status(actor: Any, found: Case, new_status: Any, note: Any = "") -> CaseStatusChange:
    """Move the case to ``new_status`` if the workflow allows it from the current status
    (see the table in the module docstring), timestamped and audited; then tell the open
    pages of the case channel (socket event ``case_status``).

    Raises ``Forbidden``, ``ValidationError`` (unknown status, a move the workflow does
    not allow, a note too long) or ``Conflict`` (someone else changed the status first).
    """
    if not policy.can_update_case(actor, found):
        raise Forbidden(_("You cannot change this case."))
    errors: dict[str, str] = {}
    if note is None:
        note = ""
    if not isinstance(note, str):
        errors["note"] = _("Use text.")
    elif len(note.strip()) > MAX_NOTE:
        errors["note"] = _("Use at most %(n)d characters.", n=MAX_NOTE)
    if not isinstance(new_status, str) or new_status not in {s.value for s in CaseStatus}:
        errors["status"] = _("Choose a status from the list.")
    elif new_status not in TRANSITIONS[found.status]:
        if found.status in FINAL_STATUSES:
            errors["status"] = _(
                "The case is %(status)s: its status can no longer change.",
                status=status_label(found.status),
            )
        else:
            errors["status"] = _(
                "A case cannot go from %(current)s to %(new)s.",
                current=status_label(found.status),
                new=status_label(new_status),
            )
    if errors:
        raise ValidationError(fields=errors)
    old = found.status
    now = utcnow()
    moved = db.session.execute(
        update(Case)
        .where(Case.id == found.id, Case.status == old)
        .values(status=new_status, status_changed_at=now, updated_at=now)
    ).rowcount
    if moved != 1:
        db.session.rollback()
        raise Conflict(_("Someone else changed the status meanwhile. Please look again."))
    change = CaseStatusChange(
        case_id=found.id,
        from_status=old,
        to_status=new_status,
        actor_id=actor.id,
        note=str(note).strip(),
        changed_at=now,
    )
    db.session.add(change)
    audit.record(
        actor,
        "case.status_changed",
        "case",
        found.id,
        before={"status": old},
        after={"status": new_status},
        network_id=found.network_id,
        channel_id=found.channel_id,
    )
    db.session.commit()
    log.info("user %s moved case %s from %s to %s", actor.id, found.id, old, new_status)
    events.publish("case_status", status_change_payload(change), f"channel:{found.channel_id}")
    return change


# --- Reads ----------------------------------------------------------------------------------


def get_case(case_id: Any, user: Any) -> Case:
    """A case the user may read. Any other case answers 404 (as channels do, so ids cannot
    be probed); a signed-in person's attempt on an existing case is audited.

    Raises ``NotFound``.
    """
    found = None
    if isinstance(case_id, int) and not isinstance(case_id, bool):
        found = db.session.get(
            Case,
            case_id,
            options=(
                selectinload(Case.channel).selectinload(Channel.members),
                selectinload(Case.network),
            ),
        )
    if found is None or not policy.can_read_case(user, found):
        if found is not None and policy.is_signed_in(user):
            audit.record(
                user,
                "case.access_denied",
                "case",
                found.id,
                network_id=found.network_id,
                channel_id=found.channel_id,
            )
            db.session.commit()
        raise NotFound(_("No such case."))
    return found


def creatable_networks(user: Any) -> list[Network]:
    """The networks in which ``user`` may open a case."""
    if not policy.is_signed_in(user):
        return []
    found = [m.network for m in user.memberships if policy.can_create_case(user, m.network)]
    return sorted(found, key=lambda n: n.acronym.lower())


def network_for_new_case(value: Any, user: Any) -> Network:
    """The network named by slug for a new case; raises ``ValidationError`` (unknown) or
    ``Forbidden`` (the user may not open cases there)."""
    network = None
    if isinstance(value, str) and value:
        network = db.session.scalar(select(Network).where(Network.slug == value))
    if network is None:
        raise ValidationError(fields={"network": _("Choose a network.")})
    if not policy.can_create_case(user, network):
        raise Forbidden(_("You cannot open cases in this network."))
    return network


def member_candidates(user: Any) -> list[tuple[User, list[str]]]:
    """People ``user`` may add to a new case, sorted by name, with the acronyms of their
    networks that ``user`` may know of (``messaging.reachable_people`` and
    ``messaging.shown_networks``: as for a conversation)."""
    return [
        (person, [n.acronym for n in messaging.shown_networks(person, user)])
        for person in messaging.reachable_people(user)
    ]


@dataclass
class CaseFilters:
    status: list[str] = field(default_factory=list)  # statuses, or "open" / "closed"
    case_type: list[str] = field(default_factory=list)
    state: list[str] = field(default_factory=list)  # requesting or requested
    network: list[str] = field(default_factory=list)  # slugs
    overdue: bool | None = None
    q: str = ""
    sort: str = "priority"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def active(self) -> bool:
        return bool(self.status or self.case_type or self.state or self.network or self.q) or (
            self.overdue is not None
        )


def parse_filters(args: Any) -> CaseFilters:
    """Read list filters from request arguments (a ``MultiDict`` with repeated keys, or a
    mapping with comma-separated values); raises ``ValidationError`` naming each field
    that was not understood."""
    errors: dict[str, str] = {}

    def many(key: str) -> list[str]:
        raw = args.getlist(key) if hasattr(args, "getlist") else [args.get(key)]
        return [part.strip() for v in raw if v for part in str(v).split(",") if part.strip()]

    filters = CaseFilters(q=str(args.get("q") or "").strip()[:100])
    filters.status = many("status")
    known_status = {s.value for s in CaseStatus} | {"open", "closed"}
    if any(s not in known_status for s in filters.status):
        errors["status"] = _("Unknown status.")
    filters.case_type = many("case_type")
    if any(t not in {c.value for c in CaseType} for t in filters.case_type):
        errors["case_type"] = _("Unknown type of case.")
    filters.state = [s.upper() for s in many("state")]
    if any(s not in i18n.country_codes() for s in filters.state):
        errors["state"] = i18n.country_code_message()
    filters.network = many("network")
    if filters.network:
        known = set(
            db.session.scalars(select(Network.slug).where(Network.slug.in_(filters.network)))
        )
        if any(n not in known for n in filters.network):
            errors["network"] = _("Unknown network.")
    overdue = str(args.get("overdue") or "").strip().lower()
    if overdue in ("yes", "true", "1"):
        filters.overdue = True
    elif overdue in ("no", "false", "0"):
        filters.overdue = False
    elif overdue:
        errors["overdue"] = _("Use yes or no.")
    filters.sort = str(args.get("sort") or "priority")
    if filters.sort not in SORTS:
        errors["sort"] = _("Unknown sort order.")
    for key, high, default in (("page", 10_000, 1), ("per_page", MAX_PER_PAGE, DEFAULT_PER_PAGE)):
        raw = args.get(key)
        try:
            number = default if raw in (None, "") else int(raw)
        except (TypeError, ValueError):
            errors[key] = _("Use a whole number.")
            continue
        if not 1 <= number <= high:
            errors[key] = _("Use a number from %(low)d to %(high)d.", low=1, high=high)
            continue
        setattr(filters, key, number)
    if errors:
        raise ValidationError(_("The list has filters that are not recognised."), fields=errors)
    return filters


@dataclass
class CaseRow:
    case: Case
    priority: Priority
    overdue: bool


@dataclass
class CasePage:
    filters: CaseFilters
    items: list[CaseRow]
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.per_page))


def _readable_case_ids(user: Any) -> Any:
    """Cases whose channel has ``user`` as an explicit member (the policy's rule for case
    channels, as a query)."""
    return select(ChannelMember.channel_id).where(ChannelMember.user_id == user.id)


def list_cases(user: Any, filters: CaseFilters | None = None) -> CasePage:
    """The cases ``user`` may read, filtered and sorted (by default open cases first, then
    priority, deadline, reference: see the module docstring), one page of them."""
    filters = filters or CaseFilters()
    if not policy.is_signed_in(user):
        return CasePage(filters, [], 0)
    today = today_for(user)
    final = [str(s) for s in FINAL_STATUSES]
    overdue = and_(Case.deadline.is_not(None), Case.deadline < today, Case.status.not_in(final))
    conditions: list[Any] = [Case.channel_id.in_(_readable_case_ids(user))]
    if filters.status:
        wanted = [s for s in filters.status if s not in ("open", "closed")]
        chosen = [Case.status.in_(wanted)] if wanted else []
        if "open" in filters.status:
            chosen.append(Case.status.not_in(final))
        if "closed" in filters.status:
            chosen.append(Case.status.in_(final))
        conditions.append(or_(*chosen))
    if filters.case_type:
        conditions.append(Case.case_type.in_(filters.case_type))
    if filters.state:
        conditions.append(
            or_(Case.requesting_state.in_(filters.state), Case.requested_state.in_(filters.state))
        )
    if filters.network:
        conditions.append(
            Case.network_id.in_(select(Network.id).where(Network.slug.in_(filters.network)))
        )
    if filters.overdue is True:
        conditions.append(overdue)
    elif filters.overdue is False:
        conditions.append(~overdue)
    if filters.q:
        pattern = (
            "%"
            + filters.q.lower().replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            + "%"
        )
        conditions.append(func.lower(Case.reference).like(pattern, escape="\\"))

    effective = Case.priority_score + case((overdue, OVERDUE_POINTS), else_=0)
    closed_last = case((Case.status.in_(final), 1), else_=0)
    deadline_order = (Case.deadline.is_(None), Case.deadline)
    order: tuple[Any, ...] = {
        "priority": (closed_last, effective.desc(), *deadline_order),
        "deadline": (closed_last, *deadline_order, effective.desc()),
        "reference": (),
        "updated": (Case.updated_at.desc(),),
    }[filters.sort]
    total = db.session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0
    found = db.session.scalars(
        select(Case)
        .where(*conditions)
        .options(
            selectinload(Case.network), selectinload(Case.channel).selectinload(Channel.members)
        )
        .order_by(*order, func.lower(Case.reference), Case.id)
        .offset((filters.page - 1) * filters.per_page)
        .limit(filters.per_page)
    )
    rows = [
        CaseRow(c, priority(c, today), is_overdue(c, today))
        for c in found
        if policy.can_read_case(user, c)
    ]
    return CasePage(filters, rows, total)


def filter_networks(user: Any) -> list[Network]:
    """Networks to offer as a filter: those of the cases ``user`` reads."""
    if not policy.is_signed_in(user):
        return []
    return list(
        db.session.scalars(
            select(Network)
            .where(
                Network.id.in_(
                    select(Case.network_id).where(Case.channel_id.in_(_readable_case_ids(user)))
                )
            )
            .order_by(Network.acronym)
        )
    )


@dataclass
class TimelineEntry:
    kind: str  # "status" or "message"
    at: datetime
    status_change: CaseStatusChange | None = None
    message: dict[str, Any] | None = None


@dataclass
class Timeline:
    entries: list[TimelineEntry]
    # The channel holds older messages than the ones merged here (see them there).
    has_earlier_messages: bool


def timeline(found: Case, user: Any) -> Timeline:
    """Status changes and the case channel's latest messages, merged in time order
    (oldest first). Reading the messages is audited as a case-channel read.

    Raises ``Forbidden`` when ``user`` may not read the case.
    """
    if not policy.can_read_case(user, found):
        raise Forbidden()
    channel = found.channel
    messages = messaging.list_messages(
        channel, user, before_seq=channel.last_seq + 1, limit=TIMELINE_MESSAGES
    )
    changes = list(
        db.session.scalars(
            select(CaseStatusChange)
            .where(CaseStatusChange.case_id == found.id)
            .options(selectinload(CaseStatusChange.actor))
            .order_by(CaseStatusChange.changed_at, CaseStatusChange.id)
        )
    )
    entries = [TimelineEntry("status", c.changed_at, status_change=c) for c in changes]
    entries += [
        TimelineEntry("message", m.created_at, message=messaging.message_payload(m))
        for m in messages
    ]
    # A status change and a message at the same instant: the change first.
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "status" else 1))
    has_earlier = bool(messages) and messages[0].seq > channel.purged_through_seq + 1
    return Timeline(entries, has_earlier)


# --- JSON -----------------------------------------------------------------------------------


def status_change_payload(change: CaseStatusChange) -> dict[str, Any]:
    """A status change as the API and the ``case_status`` socket event carry it."""
    actor = change.actor if change.actor_id else None
    return {
        "case_id": change.case_id,
        "from_status": change.from_status,
        "to_status": change.to_status,
        "to_status_label": status_label(change.to_status),
        "note": change.note,
        "changed_at": change.changed_at.isoformat(),
        "actor": {"id": actor.id, "name": actor.name} if actor else None,
    }


def case_payload(found: Case, user: Any, *, detail: bool = False) -> dict[str, Any]:
    """A case as the API carries it; ``detail`` adds the summary, the status history and
    the members."""
    today = today_for(user)
    prio = priority(found, today)
    body: dict[str, Any] = {
        "id": found.id,
        "reference": found.reference,
        "network": found.network.slug,
        "channel_id": found.channel_id,
        "case_type": found.case_type,
        "requesting_state": found.requesting_state,
        "requested_state": found.requested_state,
        "legal_basis": found.legal_basis,
        "status": found.status,
        "status_changed_at": found.status_changed_at.isoformat(),
        "next_statuses": list(allowed_transitions(found)),
        "deadline": found.deadline.isoformat() if found.deadline else None,
        "overdue": is_overdue(found, today),
        "criteria": criteria_of(found),
        "priority": {
            "score": prio.score,
            "level": prio.level,
            "reasons": [
                {"code": r.code, "label": r.label, "points": r.points} for r in prio.reasons
            ],
        },
        "created_at": found.created_at.isoformat(),
        "updated_at": found.updated_at.isoformat(),
        "can_update": policy.can_update_case(user, found),
    }
    if detail:
        body["summary"] = case_summary(found)
        body["status_changes"] = [status_change_payload(c) for c in found.status_changes]
        body["members"] = sorted(
            (
                {"id": m.user_id, "name": m.user.name, "is_owner": m.is_owner}
                for m in found.channel.members
            ),
            key=lambda m: (not m["is_owner"], i18n.fold(m["name"])),
        )
    return body
