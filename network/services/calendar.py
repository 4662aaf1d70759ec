"""The calendar's rules: events and their occurrences, agenda, documents, organisation of
work, invitations, registrations, check-in and attendance, participation statistics, the
time-zone planner and reminder e-mails.

Times: instants are UTC; a form gives a local date and time *in the event's time zone*,
turned into UTC here (a wall-clock time skipped by a clock change is refused). Recurrence
is an RFC 5545 RRULE expanded by ``dateutil.rrule`` on the event's local wall clock, so a
weekly 10:00 meeting in Madrid stays at 10:00 in Madrid across daylight-saving changes.
The form's recurrence picker, the rule's limits and its description in the reader's words
are in ``services/recurrence.py``; code may still give a raw ``rrule``.

Write services validate everything first, then write and commit once; they raise
``ValidationError`` (per-field messages), ``Forbidden`` or ``NotFound``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from network import i18n, policy
from network.errors import Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.calendar import (
    AgendaItem,
    AttendanceMode,
    CalendarProfile,
    Event,
    EventDocument,
    EventDocumentFile,
    EventFormat,
    EventKind,
    EventSession,
    EventStatus,
    EventVisibility,
    Invitation,
    Registration,
    ReminderSent,
    RsvpStatus,
)
from network.models.directory import Network
from network.models.people import User
from network.security import DATABASE_INT_MAX
from network.services import attachments, audit, messaging, recurrence

log = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_DESCRIPTION = 10_000
MAX_VENUE = 300
MAX_URL = 500
MAX_EVENT_DAYS = 31
MAX_RANGE_DAYS = 400
DEFAULT_OFFICE_START = time(9, 0)
DEFAULT_OFFICE_END = time(17, 0)

KIND_LABELS = {
    EventKind.PLENARY: _l("Plenary"),
    EventKind.WORKING_GROUP: _l("Working group"),
    EventKind.WORKSHOP: _l("Workshop"),
    EventKind.TRAINING: _l("Training session"),
    EventKind.BILATERAL_CONSULTATION: _l("Bilateral consultation"),
    EventKind.WEBINAR: _l("Webinar"),
}
FORMAT_LABELS = {
    EventFormat.IN_PERSON: _l("In person"),
    EventFormat.VIRTUAL: _l("Virtual"),
    EventFormat.HYBRID: _l("Hybrid"),
}
VISIBILITY_LABELS = {
    EventVisibility.MEMBERS: _l("Members of the organising networks"),
    EventVisibility.INVITED: _l("Invited people only"),
    EventVisibility.PUBLIC: _l("Public"),
}
STATUS_LABELS = {
    EventStatus.DRAFT: _l("Draft"),
    EventStatus.SCHEDULED: _l("Scheduled"),
    EventStatus.CANCELLED: _l("Cancelled"),
}
RSVP_LABELS = {
    RsvpStatus.ACCEPTED: _l("Attending"),
    RsvpStatus.TENTATIVE: _l("Maybe"),
    RsvpStatus.DECLINED: _l("Not attending"),
}
MODE_LABELS = {
    AttendanceMode.IN_PERSON: _l("In person"),
    AttendanceMode.REMOTE: _l("Remote"),
}


def _label(table: Mapping[Any, Any], value: str) -> str:
    for key, label in table.items():
        if key == value:
            return str(label)
    return value


def kind_label(value: str) -> str:
    return _label(KIND_LABELS, value)


def format_label(value: str) -> str:
    return _label(FORMAT_LABELS, value)


def visibility_label(value: str) -> str:
    return _label(VISIBILITY_LABELS, value)


def status_label(value: str) -> str:
    return _label(STATUS_LABELS, value)


def rsvp_label(value: str) -> str:
    return _label(RSVP_LABELS, value)


def mode_label(value: str) -> str:
    return _label(MODE_LABELS, value)


def choices(table: Mapping[Any, Any]) -> list[tuple[str, str]]:
    return [(key.value, str(label)) for key, label in table.items()]


# --- Time helpers ------------------------------------------------------------------------------


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name if i18n.is_valid_timezone(name) else "UTC")


def local_to_utc(value: datetime, tz_name: str) -> datetime:
    """A naive local wall-clock time in ``tz_name`` as a UTC instant; raises ValueError for
    a time that does not exist there (skipped when clocks go forward)."""
    tz = ZoneInfo(tz_name)
    aware = value.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        raise ValueError("nonexistent local time")
    return aware.astimezone(UTC)


def parse_local(raw: Any) -> datetime | None:
    """ "2026-05-28T10:00" (an HTML datetime-local value, seconds optional) or None."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=None, second=0, microsecond=0)


def in_zone(value: datetime, tz_name: str) -> datetime:
    return value.astimezone(zone(tz_name))


def format_in_zone(value: datetime, tz_name: str, fmt: str = "medium") -> str:
    """An instant as shown in a given zone, in the viewer's language, with the zone name."""
    locale = i18n.current_locale_code()
    text = babel_format_datetime(
        value, i18n.datetime_pattern(fmt, locale), tzinfo=zone(tz_name), locale=locale
    )
    return f"{text} ({tz_name})"


def viewer_timezone(user: Any) -> str:
    name = getattr(user, "timezone", None) if policy.is_signed_in(user) else None
    return name if name and i18n.is_valid_timezone(name) else "UTC"


def zones_differ(event: Event, tz_name: str, at: datetime | None = None) -> bool:
    """True when the viewer's clock and the event's local clock read differently at the
    event's start (Madrid and Lagos agree in winter and differ in summer)."""
    instant = at or event.starts_at
    return (
        instant.astimezone(zone(tz_name)).utcoffset()
        != instant.astimezone(zone(event.timezone)).utcoffset()
    )


# --- Recurrence ---------------------------------------------------------------------------------
# The rule's limits, the picker and the descriptions live in ``services/recurrence.py``.


def local_start(event: Event) -> datetime:
    """The event's start on its own wall clock (naive), as its RRULE is expanded from."""
    return event.starts_at.astimezone(zone(event.timezone)).replace(tzinfo=None)


def describe_recurrence(event: Event) -> str:
    """How the event repeats, in the reader's words ("Monthly on the first Tuesday, 6
    times"); "" for a single event."""
    return recurrence.describe(event.rrule, local_start(event)) if event.rrule else ""


