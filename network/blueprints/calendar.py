"""Calendar pages: list, month and week views with filters; the event page (times in the
viewer's zone and the event's, agenda, documents, organisation of work, registration);
create / edit / cancel; participants by country with check-in; statistics; the time-zone
planner; .ics files and the personal feed with its revoke / regenerate page.

Every view loads (404 for an event the viewer may not see), checks (403) and acts through
``network.services.calendar``; the service holds the rules and says what is wrong.
"""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from network import i18n, policy
from network.blueprints.utils import require
from network.errors import ValidationError
from network.models.calendar import Event
from network.services import calendar as cal
from network.services import calendar_ics, training

bp = Blueprint("calendar", __name__, url_prefix="/calendar")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "event_labels": SimpleNamespace(
            kind=cal.kind_label,
            format=cal.format_label,
            visibility=cal.visibility_label,
            status=cal.status_label,
            rsvp=cal.rsvp_label,
            mode=cal.mode_label,
        ),
        "in_zone": cal.format_in_zone,
        "describe_recurrence": cal.describe_recurrence,
    }


@bp.app_template_global("upcoming_events")
def upcoming_events(user: Any) -> list[cal.Occurrence]:
    """The next events the user may see, for the home page."""
    return cal.upcoming(user)


def _viewer_tz() -> str:
    return cal.viewer_timezone(current_user)


def _filters() -> tuple[cal.Filters, int]:
    try:
        return cal.parse_filters(request.args), 200
    except ValidationError as error:
        flash(error.message + " " + " ".join(error.fields.values()), "error")
        return cal.Filters(), 400


def _filter_context(filters: cal.Filters) -> dict[str, Any]:
    return {
        "filters": filters,
        "networks": cal.filter_networks(current_user),
        "kind_choices": cal.choices(cal.KIND_LABELS),
        "format_choices": cal.choices(cal.FORMAT_LABELS),
        "can_create": policy.can_create_any_event(current_user),
        "viewer_tz": _viewer_tz(),
    }


def _filter_args() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in ("network", "kind", "format") if k in request.args}


