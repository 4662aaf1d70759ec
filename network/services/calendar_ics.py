"""Calendar files (RFC 5545) made with the ``icalendar`` package: one event's .ics and a
person's subscription feed. Each VEVENT keeps its UID for life and carries SEQUENCE (raised
on every change), STATUS (CANCELLED once cancelled), the RRULE and EXDATEs of a series,
local times with TZID and a VTIMEZONE for every zone used, and ATTENDEE lines with each
registered or invited person's participation status."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneStandard, vCalAddress, vRecur, vText
from icalendar import Event as VEvent

from network import policy
from network.models.calendar import Event, EventStatus, RsvpStatus
from network.services import calendar as calendar_service

_PARTSTAT = {
    RsvpStatus.ACCEPTED: "ACCEPTED",
    RsvpStatus.TENTATIVE: "TENTATIVE",
    RsvpStatus.DECLINED: "DECLINED",
}
_STATUS = {
    EventStatus.SCHEDULED: "CONFIRMED",
    EventStatus.DRAFT: "TENTATIVE",
    EventStatus.CANCELLED: "CANCELLED",
}


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Judicial Cooperation Networks//Calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _vevent(event: Event, viewer: Any, base_url: str) -> VEvent:
    tz = ZoneInfo(event.timezone)
    item = VEvent()
    item.add("uid", event.uid)
    item.add("dtstamp", event.updated_at)
    item.add("created", event.created_at)
    item.add("last-modified", event.updated_at)
    item.add("sequence", event.sequence)
    item.add("summary", event.title)
    item.add("dtstart", event.starts_at.astimezone(tz))
    item.add("dtend", event.ends_at.astimezone(tz))
    item.add("status", _STATUS.get(EventStatus(event.status), "CONFIRMED"))
    item.add("categories", [calendar_service.kind_label(event.kind)])
    if event.description:
        item.add("description", event.description)
    location = event.venue
    if event.online_url and policy.can_view_participants(viewer, event):
        item.add("url", event.online_url)
        location = f"{location} / {event.online_url}" if location else event.online_url
    elif base_url:
        item.add("url", f"{base_url}/calendar/events/{event.id}")
    if location:
        item.add("location", vText(location))
    if event.rrule:
        item.add("rrule", _recur(event.rrule, tz))
        start_time = event.starts_at.astimezone(tz).time()
        for day in event.exception_dates or []:
            local = datetime.combine(datetime.fromisoformat(day).date(), time(0, 0)).replace(
                hour=start_time.hour, minute=start_time.minute, tzinfo=tz
            )
            item.add("exdate", local)
    if policy.can_view_participants(viewer, event):
        answered = set()
        for registration in event.registrations:
            if registration.user is None:
                continue
            answered.add(registration.user_id)
            item.add("attendee", _attendee(registration.user, _PARTSTAT[registration.status]))
        for invitation in event.invitations:
            if invitation.user_id not in answered:
                item.add("attendee", _attendee(invitation.user, "NEEDS-ACTION"))
    return item


def _recur(rule_text: str, tz: ZoneInfo) -> vRecur:
    """The stored RRULE for a DTSTART with a TZID: an UNTIL kept on the event's wall clock
    (as the rule is expanded here) is given in UTC, as RFC 5545 (3.3.10) asks then."""
    recur = vRecur.from_ical(rule_text)
    until = recur.get("UNTIL")
    if until and isinstance(until[0], datetime) and until[0].tzinfo is None:
        recur["UNTIL"] = [until[0].replace(tzinfo=tz).astimezone(UTC)]
    return recur


def _attendee(person: Any, partstat: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.name)
    address.params["partstat"] = partstat
    address.params["role"] = "REQ-PARTICIPANT"
    return address


def _add_timezones(cal: Calendar, events: list[Event]) -> None:
    """One VTIMEZONE per TZID used, covering the span of the events."""
    by_zone: dict[str, list[Event]] = {}
    for event in events:
        by_zone.setdefault(event.timezone, []).append(event)
    for name, group in sorted(by_zone.items()):
        first = min(e.starts_at for e in group).replace(tzinfo=None)
        last = max((e.recurrence_ends_at or e.ends_at) for e in group).replace(tzinfo=None)
        if any(e.rrule and e.recurrence_ends_at is None for e in group):
            last = last.replace(year=last.year + 2)
        cal.add_component(_vtimezone(name, first, last))


def _vtimezone(name: str, first: datetime, last: datetime) -> Timezone:
    """The VTIMEZONE of ``name`` over the span; RFC 5545 wants at least one STANDARD or
    DAYLIGHT part, which a zone without transitions in the span (Bogotá, Lagos, UTC)
    would lack: it then gets one STANDARD part with its fixed offset."""
    component = Timezone.from_tzid(
        name, first_date=first.date().replace(day=1), last_date=last.date()
    )
    if component.subcomponents:
        return component
    offset = first.replace(tzinfo=ZoneInfo(name)).utcoffset()
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))  # noqa: DTZ001 - a floating local time
    standard.add("tzoffsetfrom", offset)
    standard.add("tzoffsetto", offset)
    standard.add("tzname", first.replace(tzinfo=ZoneInfo(name)).tzname())
    component = Timezone()
    component.add("tzid", name)
    component.add_component(standard)
    return component


def event_ics(event: Event, viewer: Any, base_url: str = "") -> bytes:
    cal = _calendar(event.title)
    _add_timezones(cal, [event])
    cal.add_component(_vevent(event, viewer, base_url))
    return cal.to_ical()


def feed_ics(user: Any, base_url: str = "") -> bytes:
    events = calendar_service.feed_events(user)
    cal = _calendar(f"{user.name} — calendar")
    _add_timezones(cal, events)
    for event in events:
        cal.add_component(_vevent(event, user, base_url))
    return cal.to_ical()
