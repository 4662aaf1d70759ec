"""The audit trail: who did what, when, with the values before and after; and the audit
log's views (``query``, ``export_csv``), limited by the policy to the networks a person
may audit (administrators: everything; a network's secretariat: that network's events).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from network import i18n, policy
from network.errors import Forbidden, ValidationError
from network.extensions import db
from network.models.directory import Network
from network.models.messaging import Channel
from network.models.people import AuditEvent, User
from network.services import audit_chain  # noqa: F401 (chains every event it records)

log = logging.getLogger(__name__)


def _client_ip() -> str | None:
    """The address of the HTTP request or socket event being handled, if any."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


# Values never written to the audit log, whatever a caller passes (ASVS 7.1.1, 7.1.2):
# credentials, secrets, codes and the content of messages. Matched on the key's name at
# any depth of ``before`` / ``after``.
_SECRET_KEYS = re.compile(
    r"^code$|(^|_)(password|passphrase|secret|token|totp|otp|recovery|body|html|plaintext)"
    r"($|_)",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def scrub(values: Any) -> Any:
    """``values`` with every secret or message content replaced by ``REDACTED``."""
    if isinstance(values, Mapping):
        return {
            key: REDACTED if _SECRET_KEYS.search(str(key)) else scrub(value)
            for key, value in values.items()
        }
    if isinstance(values, list | tuple):
        return [scrub(value) for value in values]
    return values


def record(
    actor: Any,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    network_id: int | None = None,
    channel_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits).

    ``network_id`` and ``channel_id`` say what the event concerns, so that a network's
    secretariat sees the events of its own network and channels.
    """
    actor_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None
    if network_id is None and entity_type == "network":
        network_id = entity_id  # a network's own events belong to its audit log
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=scrub(before) if before else before,
        after=scrub(after) if after else after,
        network_id=network_id,
        channel_id=channel_id,
        ip_address=_client_ip(),
    )
    db.session.add(event)
    log.info("audit: user %s %s %s %s", actor_id, action, entity_type, entity_id)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """The audit events of one entity, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )


def record_channel_event(actor: Any, action: str, channel: Any, **details: Any) -> AuditEvent:
    """An event about a channel (read, membership change, export, download…), scoped to
    the channel and its network (the caller commits)."""
    return record(
        actor,
        action,
        "channel",
        channel.id,
        after=details or None,
        network_id=channel.network_id,
        channel_id=channel.id,
    )


# --- The audit log ----------------------------------------------------------------------------