# --- Views of many events ------------------------------------------------------------------


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Upcoming events as a list (next 180 days, and 30 days back with ?past=1)."""
    filters, status = _filters()
    now = datetime.now(UTC)
    start = now - timedelta(days=30) if request.args.get("past") else now
    items = cal.events_between(current_user, start, now + timedelta(days=180), filters)
    return render_template(
        "calendar/index.html", items=items, view="list", **_filter_context(filters)
    ), status


def _month_arg() -> tuple[int, int]:
    today = datetime.now(cal.zone(_viewer_tz())).date()
    try:
        year, month = (int(p) for p in request.args.get("month", "").split("-"))
        date(year, month, 1)
    except ValueError:
        return today.year, today.month
    return year, month


@bp.get("/month")
def month():  # type: ignore[no-untyped-def]
    filters, status = _filters()
    year, month_number = _month_arg()
    tz = cal.zone(_viewer_tz())
    weeks = stdlib_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month_number)
    first, last = weeks[0][0], weeks[-1][-1]
    start = datetime.combine(first, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
    by_day: dict[date, list[cal.Occurrence]] = {}
    for occurrence in cal.events_between(current_user, start, end, filters):
        day = occurrence.starts_at.astimezone(tz).date()
        last_day = (occurrence.ends_at - timedelta(seconds=1)).astimezone(tz).date()
        while day <= last_day and day <= last:
            by_day.setdefault(day, []).append(occurrence)
            day += timedelta(days=1)
    previous = date(year, month_number, 1) - timedelta(days=1)
    following = date(year, month_number, 28) + timedelta(days=7)
    return render_template(
        "calendar/month.html",
        weeks=weeks,
        by_day=by_day,
        month_start=date(year, month_number, 1),
        previous=f"{previous.year}-{previous.month:02d}",
        following=f"{following.year}-{following.month:02d}",
        weekdays=[date(2024, 1, d) for d in range(1, 8)],  # a Monday to a Sunday
        today=datetime.now(tz).date(),
        filter_args=_filter_args(),
        view="month",
        **_filter_context(filters),
    ), status


@bp.get("/week")
def week():  # type: ignore[no-untyped-def]
    filters, status = _filters()
    tz = cal.zone(_viewer_tz())
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = datetime.now(tz).date()
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    start = datetime.combine(monday, time(0, 0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0, 0), tzinfo=tz).astimezone(UTC)
    by_day: dict[date, list[cal.Occurrence]] = {}
    for occurrence in cal.events_between(current_user, start, end, filters):
        the_day = max(occurrence.starts_at.astimezone(tz).date(), monday)
        by_day.setdefault(the_day, []).append(occurrence)
    return render_template(
        "calendar/week.html",
        days=days,
        by_day=by_day,
        previous=(monday - timedelta(days=7)).isoformat(),
        following=(monday + timedelta(days=7)).isoformat(),
        today=datetime.now(tz).date(),
        filter_args=_filter_args(),
        view="week",
        **_filter_context(filters),
    ), status


# --- One event -----------------------------------------------------------------------------


def _event_form_context(event: Event | None, values: dict[str, Any], errors: dict[str, str]):  # type: ignore[no-untyped-def]
    return {
        "event": event,
        "values": values,
        "errors": errors,
        "kind_choices": cal.choices(cal.KIND_LABELS),
        "format_choices": cal.choices(cal.FORMAT_LABELS),
        "visibility_choices": cal.choices(cal.VISIBILITY_LABELS),
        "network_choices": cal.organisable_networks(current_user)
        if event is None
        else sorted(
            {n.id: n for n in [*event.networks, *cal.organisable_networks(current_user)]}.values(),
            key=lambda n: n.acronym,
        ),
        "timezones": i18n.timezone_names(),
        "recurrence": cal.recurrence_choices(event, values),
    }


def _form_input() -> dict[str, Any]:
    """The event form's fields. Its recurrence comes from the picker (``repeat`` and the
    ``repeat_*`` fields); a raw ``rrule`` is not taken from the page."""
    data: dict[str, Any] = {
        k: v for k, v in request.form.items() if k not in {"csrf_token", "rrule"}
    }
    data["networks"] = request.form.getlist("networks")
    data["repeat"] = data.get("repeat") or "none"
    data["repeat_weekdays"] = request.form.getlist("repeat_weekdays")
    return data


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def create():  # type: ignore[no-untyped-def]
    require(policy.can_create_any_event(current_user))
    if request.method == "POST":
        data = _form_input()
        try:
            event = cal.create_event(current_user, data)
        except ValidationError as error:
            flash(error.message, "error")
            return render_template(
                "calendar/edit.html", **_event_form_context(None, data, error.fields)
            ), 422
        flash(_("The event is saved."), "success")
        return redirect(url_for("calendar.show", event_id=event.id))
    networks = cal.organisable_networks(current_user)
    values = {
        "timezone": _viewer_tz(),
        "visibility": "members",
        "status": "scheduled",
        "reminder_minutes": 1440,
        "networks": [networks[0].slug] if len(networks) == 1 else [],
    }
    return render_template("calendar/edit.html", **_event_form_context(None, values, {}))


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    if request.method == "POST":
        data = _form_input()
        try:
            cal.update_event(current_user, event, data)
        except ValidationError as error:
            flash(error.message, "error")
            return render_template(
                "calendar/edit.html", **_event_form_context(event, data, error.fields)
            ), 422
        flash(_("The event is saved."), "success")
        return redirect(url_for("calendar.show", event_id=event.id))
    return render_template(
        "calendar/edit.html", **_event_form_context(event, cal.form_values(event), {})
    )


@bp.post("/events/<int:event_id>/cancel")
@login_required
def cancel(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    try:
        cal.cancel_event(current_user, event)
    except ValidationError as error:
        flash(error.message, "error")
    else:
        flash(_("The event is cancelled."), "success")
    return redirect(url_for("calendar.show", event_id=event.id))


@bp.post("/events/<int:event_id>/consultation")
@login_required
def open_consultation(event_id: int):  # type: ignore[no-untyped-def]
    """A bilateral consultation's live room (issue 6), prepared by its organiser."""
    event = cal.get_managed_event(event_id, current_user)
    try:
        room = cal.open_consultation_room(current_user, event)
    except ValidationError as error:
        flash(error.message, "error")
        return redirect(url_for("calendar.show", event_id=event.id))
    return redirect(url_for("consultations.room", consultation_id=room.id))


def _visible_consultation(event: Event):  # type: ignore[no-untyped-def]
    """The event's consultation room when the viewer may enter it or wait at its door."""
    room = cal.consultation_of(event)
    if room is None:
        return None
    allowed = policy.can_join_consultation(current_user, room) or policy.can_wait_for_consultation(
        current_user, room
    )
    return room if allowed else None