def recurrence_choices(event: Event | None, values: Mapping[str, Any]) -> recurrence.PickerChoices:
    """The options of the form's recurrence picker (``recurrence.PickerChoices``): the
    event's stored rule is offered as "custom" when the picker cannot say it."""
    return recurrence.picker_choices(
        values,
        event.rrule if event else "",
        local_start(event) if event else None,
        parse_local(values.get("starts_at")),
    )


@dataclass
class Occurrence:
    event: Event
    starts_at: datetime
    ends_at: datetime

    @property
    def recurring(self) -> bool:
        return bool(self.event.rrule)


def occurrences(event: Event, start: datetime, end: datetime) -> list[Occurrence]:
    """The occurrences of ``event`` overlapping [start, end) (UTC instants)."""
    duration = event.ends_at - event.starts_at
    if not event.rrule:
        if event.starts_at < end and event.ends_at > start:
            return [Occurrence(event, event.starts_at, event.ends_at)]
        return []
    tz = zone(event.timezone)
    rule = recurrence.expand(event.rrule, local_start(event))
    excluded = set(event.exception_dates or [])
    # Expand on local wall-clock times with a day of margin each side, then filter in UTC.
    window_from = (start - duration).astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    window_to = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    found = []
    for local in rule.between(window_from, window_to, inc=True):
        if local.date().isoformat() in excluded:
            continue
        begins = local.replace(tzinfo=tz).astimezone(UTC)
        finishes = begins + duration
        if begins < end and finishes > start:
            found.append(Occurrence(event, begins, finishes))
    return found


def _recurrence_end(start_local: datetime, rule_text: str, duration: timedelta, tz: str) -> Any:
    parts = rule_text.upper()
    if "COUNT=" not in parts and "UNTIL=" not in parts:
        return None
    last = list(recurrence.expand(rule_text, start_local))[-1]
    return last.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC) + duration


# --- Reading ---------------------------------------------------------------------------------


def get_event(event_id: int, user: Any) -> Event:
    """The event, if ``user`` may see it; raises ``NotFound`` otherwise (ids not probed)."""
    event = db.session.get(Event, event_id)
    if event is None or not policy.can_view_event(user, event):
        raise NotFound(_("No such event."))
    return event


def get_managed_event(event_id: int, user: Any) -> Event:
    event = get_event(event_id, user)
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    return event


@dataclass
class Filters:
    networks: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)


def parse_filters(args: Any) -> Filters:
    """Filters from query arguments; unknown values raise ``ValidationError``."""
    getlist = args.getlist if hasattr(args, "getlist") else lambda k: args.get(k) or []
    kinds = [k for k in getlist("kind") if k]
    formats = [f for f in getlist("format") if f]
    errors = {}
    if any(k not in {e.value for e in EventKind} for k in kinds):
        errors["kind"] = _("Unknown kind of event.")
    if any(f not in {e.value for e in EventFormat} for f in formats):
        errors["format"] = _("Unknown format.")
    if errors:
        raise ValidationError(fields=errors)
    return Filters(networks=[n for n in getlist("network") if n], kinds=kinds, formats=formats)


def events_between(
    user: Any, start: datetime, end: datetime, filters: Filters | None = None
) -> list[Occurrence]:
    """Every occurrence the user may see overlapping [start, end), by start time."""
    filters = filters or Filters()
    query = (
        select(Event)
        .where(
            Event.starts_at < end,
            or_(Event.recurrence_ends_at.is_(None), Event.recurrence_ends_at > start),
        )
        .options(selectinload(Event.invitations), selectinload(Event.networks))
    )
    if filters.kinds:
        query = query.where(Event.kind.in_(filters.kinds))
    if filters.formats:
        query = query.where(Event.format.in_(filters.formats))
    if filters.networks:
        query = query.where(Event.networks.any(Network.slug.in_(filters.networks)))
    found: list[Occurrence] = []
    for event in db.session.scalars(query):
        if policy.can_view_event(user, event):
            found.extend(occurrences(event, start, end))
    return sorted(found, key=lambda o: (o.starts_at, o.event.id))


def upcoming(user: Any, limit: int = 5, days: int = 90) -> list[Occurrence]:
    now = utcnow()
    items = [
        o
        for o in events_between(user, now, now + timedelta(days=days))
        if o.event.status != EventStatus.DRAFT
    ]
    return items[:limit]


def filter_networks(user: Any) -> list[Network]:
    ids = policy.readable_network_ids(user)
    query = select(Network).order_by(Network.acronym)
    if ids is not None:
        query = query.where(Network.id.in_(ids or {-1}))
    return list(db.session.scalars(query))


def organisable_networks(user: Any) -> list[Network]:
    networks = db.session.scalars(select(Network).order_by(Network.acronym))
    return [n for n in networks if policy.can_create_event(user, n)]


# --- Creating and editing events ----------------------------------------------------------------

EDITABLE_FIELDS = (
    "title",
    "description",
    "kind",
    "format",
    "visibility",
    "venue",
    "online_url",
    "starts_at",
    "ends_at",
    "timezone",
    "rrule",
    "exception_dates",
    "series",
    "registration_open",
    "registration_deadline",
    "reminder_minutes",
    "networks",
    "status",
)


def _as_bool(value: Any) -> bool:
    return value in (True, "1", "on", "true", "yes", 1)