_ACTION_LABELS: dict[str, Any] = {
    "access.denied": _l("Access refused"),
    "attachment.access_denied": _l("Attachment refused"),
    "attachment.download": _l("Attachment downloaded"),
    "attachment.integrity_failed": _l("Attachment failed its integrity check"),
    "audit.export": _l("Audit log exported"),
    "backup.create": _l("Backup made"),
    "backup.restore": _l("Backup restored"),
    "case.access_denied": _l("Case refused"),
    "case.created": _l("Case created"),
    "case.status_changed": _l("Case status changed"),
    "case.updated": _l("Case edited"),
    "case_channel.read": _l("Case channel read"),
    "channel.access_denied": _l("Channel refused"),
    "channel.archive": _l("Channel archived"),
    "channel.create": _l("Channel created"),
    "channel.member_add": _l("Channel member added"),
    "channel.member_remove": _l("Channel member removed"),
    "channel.owner_add": _l("Channel owner added"),
    "channel.owner_remove": _l("Channel owner removed"),
    "channel.purge": _l("Expired messages deleted"),
    "channel.retention": _l("Retention period changed"),
    "channel.unarchive": _l("Channel reopened"),
    "consultation.access_denied": _l("Consultation refused"),
    "consultation.create": _l("Consultation started"),
    "consultation.end": _l("Consultation ended"),
    "consultation.invite": _l("Consultation invitation"),
    "consultation.transcript": _l("Consultation transcript exported"),
    "contact_point.confirm": _l("Contact point confirmed"),
    "contact_point.create": _l("Contact point created"),
    "contact_point.handover": _l("Contact point handed over"),
    "contact_point.link": _l("Contact point's account changed"),
    "contact_point.remind": _l("Confirmation reminder sent"),
    "contact_point.takeover": _l("Contact point taken over"),
    "contact_point.update": _l("Contact point edited"),
    "data_key.rotate": _l("Data key rotated"),
    "directory.export": _l("Directory exported"),
    "event.cancel": _l("Event cancelled"),
    "event.create": _l("Event created"),
    "event.update": _l("Event edited"),
    "membership.add": _l("Network member added"),
    "membership.remove": _l("Network member removed"),
    "membership.role": _l("Network member's role changed"),
    "network.update": _l("Network edited"),
    "token.create": _l("Access token created"),
    "training.certified": _l("Trainer certified"),
    "training.programme_created": _l("Training programme created"),
    "training.progress": _l("Training progress recorded"),
    "training.score_recorded": _l("Test score recorded"),
    "training.report_export": _l("Training report exported"),
    "token.revoke": _l("Access token revoked"),
    "user.activate": _l("Account reactivated"),
    "user.admin": _l("Administrator right changed"),
    "user.create": _l("Account created"),
    "user.deactivate": _l("Account deactivated"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.invite": _l("Invitation sent"),
    "user.login": _l("Signed in"),
    "user.login_failed": _l("Sign-in refused"),
    "user.password_change": _l("Password changed"),
    "user.reauth": _l("Identity confirmed again"),
    "user.reauth_failure": _l("Identity confirmation refused"),
    "user.recovery_code_used": _l("Recovery code used"),
    "user.recovery_codes": _l("Recovery codes renewed"),
    "user.sessions_end": _l("Sessions ended"),
    "session.end": _l("Signed out another browser"),
    "session.end_others": _l("Signed out every other browser"),
    "user.totp_disable": _l("Two-step sign-in turned off"),
    "user.totp_enable": _l("Two-step sign-in turned on"),
}

PER_PAGE = 50
MAX_EXPORT_ROWS = 100_000
CSV_COLUMNS = (
    "time_utc",
    "actor",
    "action",
    "action_label",
    "entity_type",
    "entity_id",
    "network",
    "channel_id",
    "channel",
    "ip_address",
    "before",
    "after",
)
CSV_LABELS = {
    "time_utc": _l("Time (UTC)"),
    "actor": _l("Actor"),
    "action": _l("Action code"),
    "action_label": _l("Action"),
    "entity_type": _l("Entity type"),
    "entity_id": _l("Entity ID"),
    "network": _l("Network"),
    "channel_id": _l("Channel ID"),
    "channel": _l("Channel"),
    "ip_address": _l("IP address"),
    "before": _l("Before"),
    "after": _l("After"),
}


# What an event is about, for people (issue 9: no English codes on a translated page).
_ENTITY_LABELS = {
    "access_token": _l("Access token"),
    "audit_log": _l("Audit log"),
    "case": _l("Case"),
    "certificate": _l("Certificate"),
    "channel": _l("Channel"),
    "consultation": _l("Consultation"),
    "contact_point": _l("Contact point"),
    "data_key": _l("Data key"),
    "enrolment": _l("Enrolment"),
    "event": _l("Event"),
    "instance": _l("Platform"),
    "network": _l("Network"),
    "programme": _l("Programme"),
    "user": _l("Account"),
    "user_session": _l("Sign-in session"),
}


def entity_label(entity_type: str) -> str:
    """A translated name for an audit entity type; the code itself when none."""
    label = _ENTITY_LABELS.get(entity_type)
    return entity_type if label is None else str(label)


def action_label(action: str) -> str:
    """A readable, translated name for an audit action; the code itself when none."""
    label = _ACTION_LABELS.get(action)
    return action if label is None else str(label)


# --- The details of an event, for people ---------------------------------------------------
# What each recorded key means and how its value reads (``"role": "coordinator"`` is "Role:
# Coordinator"): the label, and the kind of value (see ``_value_formats``). A key may be
# qualified by the event's entity type where one word means two things ("status" of a case
# and of an event). A key that is not here is shown as it was recorded, its value too: this
# is an audit log, nothing is left out. The CSV export keeps the recorded values.
_DETAIL_LABELS: dict[str, tuple[Any, str]] = {
    # Accounts, sign-in, sessions, tokens
    "active": (_pl("account status", "Active"), "yes_no"),
    "admin": (_l("Administrator"), "yes_no"),
    "email": (_l("E-mail"), "text"),
    "label": (_l("Label"), "text"),
    "reason": (_l("Reason"), "sign_in_refusal"),
    "sessions": (_l("Sessions ended"), "number"),
    "endpoint": (_l("Page"), "text"),
    "method": (_l("HTTP method"), "text"),
    # Networks, membership, the directory
    "user": (_l("Account"), "text"),
    "role": (_l("Role"), "role"),
    "name": (_l("Name"), "text"),
    "network.name": (_l("Full name"), "text"),
    "names": (_l("Names by language"), "names"),
    "acronym": (_l("Acronym"), "text"),
    "region": (_l("Region"), "text"),
    "secretariat": (_l("Secretariat"), "text"),
    "member_states": (_l("Member states"), "countries"),
    "require_2fa": (_l("Members must use two-factor sign-in"), "yes_no"),
    "languages": (_l("Languages"), "languages"),
    "network.languages": (_l("Working languages"), "languages"),
    "contact_point.languages": (_l("Languages spoken"), "languages"),
    "contact_point.title": (_l("Title"), "text"),
    "institution": (_l("Institution"), "text"),
    "authority_type": (_l("Authority type"), "authority_type"),
    "country": (_l("Country"), "country"),
    "networks": (_l("Networks"), "list"),
    "request_languages": (_l("Languages in which requests are accepted"), "languages"),
    "channels": (_l("Accepted transmission channels"), "transmission_channels"),
    "expertise": (_l("Areas of expertise"), "expertise"),
    "e_signature_accepted": (_l("Electronic signature accepted"), "yes_no"),
    "available_24_7": (_l("Available 24/7 for urgent requests"), "yes_no"),
    "office_hours": (_l("Office hours"), "text"),
    "office_timezone": (_l("Time zone of the office"), "text"),
    "phones": (_l("Phones"), "list"),
    "postal_address": (_l("Postal address"), "text"),
    "notes": (_l("Notes"), "text"),
    "last_confirmed": (_l("Last confirmed"), "day"),
    "user_id": (_l("Account ID"), "number"),
    "succeeded_by": (_l("Successor (entry ID)"), "number"),
    "successor_name": (_l("Successor"), "text"),
    "predecessor": (_l("Predecessor (entry ID)"), "number"),
    "predecessor_name": (_l("Predecessor"), "text"),
    # Channels, messages, files, retention
    "channel.kind": (_l("Kind"), "channel_kind"),
    "via": (_l("Opened from"), "via"),
    "seqs": (_l("Message numbers"), "numbers"),
    "first_seq": (_l("First message number"), "number"),
    "last_seq": (_l("Last message number"), "number"),
    "through_seq": (_l("Up to message number"), "number"),
    "attachment_id": (_l("File ID"), "number"),
    "retention_days": (_l("Keep messages for (days)"), "number"),
    "channel.messages": (_l("Messages deleted"), "number"),
    "channel.files": (_l("Files deleted"), "number"),
    # Cases and consultations
    "reference": (_l("Reference"), "text"),
    "case_type": (_l("Type of case"), "case_type"),
    "requesting_state": (_l("Requesting state"), "country"),
    "requested_state": (_l("Requested state"), "country"),
    "legal_basis": (_l("Legal basis"), "text"),
    "deadline": (_l("Deadline"), "day"),
    "urgent": (_l("Urgent"), "yes_no"),
    "urgency_reason": (_l("Why it is urgent"), "text"),
    "offence_seriousness": (_l("Seriousness of the offence"), "seriousness"),
    "pretrial_detention": (_l("Pre-trial detention"), "yes_no"),
    "evidence_at_risk": (_l("Evidence at risk"), "yes_no"),
    "proceedings_stage": (_l("Stage of proceedings"), "stage"),
    "priority_score": (_l("Priority score"), "number"),
    "status": (_l("Status"), "text"),
    "case.status": (_l("Status"), "case_status"),
    "summary": (_l("Summary of the facts"), "text"),
    "members": (_l("Members (account IDs)"), "numbers"),
    "case_id": (_l("Case ID"), "number"),
    "invited": (_l("Invited (account IDs)"), "numbers"),
    "title": (_pl("title of a thing", "Title"), "text"),
    # Calendar
    "starts_at": (_l("Starts"), "instant"),
    "ends_at": (_l("Ends"), "instant"),
    "timezone": (_l("Time zone"), "text"),
    "event.status": (_l("Status"), "event_status"),
    "sequence": (_l("Version"), "number"),
    # Training
    "module_id": (_l("Module ID"), "number"),
    "enrolment.status": (_l("Status"), "progress_status"),
    "enrolment.kind": (_l("Test"), "attempt_kind"),
    "score": (_l("Score"), "percent"),
    "enrolment_id": (_l("Enrolment ID"), "number"),
    # The platform: backups, keys, the audit log itself
    "database": (_l("Database"), "text"),
    "key_id": (_l("Key"), "text"),
    "reencrypted": (_l("Values encrypted again"), "counts"),
    "data_key.files": (_l("Files encrypted again"), "number"),
    "failed": (_l("Failures"), "number"),
    "previous_dropped": (_l("Previous key removed"), "yes_no"),
    "filters": (_l("Filters"), "mapping"),
    "rows": (_l("Rows"), "number"),
}

_SIGN_IN_REFUSALS = {
    "password": _l("Wrong password"),
    "inactive": _l("Account deactivated"),
    "locked": _l("Too many attempts"),
    "second_step": _l("Wrong two-step code"),
}
_VIA = {"search": _l("Search")}
_NOTHING = "\u2014"  # a value recorded as empty (null, "")


@dataclass(frozen=True)
class DetailLine:
    """One recorded value of an audit event as a person reads it: ``before`` and ``after``
    are None when the event did not record the key on that side."""

    key: str
    label: str
    before: Markup | None
    after: Markup | None


def _raw(value: Any) -> Markup:
    """A value as recorded: text as it is, anything else as JSON."""
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def _yes_no(value: Any) -> str:
    if not isinstance(value, bool):
        raise TypeError(value)
    return _("Yes") if value else _("No")


def _listed(label: Callable[[Any], Any] | None = None) -> Callable[[Any], Markup]:
    def show(values: Any) -> Markup:
        if not isinstance(values, list | tuple):
            raise TypeError(values)
        return i18n.format_items(values, label, isolate=True)

    return show


def _mapping(values: Any) -> Markup:
    """A recorded mapping ("filters", "reencrypted") as "key: value" pairs, keys as
    recorded."""
    if not isinstance(values, Mapping):
        raise TypeError(values)
    return i18n.format_items(
        (f"{key}: {i18n.format_number(v) if _is_number(v) else v}" for key, v in values.items()),
        isolate=True,
    )


def _names(values: Any) -> Markup:
    """A network's names per language: "Réseau … (French)"."""
    if not isinstance(values, Mapping):
        raise TypeError(values)
    return Markup("; ").join(
        Markup("<bdi>%s</bdi> (%s)") % (name, i18n.language_name(code))
        for code, name in values.items()
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> str:
    if not _is_number(value):
        raise TypeError(value)
    return i18n.format_number(value)


def _percent(value: Any) -> str:
    if not _is_number(value):
        raise TypeError(value)
    return i18n.format_percent_value(value)


def _coded(label: Callable[[str], Any]) -> Callable[[Any], str]:
    """A code shown through its translated label (a role, a status…)."""

    def show(value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(value)
        return str(label(value))

    return show


def _table(labels: Mapping[str, Any]) -> Callable[[str], str]:
    return lambda code: str(labels.get(code, code))


@cache
def _value_formats() -> dict[str, Callable[[Any], Any]]:
    """How each kind of value of ``_DETAIL_LABELS`` reads. The label helpers live with
    their domains, which record audit events themselves: imported here, when first used."""
    from network.services import calendar, cases, directory, membership, messaging, training

    return {
        "raw": _raw,
        "text": _raw,
        "number": _number,
        "numbers": _listed(i18n.format_number),
        "percent": _percent,
        "yes_no": _yes_no,
        "list": _listed(),
        "mapping": _mapping,
        "counts": _mapping,
        "names": _names,
        "instant": lambda value: i18n.format_iso_instant(value) if value else "",
        "day": lambda value: i18n.format_day(date.fromisoformat(value)) if value else "",
        "country": _coded(i18n.country_name),
        "countries": _listed(i18n.country_name),
        "languages": _listed(i18n.language_name),
        "role": _coded(membership.role_label),
        "authority_type": _coded(directory.authority_type_label),
        "expertise": _listed(directory.expertise_label),
        "transmission_channels": _listed(directory.channel_label),
        "channel_kind": _coded(messaging.channel_kind_label),
        "case_type": _coded(cases.case_type_label),
        "case_status": _coded(cases.status_label),
        "seriousness": _coded(cases.seriousness_label),
        "stage": _coded(cases.stage_label),
        "event_status": _coded(calendar.status_label),
        "progress_status": _coded(training.status_label),
        "attempt_kind": _coded(training.kind_label),
        "sign_in_refusal": _coded(_table(_SIGN_IN_REFUSALS)),
        "via": _coded(_table(_VIA)),
    }


def _shown(kind: str, value: Any) -> Markup:
    """``value`` as a person reads it; as recorded when it is not of the expected kind
    (an older event, a hand-made one): never lost, never an error."""
    if value is None or value == "":
        return escape(_NOTHING)
    try:
        return escape(_value_formats()[kind](value))
    except (TypeError, ValueError, KeyError, AttributeError):
        return _raw(value)


def detail_lines(event: AuditEvent) -> list[DetailLine]:
    """The values an event recorded, in the order recorded, each with a translated label
    and a readable value, before and after side by side (the audit log's Details)."""
    before, after = event.before or {}, event.after or {}
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        # Not a mapping of values: shown whole, under no label.
        return [
            DetailLine("", "", _raw(before) if before else None, _raw(after) if after else None)
        ]
    lines = []
    for key in [*before, *(k for k in after if k not in before)]:
        label, kind = _DETAIL_LABELS.get(
            f"{event.entity_type}.{key}", _DETAIL_LABELS.get(key, (key, "raw"))
        )
        lines.append(
            DetailLine(
                key=key,
                label=str(label),
                before=_shown(kind, before[key]) if key in before else None,
                after=_shown(kind, after[key]) if key in after else None,
            )
        )
    return lines


@dataclass
class AuditFilters:
    """What the audit log is narrowed to; dates are whole days in the viewer's zone."""

    action: str | None = None
    actor: str | None = None  # part of the actor's e-mail or name
    network_id: int | None = None
    channel_id: int | None = None
    start: date | None = None
    end: date | None = None
    page: int = 1
    per_page: int = PER_PAGE

    def as_args(self) -> dict[str, Any]:
        """The filters as query-string arguments (for links and the CSV export)."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "network_id": self.network_id,
            "channel_id": self.channel_id,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class AuditPage:
    filters: AuditFilters
    items: list[AuditEvent] = field(default_factory=list)
    total: int = 0
    networks: dict[int, Network] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filters.per_page))


def parse_filters(args: Mapping[str, Any]) -> AuditFilters:
    """Filters from a query string; raises ``ValidationError`` with a message per field."""
    errors: dict[str, str] = {}

    def whole(name: str, low: int = 1) -> int | None:
        raw = str(args.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if value < low or value > 2**31 - 1:
            errors[name] = _("Use a whole number of %(n)d or more.", n=low)
            return None
        return value

    def day(name: str) -> date | None:
        raw = str(args.get(name) or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = _("Use a date such as 2026-01-31.")
            return None

    action = str(args.get("action") or "").strip()[:50] or None
    actor = str(args.get("actor") or "").strip()[:200] or None
    filters = AuditFilters(
        action=action,
        actor=actor,
        network_id=whole("network_id"),
        channel_id=whole("channel_id"),
        start=day("start"),
        end=day("end"),
        page=whole("page") or 1,
    )
    if filters.start and filters.end and filters.start > filters.end:
        errors["end"] = _("The end date comes before the start date.")
    if errors:
        raise ValidationError(fields=errors)
    return filters


def _zone(user: Any) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "timezone", None) or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant a day starts in the viewer's zone, in UTC (as the database holds it)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _visible(user: Any) -> list[Any]:
    """The conditions limiting the events to those ``user`` may audit; raises
    ``Forbidden`` for whoever may audit nothing."""
    if not policy.can_view_audit_log(user):
        raise Forbidden(_("The audit log is for administrators and network secretariats."))
    allowed = policy.audit_network_ids(user)
    return [] if allowed is None else [AuditEvent.network_id.in_(sorted(allowed))]


def _conditions(user: Any, filters: AuditFilters) -> list[Any]:
    conditions = _visible(user)
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.actor:
        needle = filters.actor.lower()
        if needle == "system":
            conditions.append(AuditEvent.actor_id.is_(None))
        else:
            conditions.append(
                AuditEvent.actor_id.in_(
                    select(User.id).where(
                        or_(
                            func.lower(User.email).contains(needle, autoescape=True),
                            func.lower(User.name).contains(needle, autoescape=True),
                        )
                    )
                )
            )
    if filters.network_id is not None:
        conditions.append(AuditEvent.network_id == filters.network_id)
    if filters.channel_id is not None:
        conditions.append(AuditEvent.channel_id == filters.channel_id)
    zone = _zone(user)
    if filters.start:
        conditions.append(AuditEvent.created_at >= _day_start(filters.start, zone))
    if filters.end:
        conditions.append(AuditEvent.created_at < _day_start(filters.end + timedelta(days=1), zone))
    return conditions


def _with_places(page: AuditPage) -> AuditPage:
    network_ids = {e.network_id for e in page.items if e.network_id is not None}
    channel_ids = {e.channel_id for e in page.items if e.channel_id is not None}
    if network_ids:
        page.networks = {
            n.id: n for n in db.session.scalars(select(Network).where(Network.id.in_(network_ids)))
        }
    if channel_ids:
        page.channels = {
            c.id: c for c in db.session.scalars(select(Channel).where(Channel.id.in_(channel_ids)))
        }
    return page


def query(user: Any, filters: AuditFilters | None = None) -> AuditPage:
    """One page of the audit events ``user`` may see, newest first, narrowed by
    ``filters``. Raises ``Forbidden`` for whoever may audit nothing."""
    filters = filters or AuditFilters()
    conditions = _conditions(user, filters)
    page = AuditPage(filters=filters)
    page.total = db.session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
    page.items = list(
        db.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(filters.per_page)
            .offset((filters.page - 1) * filters.per_page)
        )
    )
    return _with_places(page)


def action_choices(user: Any) -> list[tuple[str, str]]:
    """(code, label) of the actions found among the events ``user`` may see."""
    codes = db.session.scalars(
        select(AuditEvent.action).where(*_visible(user)).distinct().order_by(AuditEvent.action)
    )
    return sorted(((code, action_label(code)) for code in codes), key=lambda p: p[1].lower())


def network_choices(user: Any) -> list[Network]:
    """The networks whose events ``user`` may see (for the filter)."""
    allowed = policy.audit_network_ids(user)
    query_networks = select(Network).order_by(Network.acronym)
    if allowed is not None:
        query_networks = query_networks.where(Network.id.in_(sorted(allowed)))
    return list(db.session.scalars(query_networks))


def export_csv(user: Any, filters: AuditFilters) -> str:
    """The events ``user`` may see, narrowed by ``filters`` (all pages, at most
    ``MAX_EXPORT_ROWS``), as CSV; the export itself is audited (``audit.export``).

    Cells a spreadsheet would run as a formula are guarded the way the directory export
    guards them. Raises ``Forbidden``.
    """
    from network.services.directory_io import csv_cell as guarded_cell
    from network.services.directory_io import header_row

    conditions = _conditions(user, filters)
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(*conditions)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(MAX_EXPORT_ROWS)
        )
    )
    places = _with_places(AuditPage(filters=filters, items=events))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header_row(CSV_COLUMNS, CSV_LABELS))
    for event in events:
        network = places.networks.get(event.network_id) if event.network_id else None
        channel = places.channels.get(event.channel_id) if event.channel_id else None
        row = {
            "time_utc": event.created_at.isoformat(),
            "actor": event.actor.email if event.actor else "system",
            "action": event.action,
            "action_label": action_label(event.action),
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "network": network.acronym if network else "",
            "channel_id": event.channel_id,
            "channel": channel.name if channel else "",
            "ip_address": event.ip_address,
            "before": json.dumps(event.before, ensure_ascii=False) if event.before else "",
            "after": json.dumps(event.after, ensure_ascii=False) if event.after else "",
        }
        writer.writerow([guarded_cell(column, row[column]) for column in CSV_COLUMNS])
    # The export is filed under the network it was about, so that network's secretariat
    # sees it: the one chosen in the filters, else the exporter's only network.
    allowed = policy.audit_network_ids(user)
    scope = filters.network_id if filters.network_id in (allowed or set()) else None
    if scope is None and allowed is not None and len(allowed) == 1:
        scope = next(iter(allowed))
    if scope is None and allowed is None and filters.network_id is not None:
        scope = filters.network_id if db.session.get(Network, filters.network_id) else None
    record(
        user,
        "audit.export",
        "audit_log",
        None,
        after={"filters": filters.as_args(), "rows": len(events)},
        network_id=scope,
    )
    db.session.commit()
    log.info("user %s exported %d audit events", getattr(user, "id", None), len(events))
    return "\ufeff" + buffer.getvalue()
