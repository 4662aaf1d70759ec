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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from network import policy
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
    "case": _l("Case"),
    "channel": _l("Channel"),
    "contact_point": _l("Contact point"),
    "event": _l("Event"),
    "network": _l("Network"),
    "programme": _l("Programme"),
    "user": _l("Account"),
}


def entity_label(entity_type: str) -> str:
    """A translated name for an audit entity type; the code itself when none."""
    label = _ENTITY_LABELS.get(entity_type)
    return entity_type if label is None else str(label)


def action_label(action: str) -> str:
    """A readable, translated name for an audit action; the code itself when none."""
    label = _ACTION_LABELS.get(action)
    return action if label is None else str(label)


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


def describe(values: Mapping[str, Any] | None) -> str:
    """Recorded values as one line of text (the CSV keeps the JSON)."""
    if not values:
        return ""
    return "; ".join(
        f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}"
        for key, value in values.items()
    )


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