def _clean_event(user: Any, data: Mapping[str, Any], existing: Event | None) -> dict[str, Any]:
    """Validated values for an event, or ``ValidationError`` naming every bad field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        errors["title"] = _("Give the event a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("At most %(n)d characters.", n=MAX_TITLE)
    clean["title"] = title
    clean["description"] = str(data.get("description") or "").strip()[:MAX_DESCRIPTION]
    for name, enum_type, message in (
        ("kind", EventKind, _("Choose the kind of event.")),
        ("format", EventFormat, _("Choose in person, virtual or hybrid.")),
        ("visibility", EventVisibility, _("Choose who may see the event.")),
    ):
        value = str(data.get(name) or "")
        if value not in {e.value for e in enum_type}:
            errors[name] = message
        clean[name] = value
    status = str(data.get("status") or (existing.status if existing else EventStatus.SCHEDULED))
    if status not in {EventStatus.DRAFT, EventStatus.SCHEDULED}:
        errors["status"] = _("An event is saved as a draft or as scheduled.")
    clean["status"] = status
    clean["venue"] = str(data.get("venue") or "").strip()[:MAX_VENUE]
    url = str(data.get("online_url") or "").strip()
    if url and (not re.match(r"^https://[^\s]+$", url) or len(url) > MAX_URL):
        errors["online_url"] = _("Give an https:// link.")
    clean["online_url"] = url
    if clean["format"] in {EventFormat.IN_PERSON, EventFormat.HYBRID} and not clean["venue"]:
        errors["venue"] = _("An in-person or hybrid event needs a venue.")
    if clean["format"] in {EventFormat.VIRTUAL, EventFormat.HYBRID} and not url:
        errors.setdefault("online_url", _("A virtual or hybrid event needs an online link."))

    tz_name = str(data.get("timezone") or "").strip()
    if not i18n.is_valid_timezone(tz_name):
        errors["timezone"] = _("Unknown time zone: choose one such as Europe/Madrid.")
    clean["timezone"] = tz_name
    start_local = parse_local(data.get("starts_at"))
    end_local = parse_local(data.get("ends_at"))
    if start_local is None:
        errors["starts_at"] = _("Give the start date and time.")
    if end_local is None:
        errors["ends_at"] = _("Give the end date and time.")
    if start_local and end_local and "timezone" not in errors:
        try:
            clean["starts_at"] = local_to_utc(start_local, tz_name)
        except ValueError:
            errors["starts_at"] = _("This time does not exist there (the clocks change).")
        try:
            clean["ends_at"] = local_to_utc(end_local, tz_name)
        except ValueError:
            errors["ends_at"] = _("This time does not exist there (the clocks change).")
        if "starts_at" in clean and "ends_at" in clean:
            if clean["ends_at"] <= clean["starts_at"]:
                errors["ends_at"] = _("The end must be after the start.")
            elif clean["ends_at"] - clean["starts_at"] > timedelta(days=MAX_EVENT_DAYS):
                errors["ends_at"] = _("An event lasts at most %(n)d days.", n=MAX_EVENT_DAYS)

    start_known = start_local if "starts_at" not in errors else None
    if "repeat" in data:
        # The form's picker (services/recurrence.py); "custom" keeps the stored rule.
        kept = existing.rrule if existing else ""
        rule, rule_errors = recurrence.rule_from_form(data, start_known, kept)
        errors.update(rule_errors)
        if rule and kept and start_known and recurrence.same_rule(rule, kept, start_known):
            rule = kept  # the same series said otherwise: the stored text stays as it was
        repeats = str(data.get("repeat") or "none") != "none"
    else:
        # A raw RFC 5545 RRULE, from code (demo data, imports, tests) rather than the form.
        rule = str(data.get("rrule") or "").strip().removeprefix("RRULE:")
        if rule and start_known:
            message = recurrence.check_rule(rule, start_known)
            if message:
                errors["rrule"] = message
        repeats = bool(rule)
    clean["rrule"] = rule
    raw_dates = data.get("exception_dates") or []
    if isinstance(raw_dates, str):
        raw_dates = [d for d in re.split(r"[\s,;]+", raw_dates) if d]
    dates = []
    for raw in raw_dates:
        try:
            dates.append(date.fromisoformat(str(raw)).isoformat())
        except ValueError:
            errors["exception_dates"] = _("Give dates as YYYY-MM-DD, separated by commas.")
    if dates and not repeats:
        errors["exception_dates"] = _("Exception dates need a recurrence rule.")
    clean["exception_dates"] = sorted(set(dates))
    clean["series"] = str(data.get("series") or "").strip()[:200]
    clean["registration_open"] = _as_bool(data.get("registration_open"))
    deadline = parse_local(data.get("registration_deadline"))
    clean["registration_deadline"] = None
    if deadline and "timezone" not in errors:
        try:
            clean["registration_deadline"] = local_to_utc(deadline, tz_name)
        except ValueError:
            errors["registration_deadline"] = _("This time does not exist there.")
    elif data.get("registration_deadline") and deadline is None:
        errors["registration_deadline"] = _("Give a date and time.")
    try:
        minutes = int(data.get("reminder_minutes") or 1440)
        if not 0 <= minutes <= 60 * 24 * 30:
            raise ValueError
        clean["reminder_minutes"] = minutes
    except (TypeError, ValueError):
        errors["reminder_minutes"] = _("Give the reminder lead time in minutes (up to 30 days).")

    slugs = data.get("networks")
    if isinstance(slugs, str):
        slugs = [slugs]
    slugs = [str(s) for s in (slugs or []) if s]
    networks = list(db.session.scalars(select(Network).where(Network.slug.in_(slugs or [""]))))
    if not networks or len(networks) != len(set(slugs)):
        errors["networks"] = _("Choose at least one organising network.")
    elif existing is None and not all(policy.can_create_event(user, n) for n in networks):
        errors["networks"] = _("You can only organise events for networks you coordinate.")
    elif existing is not None:
        added = {n.id for n in networks} - {n.id for n in existing.networks}
        if any(not policy.can_create_event(user, n) for n in networks if n.id in added):
            errors["networks"] = _("You can only add networks you coordinate.")
    clean["networks"] = networks
    if errors:
        raise ValidationError(fields=errors)
    if rule:
        clean["recurrence_ends_at"] = _recurrence_end(
            start_local,  # type: ignore[arg-type]
            rule,
            clean["ends_at"] - clean["starts_at"],
            tz_name,
        )
    else:
        clean["recurrence_ends_at"] = clean["ends_at"]
    return clean


def _snapshot(event: Event) -> dict[str, Any]:
    return {
        "title": event.title,
        "starts_at": event.starts_at.isoformat() if event.starts_at else None,
        "ends_at": event.ends_at.isoformat() if event.ends_at else None,
        "timezone": event.timezone,
        "status": event.status,
        "sequence": event.sequence,
    }


def create_event(user: Any, data: Mapping[str, Any]) -> Event:
    """A new event organised by networks the user coordinates; raises ``ValidationError``."""
    if not policy.can_create_any_event(user):
        raise Forbidden()
    clean = _clean_event(user, data, None)
    event = Event(created_by_id=user.id, **clean)
    db.session.add(event)
    db.session.flush()
    audit.record(
        user, "event.create", "event", event.id, None, _snapshot(event),
        network_id=clean["networks"][0].id,
    )  # fmt: skip
    db.session.commit()
    log.info("user %s created event %s", user.id, event.id)
    return event


def update_event(user: Any, event: Event, data: Mapping[str, Any]) -> Event:
    """Save changes; SEQUENCE goes up so calendar clients take the new version."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    if event.status == EventStatus.CANCELLED:
        raise ValidationError(_("A cancelled event can no longer be changed."))
    clean = _clean_event(user, data, event)
    before = _snapshot(event)
    for name, value in clean.items():
        setattr(event, name, value)
    event.sequence += 1
    audit.record(
        user, "event.update", "event", event.id, before, _snapshot(event),
        network_id=event.networks[0].id,
    )  # fmt: skip
    db.session.commit()
    return event