def _render_event(event: Event, errors: dict[str, str] | None = None, code: int = 200):  # type: ignore[no-untyped-def]
    viewer_tz = _viewer_tz()
    now = datetime.now(UTC)
    next_ones = cal.occurrences(event, now, now + timedelta(days=400))[:5] if event.rrule else []
    registration = cal.registration_of(current_user, event)
    manage = policy.can_manage_event(current_user, event)
    return render_template(
        "calendar/show.html",
        event=event,
        cohorts=training.cohorts_of_event(event.id, current_user),
        consultation=_visible_consultation(event),
        viewer_tz=viewer_tz,
        zones_differ=cal.zones_differ(event, viewer_tz),
        next_occurrences=next_ones,
        work=cal.organisation_of_work(event),
        registration=registration,
        closed_reason=cal.registration_closed_reason(event, current_user),
        invited=cal.is_invited(current_user, event),
        conflicts=cal.conflicts(current_user, event) if registration else [],
        can_manage=manage,
        can_see_link=policy.can_view_participants(current_user, event),
        participation=cal.participation(event),
        errors=errors or {},
        form=request.form if errors else {},
        countries=i18n.country_choices(),
        languages=i18n.language_choices(),
        default_country=(
            registration.country
            if registration
            else (cal.default_country(current_user) if current_user.is_authenticated else "")
        ),
        rsvp_choices=cal.choices(cal.RSVP_LABELS),
        mode_choices=cal.choices(cal.MODE_LABELS),
        candidates=cal.invite_candidates(event, current_user) if manage else [],
    ), code


@bp.get("/events/<int:event_id>")
def show(event_id: int):  # type: ignore[no-untyped-def]
    return _render_event(cal.get_event(event_id, current_user))


def _act(event: Event, action: Any, success: str):  # type: ignore[no-untyped-def]
    """Run a write service; on a validation error show the event page with the messages
    (HTTP 422, nothing written), else redirect to it."""
    try:
        action()
    except ValidationError as error:
        flash(error.message, "error")
        return _render_event(event, error.fields or {"_": error.message}, 422)
    flash(success, "success")
    return redirect(url_for("calendar.show", event_id=event.id))