def cancel_event(user: Any, event: Event) -> Event:
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    if event.status == EventStatus.CANCELLED:
        raise ValidationError(_("This event is already cancelled."))
    before = _snapshot(event)
    event.status = EventStatus.CANCELLED.value
    event.cancelled_at = utcnow()
    event.sequence += 1
    audit.record(
        user, "event.cancel", "event", event.id, before, _snapshot(event),
        network_id=event.networks[0].id,
    )  # fmt: skip
    db.session.commit()
    log.info("user %s cancelled event %s", user.id, event.id)
    return event


def form_values(event: Event) -> dict[str, Any]:
    """The event as the edit form shows it (local times in the event's zone)."""
    tz = zone(event.timezone)

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if value else ""

    return {
        "title": event.title,
        "description": event.description,
        "kind": event.kind,
        "format": event.format,
        "visibility": event.visibility,
        "status": event.status,
        "venue": event.venue,
        "online_url": event.online_url,
        "starts_at": local(event.starts_at),
        "ends_at": local(event.ends_at),
        "timezone": event.timezone,
        **recurrence.picker_of(event.rrule, local_start(event)).form_values(),
        "exception_dates": ", ".join(event.exception_dates or []),
        "series": event.series,
        "registration_open": event.registration_open,
        "registration_deadline": local(event.registration_deadline),
        "reminder_minutes": event.reminder_minutes,
        "networks": [n.slug for n in event.networks],
    }


# --- Agenda ------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(\d{1,3})\s*(?:\(\s*([a-z])\s*\))?\s*$", re.IGNORECASE)


def _position(main: int, letter: str | None) -> int:
    return main * 100 + (ord(letter.lower()) - ord("a") + 1 if letter else 0)


def add_agenda_item(
    user: Any, event: Event, number: str, title: str, annotation: str = ""
) -> AgendaItem:
    """Add "5" or a sub-item "5 (a)" (its item 5 must exist). Raises ``ValidationError``."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    errors = {}
    match = _NUMBER.match(number or "")
    title = (title or "").strip()
    if not match:
        errors["number"] = _('Number an item "5" or a sub-item "5 (a)".')
    if not title or len(title) > 500:
        errors["title"] = _("Give the item a title (at most 500 characters).")
    parent = None
    shown = ""
    if match:
        main, letter = int(match.group(1)), match.group(2)
        shown = f"{main} ({letter.lower()})" if letter else str(main)
        if any(item.number == shown for item in event.agenda_items):
            errors["number"] = _("Item %(n)s is already on the agenda.", n=shown)
        if letter:
            parent = next((i for i in event.agenda_items if i.number == str(main)), None)
            if parent is None:
                errors["number"] = _("Add item %(n)s before its sub-items.", n=main)
    if errors:
        raise ValidationError(fields=errors)
    item = AgendaItem(
        event=event,
        parent=parent,
        number=shown,
        position=_position(int(match.group(1)), match.group(2)),  # type: ignore[union-attr]
        title=title,
        annotation=(annotation or "").strip()[:20_000],
    )
    db.session.add(item)
    db.session.commit()
    return item


def delete_agenda_item(user: Any, event: Event, item_id: int) -> None:
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    item = next((i for i in event.agenda_items if i.id == item_id), None)
    if item is None:
        raise NotFound()
    db.session.delete(item)
    db.session.commit()


# --- Documents --------------------------------------------------------------------------------

_SYMBOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./()\-]{0,99}$")


def add_document(
    user: Any,
    event: Event,
    symbol: str,
    title: str,
    agenda_item_id: Any,
    language: str,
    upload: Any,
) -> EventDocumentFile:
    """Add a language version of a document (the document is created with its first one).
    The file goes through the attachment checks and encrypted storage. Raises
    ``ValidationError`` or ``TooLarge``; nothing is written then."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    errors = {}
    symbol = (symbol or "").strip()
    title = (title or "").strip()
    if not _SYMBOL.match(symbol):
        errors["symbol"] = _("Give a document symbol such as CTOC/COP/WG.3/2016/1.")
    document = next((d for d in event.documents if d.symbol == symbol), None)
    if document is None and (not title or len(title) > 500):
        errors["title"] = _("Give the document a title (at most 500 characters).")
    if language not in i18n.language_codes():
        errors["language"] = _("Choose the language of this version.")
    elif document and any(f.language == language for f in document.files):
        errors["language"] = _("This document already has a version in that language.")
    item = None
    if agenda_item_id not in (None, "", 0, "0"):
        item = next((i for i in event.agenda_items if str(i.id) == str(agenda_item_id)), None)
        if item is None:
            errors["agenda_item"] = _("Choose an item of this event's agenda.")
    if upload is None or not getattr(upload, "filename", True):
        errors["file"] = _("Choose a file.")
    if errors:
        raise ValidationError(fields=errors)
    event_id = event.id
    db.session.commit()  # end the read transaction before the file is written (SQLite)
    stored = attachments.store_file(upload)
    try:
        event = db.session.get(Event, event_id)  # type: ignore[assignment]
        if document is None:
            document = EventDocument(event=event, symbol=symbol, title=title, agenda_item=item)
            db.session.add(document)
        elif item is not None:
            document.agenda_item = item
        row = EventDocumentFile(
            document=document,
            language=language,
            filename=stored.filename,
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.storage_key,
            uploader_id=user.id,
        )
        db.session.add(row)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        attachments.delete_stored_file(stored.storage_key)
        raise
    log.info("user %s added document file %s to event %s", user.id, row.id, event_id)
    return row


attachments.register_storage_owner(EventDocumentFile.storage_key)


def document_for_download(file_id: int, user: Any) -> tuple[EventDocumentFile, bytes]:
    row = db.session.get(EventDocumentFile, file_id)
    if row is None or not policy.can_download_event_document(user, row):
        raise NotFound(_("No such file."))
    return row, attachments.read_stored_file(row.storage_key, row.sha256)


# --- Organisation of work ----------------------------------------------------------------------


def add_session(
    user: Any,
    event: Event,
    day: Any,
    start: Any,
    end: Any,
    agenda_item_ids: Iterable[Any],
    note: str = "",
) -> EventSession:
    """A meeting of the organisation of work, local times in the event's zone. Refuses an
    end before the start and a slot overlapping another session."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    errors = {}
    try:
        the_day = date.fromisoformat(str(day))
    except ValueError:
        the_day = None
        errors["day"] = _("Give the date as YYYY-MM-DD.")
    times = {}
    for name, raw in (("start", start), ("end", end)):
        try:
            times[name] = time.fromisoformat(str(raw))
        except ValueError:
            errors[name] = _("Give the time as HH:MM.")
    ids = {str(i) for i in agenda_item_ids if i}
    items = [i for i in event.agenda_items if str(i.id) in ids]
    if len(items) != len(ids):
        errors["agenda_items"] = _("Choose items of this event's agenda.")
    begins = finishes = None
    if the_day and not errors:
        try:
            begins = local_to_utc(datetime.combine(the_day, times["start"]), event.timezone)
            finishes = local_to_utc(datetime.combine(the_day, times["end"]), event.timezone)
        except ValueError:
            errors["start"] = _("This time does not exist there (the clocks change).")
        if begins and finishes and finishes <= begins:
            errors["end"] = _("The end must be after the start.")
        elif begins and finishes:
            clash = next(
                (s for s in event.sessions if s.starts_at < finishes and s.ends_at > begins), None
            )
            if clash is not None:
                errors["start"] = _(
                    "This overlaps the session of %(when)s.",
                    when=format_in_zone(clash.starts_at, event.timezone, "short"),
                )
    if errors:
        raise ValidationError(fields=errors)
    session = EventSession(
        event=event, starts_at=begins, ends_at=finishes, note=(note or "")[:300], agenda_items=items
    )
    db.session.add(session)
    db.session.commit()
    return session


def delete_session(user: Any, event: Event, session_id: int) -> None:
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    session = next((s for s in event.sessions if s.id == session_id), None)
    if session is None:
        raise NotFound()
    db.session.delete(session)
    db.session.commit()


@dataclass
class WorkRow:
    session: EventSession
    slot: str  # "15:00-18:00"
    items: list[tuple[AgendaItem, bool]]  # (item, continued from an earlier session)


def organisation_of_work(event: Event) -> list[tuple[date, list[WorkRow]]]:
    """Sessions grouped by local day, each with its agenda items; an item already taken in
    an earlier session is marked "continued", as in the annex of a provisional agenda."""
    tz = zone(event.timezone)
    seen: set[int] = set()
    days: dict[date, list[WorkRow]] = defaultdict(list)
    for session in sorted(event.sessions, key=lambda s: s.starts_at):
        local_start, local_end = session.starts_at.astimezone(tz), session.ends_at.astimezone(tz)
        items = []
        for item in session.agenda_items:
            items.append((item, item.id in seen))
            seen.add(item.id)
        slot = f"{local_start:%H:%M}-{local_end:%H:%M}"
        days[local_start.date()].append(WorkRow(session, slot, items))
    return sorted(days.items())


# --- Invitations and registrations ------------------------------------------------------------


def invite_candidates(event: Event, user: Any) -> list[User]:
    """Members of the organising networks whom ``user`` may invite (``invite``), by name."""
    ids = [n.id for n in event.networks]
    from network.models.people import Membership

    query = (
        messaging.reachable_people_query(user)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.network_id.in_(ids))
        .distinct()
    )
    return sorted(db.session.scalars(query), key=lambda u: i18n.fold(u.name))


def invite(user: Any, event: Event, user_ids: Iterable[Any]) -> list[Invitation]:
    """Invite people; already invited ones are skipped. Only people the organiser can
    reach, as for a direct conversation or a case (``messaging.reachable_people_query``:
    active accounts who share a network with them or are listed in a directory they
    read): an invitation shows the invited people's names and addresses to the organiser
    (participants, .ics), so any other id refuses the whole invitation, with the same
    answer whether the account is missing, inactive or out of reach. Raises
    ``Forbidden`` or ``ValidationError``."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    try:
        wanted = {int(i) for i in user_ids}
    except (TypeError, ValueError) as exc:
        raise ValidationError(fields={"users": _("Choose people to invite.")}) from exc
    if not wanted:
        raise ValidationError(fields={"users": _("Choose people to invite.")})
    refused = ValidationError(fields={"users": _("Some of the people chosen cannot be invited.")})
    if any(not 0 < i <= DATABASE_INT_MAX for i in wanted):  # no such id; the driver would fail
        raise refused
    people = list(
        db.session.scalars(messaging.reachable_people_query(user).where(User.id.in_(wanted)))
    )
    if len(people) != len(wanted):
        raise refused
    already = {i.user_id for i in event.invitations}
    added = [
        Invitation(event=event, user_id=p.id, invited_by_id=user.id)
        for p in people
        if p.id not in already
    ]
    db.session.add_all(added)
    db.session.commit()
    _mail_invitations(user, event, [p for p in people if p.id not in already])
    return added