@bp.post("/events/<int:event_id>/agenda")
@login_required
def add_agenda_item(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    form = request.form
    return _act(
        event,
        lambda: cal.add_agenda_item(
            current_user, event, form.get("number", ""), form.get("title", ""),
            form.get("annotation", ""),
        ),
        _("The agenda item is added."),
    )  # fmt: skip


@bp.post("/events/<int:event_id>/agenda/<int:item_id>/delete")
@login_required
def delete_agenda_item(event_id: int, item_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    return _act(
        event,
        lambda: cal.delete_agenda_item(current_user, event, item_id),
        _("The item is removed."),
    )


@bp.post("/events/<int:event_id>/documents")
@login_required
def add_document(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    form = request.form
    return _act(
        event,
        lambda: cal.add_document(
            current_user, event, form.get("symbol", ""), form.get("title", ""),
            form.get("agenda_item"), form.get("language", ""), request.files.get("file"),
        ),
        _("The document is added."),
    )  # fmt: skip


@bp.get("/documents/<int:file_id>")
def download_document(file_id: int):  # type: ignore[no-untyped-def]
    row, data = cal.document_for_download(file_id, current_user)
    response = Response(data, mimetype=row.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=row.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/events/<int:event_id>/sessions")
@login_required
def add_session(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    form = request.form
    return _act(
        event,
        lambda: cal.add_session(
            current_user, event, form.get("day", ""), form.get("start", ""),
            form.get("end", ""), form.getlist("agenda_items"), form.get("note", ""),
        ),
        _("The session is added to the organisation of work."),
    )  # fmt: skip


@bp.post("/events/<int:event_id>/sessions/<int:session_id>/delete")
@login_required
def delete_session(event_id: int, session_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    return _act(
        event,
        lambda: cal.delete_session(current_user, event, session_id),
        _("The session is removed."),
    )


@bp.post("/events/<int:event_id>/invitations")
@login_required
def invite(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    return _act(
        event,
        lambda: cal.invite(current_user, event, request.form.getlist("users")),
        _("The invitations are recorded."),
    )


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_event(event_id, current_user)
    return _act(
        event,
        lambda: cal.register(current_user, event, request.form),
        _("Your answer is recorded."),
    )


@bp.get("/events/<int:event_id>/participants")
@login_required
def participants(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_event(event_id, current_user)
    require(policy.can_view_participants(current_user, event))
    return render_template(
        "calendar/participants.html",
        event=event,
        groups=cal.participants_by_country(event),
        participation=cal.participation(event),
        can_manage=policy.can_manage_event(current_user, event),
    )


@bp.post("/events/<int:event_id>/participants/<int:registration_id>/check-in")
@login_required
def check_in(event_id: int, registration_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    registration = cal.check_in(current_user, event, registration_id)
    flash(
        _("%(name)s is checked in.", name=i18n.isolate(registration.name, markup=False)), "success"
    )
    return redirect(url_for("calendar.participants", event_id=event.id))


@bp.post("/events/<int:event_id>/participants/<int:registration_id>/attendance")
@login_required
def attendance(event_id: int, registration_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    attended = request.form.get("attended") == "1"
    cal.set_attended(current_user, event, registration_id, attended)
    flash(_("The attendance record is saved."), "success")
    return redirect(url_for("calendar.participants", event_id=event.id))


@bp.get("/events/<int:event_id>/statistics")
@login_required
def statistics(event_id: int):  # type: ignore[no-untyped-def]
    # Counts of states are no personal data: whoever sees the event sees its statistics.
    event = cal.get_event(event_id, current_user)
    rows = cal.series_participation(current_user, event)
    return render_template(
        "calendar/statistics.html",
        event=event,
        rows=rows,
        chart=cal.chart_data(rows, _viewer_tz()),
    )


@bp.get("/events/<int:event_id>/planner")
@login_required
def planner(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_managed_event(event_id, current_user)
    tz = cal.zone(event.timezone)
    default_day = event.starts_at.astimezone(tz).date()
    args = {
        "first_day": request.args.get("first_day") or default_day.isoformat(),
        "last_day": request.args.get("last_day") or (default_day + timedelta(days=4)).isoformat(),
        "minutes": request.args.get("minutes") or "120",
    }
    errors: dict[str, str] = {}
    proposals: list[cal.Proposal] = []
    code = 200
    try:
        proposals = cal.plan(current_user, event, **args)
    except ValidationError as error:
        errors, code = error.fields, 422
    return render_template(
        "calendar/planner.html",
        event=event,
        args=args,
        errors=errors,
        proposals=proposals,
        people=[i.user for i in event.invitations],
        profiles={i.user_id: cal.profile_of(i.user) for i in event.invitations},
    ), code


# --- Calendar files and the personal feed ----------------------------------------------------


def _base_url() -> str:
    return request.host_url.rstrip("/")


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id: int):  # type: ignore[no-untyped-def]
    event = cal.get_event(event_id, current_user)
    return _ics(calendar_ics.event_ics(event, current_user, _base_url()), f"event-{event.id}.ics")


@bp.get("/feed/<secret>.ics")
def feed(secret: str):  # type: ignore[no-untyped-def]
    person = cal.user_for_feed(secret)
    response = Response(calendar_ics.feed_ics(person, _base_url()), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():  # type: ignore[no-untyped-def]
    """Office hours (for the planner) and the personal feed: regenerate or revoke."""
    errors: dict[str, str] = {}
    code = 200
    if request.method == "POST":
        action = request.form.get("action")
        if action == "regenerate":
            secret = cal.regenerate_feed(current_user)
            # Shown once, in this response only: only the secret's digest is stored.
            flash(_("A new feed address is ready. The previous one no longer works."), "success")
            return render_template(
                "calendar/settings.html",
                profile=cal.profile_of(current_user),
                new_feed_url=url_for("calendar.feed", secret=secret, _external=True),
                errors={},
                viewer_tz=_viewer_tz(),
            )
        if action == "revoke":
            cal.revoke_feed(current_user)
            flash(_("Your feed address is revoked."), "success")
            return redirect(url_for("calendar.settings"))
        try:
            cal.update_office_hours(
                current_user, request.form.get("office_start"), request.form.get("office_end")
            )
        except ValidationError as error:
            errors, code = error.fields, 422
            flash(error.message, "error")
        else:
            flash(_("Your office hours are saved."), "success")
            return redirect(url_for("calendar.settings"))
    return render_template(
        "calendar/settings.html",
        profile=cal.profile_of(current_user),
        new_feed_url=None,
        errors=errors,
        viewer_tz=_viewer_tz(),
    ), code