def _mail_invitations(inviter: Any, event: Event, people: list[User]) -> None:
    """Tell each newly invited person by e-mail, in their language (after the commit: the
    invitation stands even when a mail server refuses a message, which is logged)."""
    from network.services.mail import send_mail

    base = current_app.config.get("BASE_URL") or ""
    languages = [code for n in event.networks for code in (n.languages or [])]
    for person in people:
        if not person.is_active_account:
            continue
        with force_locale(i18n.recipient_locale(person.locale, languages)):
            subject = _("Invitation: %(title)s", title=event.title)
            body = "\n".join(
                [
                    _("%(name)s invites you to %(title)s.", name=inviter.name, title=event.title),
                    "",
                    _(
                        "Your time: %(when)s",
                        when=format_in_zone(event.starts_at, viewer_timezone(person), "full"),
                    ),
                    _(
                        "Local time: %(when)s",
                        when=format_in_zone(event.starts_at, event.timezone, "full"),
                    ),
                    _(
                        "Answer and register here: %(url)s",
                        url=f"{base}/calendar/events/{event.id}",
                    ),
                ]
            )
        try:
            send_mail(person.email, subject, body)
        except OSError:
            log.exception(
                "the invitation to event %s for user %s was not sent", event.id, person.id
            )


# --- The live consultation room of a bilateral consultation (issue 6) -----------------------


def consultation_of(event: Event) -> Any:
    """The consultation room opened for the event, if any."""
    from network.models.consultations import Consultation

    return db.session.scalar(
        select(Consultation)
        .where(Consultation.calendar_event_id == event.id)
        .order_by(Consultation.id)
        .limit(1)
    )


def open_consultation_room(user: Any, event: Event) -> Any:
    """Prepare the live consultation room of a bilateral consultation: its organiser
    moderates, the invited and registered people (with an account) are invited, and the
    room opens at the event's start (at once when that has passed). Once only: a second
    call returns the room made by the first. Raises ``Forbidden`` or ``ValidationError``."""
    from network.services import consultations

    if not policy.can_link_consultation_to_event(user, event):
        raise Forbidden()
    if event.kind != EventKind.BILATERAL_CONSULTATION.value:
        raise ValidationError(_("Only a bilateral consultation has a consultation room."))
    if event.status == EventStatus.CANCELLED.value:
        raise ValidationError(_("The event is cancelled."))
    existing = consultation_of(event)
    if existing is not None:
        return existing
    people = {i.user_id for i in event.invitations} | {
        r.user_id
        for r in event.registrations
        if r.user_id is not None and r.status != RsvpStatus.DECLINED.value
    }
    people.discard(user.id)
    if not people:
        raise ValidationError(_("Invite or register at least one other person first."))
    starts = event.starts_at if event.starts_at.tzinfo else event.starts_at.replace(tzinfo=UTC)
    return consultations.create_consultation(
        user,
        event.title[:200],
        sorted(people),
        calendar_event_id=event.id,
        scheduled_at=starts if starts > datetime.now(UTC) else None,
    )


def registration_of(user: Any, event: Event) -> Registration | None:
    if not policy.is_signed_in(user):
        return None
    return next((r for r in event.registrations if r.user_id == user.id), None)


def is_invited(user: Any, event: Event) -> bool:
    return policy.is_signed_in(user) and any(i.user_id == user.id for i in event.invitations)


def registration_closed_reason(event: Event, user: Any, now: datetime | None = None) -> str:
    """Why the user cannot register now ("" when they can)."""
    now = now or utcnow()
    if event.status == EventStatus.CANCELLED:
        return _("This event is cancelled.")
    if not policy.can_register_for_event(user, event):
        return _("Registration is not open for this event.")
    if event.registration_deadline and now > event.registration_deadline:
        return _("The registration deadline has passed.")
    if now > event.ends_at and not event.rrule:
        return _("This event is over.")
    return ""


def default_country(user: Any) -> str:
    from network.models.directory import ContactPoint

    return (
        db.session.scalar(
            select(ContactPoint.country).where(ContactPoint.user_id == user.id).limit(1)
        )
        or ""
    )


def register(user: Any, event: Event, data: Mapping[str, Any]) -> Registration:
    """Register or change one's RSVP (attending / maybe / not attending), with the country
    represented, attendance mode and whether one comes from the capital."""
    reason = registration_closed_reason(event, user)
    if reason:
        raise ValidationError(reason)
    errors = {}
    status = str(data.get("status") or RsvpStatus.ACCEPTED)
    if status not in {s.value for s in RsvpStatus}:
        errors["status"] = _("Choose whether you attend.")
    mode = str(data.get("attendance_mode") or AttendanceMode.IN_PERSON)
    if mode not in {m.value for m in AttendanceMode}:
        errors["attendance_mode"] = _("Choose in person or remote.")
    elif event.format == EventFormat.VIRTUAL and mode == AttendanceMode.IN_PERSON:
        errors["attendance_mode"] = _("This event is online only.")
    elif event.format == EventFormat.IN_PERSON and mode == AttendanceMode.REMOTE:
        errors["attendance_mode"] = _("This event is in person only.")
    country = str(data.get("country") or "").upper()
    if country not in i18n.country_codes():
        errors["country"] = _("Choose the state you represent.")
    if errors:
        raise ValidationError(fields=errors)
    registration = registration_of(user, event)
    if registration is None:
        registration = Registration(event=event, user_id=user.id, name=user.name)
        db.session.add(registration)
    registration.status = status
    registration.attendance_mode = mode
    registration.country = country
    registration.capital_based = _as_bool(data.get("capital_based"))
    db.session.commit()
    return registration


def conflicts(user: Any, event: Event) -> list[Occurrence]:
    """Other events the user registered for (attending or maybe) overlapping this one."""
    if not policy.is_signed_in(user):
        return []
    mine = list(
        db.session.scalars(
            select(Event)
            .join(Registration, Registration.event_id == Event.id)
            .where(
                Registration.user_id == user.id,
                Registration.status != RsvpStatus.DECLINED,
                Event.id != event.id,
                Event.status != EventStatus.CANCELLED,
            )
        )
    )
    found = []
    for own in occurrences(event, event.starts_at, event.recurrence_ends_at or event.ends_at):
        for other in mine:
            found.extend(occurrences(other, own.starts_at, own.ends_at))
    return found


def get_registration(event: Event, registration_id: int) -> Registration:
    found = next((r for r in event.registrations if r.id == registration_id), None)
    if found is None:
        raise NotFound()
    return found


def check_in(user: Any, event: Event, registration_id: int) -> Registration:
    """Check a delegate in on the day: they are recorded as attending."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    registration = get_registration(event, registration_id)
    registration.checked_in_at = registration.checked_in_at or utcnow()
    registration.attended = True
    db.session.commit()
    return registration


def set_attended(user: Any, event: Event, registration_id: int, attended: bool) -> Registration:
    """Correct the attendance record after the event."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    registration = get_registration(event, registration_id)
    registration.attended = attended
    if not attended:
        registration.checked_in_at = None
    db.session.commit()
    return registration


def participants_by_country(event: Event) -> list[tuple[str, list[Registration]]]:
    """Registrations (not declined) grouped by the state represented, by localised name."""
    groups: dict[str, list[Registration]] = defaultdict(list)
    for registration in event.registrations:
        if registration.status != RsvpStatus.DECLINED:
            groups[registration.country].append(registration)
    return sorted(
        ((c, sorted(rows, key=lambda r: i18n.fold(r.name))) for c, rows in groups.items()),
        key=lambda pair: i18n.fold(i18n.country_name(pair[0])),
    )


# --- Participation statistics -----------------------------------------------------------------


@dataclass
class Participation:
    event: Event
    states_registered: int
    states_attending: int
    states_capital_based: int

    @property
    def capital_share(self) -> int:
        """Percentage of attending states that sent at least one capital-based expert."""
        if not self.states_attending:
            return 0
        return round(100 * self.states_capital_based / self.states_attending)


def participation(event: Event) -> Participation:
    registered = {r.country for r in event.registrations if r.status != RsvpStatus.DECLINED}
    attending = {r.country for r in event.registrations if r.attended}
    capital = {r.country for r in event.registrations if r.attended and r.capital_based}
    return Participation(event, len(registered), len(attending), len(capital))


def series_participation(user: Any, event: Event) -> list[Participation]:
    """Participation in each event of the same series the user may see, by date."""
    if not event.series:
        return [participation(event)]
    events = db.session.scalars(
        select(Event).where(Event.series == event.series).order_by(Event.starts_at)
    )
    return [participation(e) for e in events if policy.can_view_event(user, e)]


def _short(title: str, limit: int = 28) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def chart_data(rows: list[Participation], tz_name: str) -> dict[str, Any]:
    return {
        "labels": [
            f"{_short(r.event.title)} ({r.event.starts_at.astimezone(zone(tz_name)):%Y-%m})"
            for r in rows
        ],
        "attending": [r.states_attending for r in rows],
        "capital": [r.states_capital_based for r in rows],
        "share": [r.capital_share for r in rows],
        "label_attending": _("States attending"),
        "label_capital": _("States with capital-based experts"),
        "label_share": _("Capital-based share, per cent"),
    }


# --- Calendar profile and time-zone planner -----------------------------------------------------


def profile_of(user: Any) -> CalendarProfile:
    """The user's calendar profile (unsaved defaults when they never set one)."""
    found = db.session.scalar(select(CalendarProfile).where(CalendarProfile.user_id == user.id))
    return found or CalendarProfile(
        user_id=user.id, office_start=DEFAULT_OFFICE_START, office_end=DEFAULT_OFFICE_END
    )


def update_office_hours(user: Any, start: Any, end: Any) -> CalendarProfile:
    errors = {}
    try:
        start_time = time.fromisoformat(str(start))
    except ValueError:
        errors["office_start"] = _("Give the time as HH:MM.")
    try:
        end_time = time.fromisoformat(str(end))
    except ValueError:
        errors["office_end"] = _("Give the time as HH:MM.")
    if not errors and end_time <= start_time:
        errors["office_end"] = _("The end must be after the start.")
    if errors:
        raise ValidationError(fields=errors)
    profile = profile_of(user)
    profile.office_start, profile.office_end = start_time, end_time
    db.session.add(profile)
    db.session.commit()
    return profile


@dataclass
class Proposal:
    starts_at: datetime
    ends_at: datetime
    inside: int
    per_person: list[tuple[User, datetime, bool]]  # (person, local start, within hours)


def _within(local_start: datetime, local_end: datetime, profile: CalendarProfile) -> bool:
    return (
        local_start.date() == local_end.date()
        and local_start.weekday() < 5
        and profile.office_start <= local_start.time()
        and local_end.time() <= profile.office_end
    )


def plan(
    user: Any,
    event: Event,
    first_day: Any,
    last_day: Any,
    minutes: Any,
    step_minutes: int = 30,
    limit: int = 10,
) -> list[Proposal]:
    """Candidate start times (every ``step_minutes`` UTC over the days, in the event's
    zone) ranked by how many invited people are inside their office hours on a weekday,
    then by earliest. Raises ``ValidationError`` for a bad range or length."""
    if not policy.can_manage_event(user, event):
        raise Forbidden()
    errors = {}
    try:
        start_day, end_day = date.fromisoformat(str(first_day)), date.fromisoformat(str(last_day))
        if end_day < start_day or (end_day - start_day).days > 31:
            errors["last_day"] = _("Choose a range of at most 31 days, ending after it starts.")
    except ValueError:
        errors["first_day"] = _("Give the dates as YYYY-MM-DD.")
    try:
        length = int(minutes)
        if not 15 <= length <= 12 * 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["minutes"] = _("Give a length between 15 and 720 minutes.")
    if errors:
        raise ValidationError(fields=errors)
    people = [i.user for i in event.invitations]
    profiles = {p.id: profile_of(p) for p in people}
    tz = zone(event.timezone)
    cursor = datetime.combine(start_day, time(0, 0), tzinfo=tz).astimezone(UTC)
    stop = datetime.combine(end_day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
    duration = timedelta(minutes=length)
    proposals = []
    while cursor < stop:
        per_person = []
        for person in people:
            pz = zone(person.timezone)
            local_start, local_end = cursor.astimezone(pz), (cursor + duration).astimezone(pz)
            per_person.append(
                (person, local_start, _within(local_start, local_end, profiles[person.id]))
            )
        inside = sum(1 for _p, _t, ok in per_person if ok)
        if inside:
            proposals.append(Proposal(cursor, cursor + duration, inside, per_person))
        cursor += timedelta(minutes=step_minutes)
    proposals.sort(key=lambda p: (-p.inside, p.starts_at))
    return proposals[:limit]


# --- Personal feed secret ----------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def regenerate_feed(user: Any) -> str:
    """A new feed secret (the old URL stops working); only its SHA-256 is stored, so the
    URL is shown once."""
    secret = secrets.token_urlsafe(32)
    profile = profile_of(user)
    profile.feed_secret_hash = _digest(secret)
    profile.feed_created_at = utcnow()
    db.session.add(profile)
    db.session.commit()
    log.info("user %s regenerated their calendar feed", user.id)
    return secret


def revoke_feed(user: Any) -> None:
    profile = profile_of(user)
    profile.feed_secret_hash = None
    profile.feed_created_at = None
    db.session.add(profile)
    db.session.commit()
    log.info("user %s revoked their calendar feed", user.id)


def user_for_feed(secret: str) -> User:
    if not secret or len(secret) > 100:
        raise NotFound()
    profile = db.session.scalar(
        select(CalendarProfile).where(CalendarProfile.feed_secret_hash == _digest(secret))
    )
    if profile is None or not profile.user.is_active_account:
        raise NotFound()
    return profile.user


def feed_events(user: Any) -> list[Event]:
    """The events of a person's feed: those they registered for or were invited to, and
    the events of their networks they may see (from 60 days back)."""
    since = utcnow() - timedelta(days=60)
    query = (
        select(Event)
        .where(or_(Event.recurrence_ends_at.is_(None), Event.recurrence_ends_at > since))
        .order_by(Event.starts_at)
    )
    return [
        e for e in db.session.scalars(query)
        if policy.can_view_event(user, e) and e.status != EventStatus.DRAFT
    ]  # fmt: skip


# --- Reminders -----------------------------------------------------------------------------


def send_reminders(now: datetime | None = None, lead_minutes: int | None = None) -> int:
    """E-mail each registered person (attending or maybe) once per occurrence starting
    within the event's reminder lead time (or ``lead_minutes``). Idempotent: a reminder
    already recorded is not sent again. Returns how many were sent."""
    from network.services.mail import send_mail

    now = now or utcnow()
    horizon = now + timedelta(minutes=lead_minutes or 60 * 24 * 30)
    events = db.session.scalars(
        select(Event).where(
            Event.status == EventStatus.SCHEDULED,
            Event.starts_at < horizon,
            or_(Event.recurrence_ends_at.is_(None), Event.recurrence_ends_at > now),
        )
    )
    sent = 0
    for event in list(events):
        lead = timedelta(
            minutes=lead_minutes if lead_minutes is not None else event.reminder_minutes
        )
        for occurrence in occurrences(event, now, now + lead):
            if occurrence.starts_at <= now:
                continue
            for registration in event.registrations:
                if registration.user is None or registration.status == RsvpStatus.DECLINED:
                    continue
                done = db.session.scalar(
                    select(ReminderSent.id).where(
                        ReminderSent.event_id == event.id,
                        ReminderSent.user_id == registration.user_id,
                        ReminderSent.occurrence_start == occurrence.starts_at,
                    )
                )
                if done:
                    continue
                person = registration.user
                languages = [code for n in event.networks for code in (n.languages or [])]
                with force_locale(i18n.recipient_locale(person.locale, languages)):
                    subject, body = _reminder_text(event, occurrence, person)
                send_mail(person.email, subject, body)
                db.session.add(
                    ReminderSent(
                        event_id=event.id,
                        user_id=person.id,
                        occurrence_start=occurrence.starts_at,
                    )
                )
                db.session.commit()
                sent += 1
    return sent


def _reminder_text(event: Event, occurrence: Occurrence, person: User) -> tuple[str, str]:
    own_tz = viewer_timezone(person)
    base = current_app.config.get("BASE_URL") or ""
    subject = _("Reminder: %(title)s", title=event.title)
    lines = [
        _("%(title)s starts soon.", title=event.title),
        "",
        _("Your time: %(when)s", when=format_in_zone(occurrence.starts_at, own_tz, "full")),
        _(
            "Local time: %(when)s",
            when=format_in_zone(occurrence.starts_at, event.timezone, "full"),
        ),
    ]
    if event.venue:
        lines.append(_("Venue: %(venue)s", venue=event.venue))
    if event.online_url:
        lines.append(_("Online: %(url)s", url=event.online_url))
    lines += ["", f"{base}/calendar/events/{event.id}"]
    return subject, "\n".join(lines)


# --- API ------------------------------------------------------------------------------------


def parse_range(args: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """``start`` and ``end`` ISO 8601 instants (a date alone is midnight UTC; a naive time
    is UTC). Raises ``ValidationError``."""
    errors = {}
    values = {}
    for name in ("start", "end"):
        raw = str(args.get(name) or "").strip()
        if not raw:
            errors[name] = _("Give %(name)s as an ISO 8601 date or time.", name=name)
            continue
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            errors[name] = _("Give %(name)s as an ISO 8601 date or time.", name=name)
            continue
        values[name] = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not errors:
        if values["end"] <= values["start"]:
            errors["end"] = _("The end must be after the start.")
        elif values["end"] - values["start"] > timedelta(days=MAX_RANGE_DAYS):
            errors["end"] = _("Ask for at most %(n)d days at once.", n=MAX_RANGE_DAYS)
    if errors:
        raise ValidationError(fields=errors)
    return values["start"].astimezone(UTC), values["end"].astimezone(UTC)


def occurrence_payload(occurrence: Occurrence, user: Any) -> dict[str, Any]:
    event = occurrence.event
    registration = registration_of(user, event)
    return {
        "id": event.id,
        "uid": event.uid,
        "title": event.title,
        "kind": event.kind,
        "format": event.format,
        "visibility": event.visibility,
        "status": event.status,
        "start": occurrence.starts_at.isoformat(),
        "end": occurrence.ends_at.isoformat(),
        "timezone": event.timezone,
        "recurring": bool(event.rrule),
        "networks": [n.slug for n in event.networks],
        "venue": event.venue,
        "online_url": event.online_url if policy.can_view_participants(user, event) else "",
        "series": event.series,
        "sequence": event.sequence,
        "registration": registration.status if registration else None,
        "ics_url": f"/calendar/events/{event.id}.ics",
    }
