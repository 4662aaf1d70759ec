"""Agenda with sub-items, documents per language through the attachment storage, the
organisation of work, invitations, registration, check-in and statistics."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from network.errors import Forbidden, TooLarge, ValidationError
from network.models.calendar import EventDocumentFile
from network.services import attachments
from network.services import calendar as cal
from tests.calendar.conftest import event_data

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _files(db) -> int:
    return db.session.scalar(select(func.count()).select_from(EventDocumentFile))


def test_agenda_items_and_sub_items_in_order(db, people, make_event):
    event = make_event()
    cal.add_agenda_item(people.coordinator, event, "5", "Exchange of best practices")
    cal.add_agenda_item(people.coordinator, event, "1", "Organizational matters")
    cal.add_agenda_item(people.coordinator, event, "5(B)", "Disposal of confiscated proceeds")
    cal.add_agenda_item(
        people.coordinator, event, "5 (a)", "Cooperation for confiscation", "Article 13."
    )
    assert [i.number for i in event.agenda_items] == ["1", "5", "5 (a)", "5 (b)"]
    assert event.agenda_items[2].parent.number == "5"
    assert event.agenda_items[2].annotation == "Article 13."


@pytest.mark.parametrize(
    ("number", "title"), [("6 (a)", "Orphan sub-item"), ("five", "x"), ("1", ""), ("1", "dup")]
)
def test_bad_agenda_items_are_refused(db, people, make_event, number, title):
    event = make_event()
    cal.add_agenda_item(people.coordinator, event, "1", "Opening")
    with pytest.raises(ValidationError):
        cal.add_agenda_item(people.coordinator, event, number, title)
    assert len(event.agenda_items) == 1


def test_documents_have_one_file_per_language_stored_encrypted(db, people, make_event):
    event = make_event()
    item = cal.add_agenda_item(people.coordinator, event, "2", "Review")
    en = cal.add_document(people.coordinator, event, "CTOC/COP/WG.3/2016/1", "Provisional agenda",
                          item.id, "en", ("agenda.pdf", PDF))  # fmt: skip
    fr = cal.add_document(people.coordinator, event, "CTOC/COP/WG.3/2016/1", "", None, "fr",
                          ("ordre-du-jour.pdf", PDF))  # fmt: skip
    assert en.document_id == fr.document_id
    assert en.document.agenda_item.number == "2"
    assert attachments._path_for(en.storage_key).read_bytes() != PDF  # encrypted at rest
    row, data = cal.document_for_download(fr.id, people.member)
    assert data == PDF
    assert row.filename == "ordre-du-jour.pdf"
    with pytest.raises(ValidationError) as caught:
        cal.add_document(people.coordinator, event, "CTOC/COP/WG.3/2016/1", "", None, "en",
                         ("again.pdf", PDF))  # fmt: skip
    assert "language" in caught.value.fields
    # Outside the event's audience, the file is not found.
    from network.errors import NotFound

    with pytest.raises(NotFound):
        cal.document_for_download(fr.id, people.outsider)


def test_wrong_type_oversize_or_unauthorised_documents_write_nothing(db, app, people, make_event):
    event = make_event()
    before = _files(db)
    with pytest.raises(ValidationError):
        cal.add_document(people.coordinator, event, "WG/1", "Script", None, "en",
                         ("agenda.pdf", b"#!/bin/sh\nrm -rf /\n"))  # fmt: skip
    with pytest.raises(ValidationError):
        cal.add_document(people.coordinator, event, "WG/1", "Page", None, "en",
                         ("agenda.pdf", b"<html><script>alert(1)</script></html>"))  # fmt: skip
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    app.config["MAX_ATTACHMENT_BYTES"] = 1024
    try:
        with pytest.raises(TooLarge):
            cal.add_document(people.coordinator, event, "WG/1", "Big", None, "en",
                             ("big.pdf", io.BytesIO(PDF + b"0" * 2048)))  # fmt: skip
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = limit
    with pytest.raises(ValidationError):
        cal.add_document(people.coordinator, event, "bad symbol!", "T", None, "en", ("a.pdf", PDF))
    with pytest.raises(Forbidden):
        cal.add_document(people.member, event, "WG/1", "T", None, "en", ("a.pdf", PDF))
    assert _files(db) == before


def test_document_files_are_not_purged_as_orphans(db, people, make_event):
    event = make_event()
    row = cal.add_document(people.coordinator, event, "WG/2", "Note", None, "en", ("n.pdf", PDF))
    assert attachments._is_referenced(row.storage_key)
    assert attachments._is_referenced(row.storage_key)


def test_organisation_of_work_marks_continued_items_and_refuses_overlaps(db, people, make_event):
    event = make_event(starts_at="2027-03-10T09:00", ends_at="2027-03-12T18:00")
    i3 = cal.add_agenda_item(people.coordinator, event, "3", "Efforts made by States")
    i4 = cal.add_agenda_item(people.coordinator, event, "4", "Joint investigations")
    cal.add_session(people.coordinator, event, "2027-03-10", "15:00", "18:00", [i3.id])
    cal.add_session(people.coordinator, event, "2027-03-11", "10:00", "13:00", [i3.id, i4.id])
    work = cal.organisation_of_work(event)
    assert [day.isoformat() for day, _rows in work] == ["2027-03-10", "2027-03-11"]
    second = work[1][1][0]
    assert second.slot == "10:00-13:00"
    assert [(i.number, continued) for i, continued in second.items] == [("3", True), ("4", False)]
    for day, start, end, field in [
        ("2027-03-11", "12:00", "14:00", "start"),  # overlaps 10:00-13:00
        ("2027-03-11", "16:00", "15:00", "end"),  # ends before it starts
        ("2027-02-30", "10:00", "11:00", "day"),
    ]:
        with pytest.raises(ValidationError) as caught:
            cal.add_session(people.coordinator, event, day, start, end, [])
        assert field in caught.value.fields
    assert len(event.sessions) == 2


def test_registration_rsvp_country_mode_and_capital_based(db, people, make_event):
    event = make_event()
    registration = cal.register(people.member, event, {"status": "accepted", "country": "SN",
                                "attendance_mode": "remote", "capital_based": "1"})  # fmt: skip
    assert (registration.country, registration.attendance_mode, registration.capital_based) == (
        "SN", "remote", True)  # fmt: skip
    cal.register(people.member, event, {"status": "tentative", "country": "SN"})
    assert len(event.registrations) == 1
    assert event.registrations[0].status == "tentative"
    with pytest.raises(ValidationError):
        cal.register(people.observer, event, {"status": "accepted", "country": "XX"})


def test_registration_closed_after_deadline_or_when_not_open(db, people, make_event):
    past = make_event(registration_deadline="2020-01-01T00:00")
    with pytest.raises(ValidationError, match="deadline"):
        cal.register(people.member, past, {"country": "SN"})
    closed = make_event(registration_open="")
    with pytest.raises(ValidationError):
        cal.register(people.member, closed, {"country": "SN"})
    cal.invite(people.coordinator, closed, [people.member.id])  # the invited may answer
    assert cal.register(people.member, closed, {"country": "SN", "status": "declined"})
    cal.cancel_event(people.coordinator, past)
    with pytest.raises(ValidationError, match="cancelled"):
        cal.register(people.observer, past, {"country": "SN"})


def test_an_organiser_invites_only_active_people_they_can_reach(db, people, make_event, make_user):
    """Invitations show names and addresses to the organiser: an account out of their
    reach, inactive or missing is refused alike, and nothing of the invitation is kept."""
    event = make_event(visibility="invited", status="draft")
    gone = make_user("contact_point", people.wacap)
    gone.is_active_account = False
    db.session.commit()
    refused = []
    for wanted in (people.outsider.id, gone.id, 999_999, 2**40):
        with pytest.raises(ValidationError) as caught:
            cal.invite(people.coordinator, event, [people.member.id, wanted])
        refused.append(caught.value.fields)
    assert refused == [{"users": "Some of the people chosen cannot be invited."}] * 4
    db.session.expire_all()
    assert event.invitations == []
    cal.invite(people.coordinator, event, [people.member.id, people.observer.id])
    assert {i.user_id for i in event.invitations} == {people.member.id, people.observer.id}


def test_a_directory_listing_makes_someone_of_another_network_invitable(
    db, people, make_event, listed_outsider
):
    event = make_event(visibility="invited")
    assert people.outsider not in cal.invite_candidates(event, people.coordinator)
    cal.invite(people.coordinator, event, [listed_outsider.id])
    assert [i.user_id for i in event.invitations] == [listed_outsider.id]


def test_the_invitation_list_offers_only_people_the_organiser_can_reach(db, people, make_user):
    admin = make_user(admin=True)
    joint = cal.create_event(admin, event_data(networks=["wacap", "iberred"]))
    offered = set(cal.invite_candidates(joint, people.coordinator))
    assert people.member in offered
    assert not offered & {people.outsider, people.other_coordinator}
    assert {people.outsider, people.other_coordinator} <= set(cal.invite_candidates(joint, admin))


def test_in_person_only_event_refuses_remote_attendance(db, people, make_event):
    event = make_event(format="in_person", online_url="")
    with pytest.raises(ValidationError) as caught:
        cal.register(people.member, event, {"country": "SN", "attendance_mode": "remote"})
    assert "attendance_mode" in caught.value.fields


def test_conflict_warning_for_overlapping_registered_events(db, people, make_event):
    first = make_event(title="Plenary", starts_at="2027-03-10T09:00", ends_at="2027-03-10T17:00")
    second = make_event(title="Workshop", starts_at="2027-03-10T16:00", ends_at="2027-03-10T18:00")
    third = make_event(title="Later", starts_at="2027-03-11T09:00", ends_at="2027-03-11T10:00")
    cal.register(people.member, first, {"country": "SN"})
    cal.register(people.member, second, {"country": "SN"})
    assert [o.event.title for o in cal.conflicts(people.member, second)] == ["Plenary"]
    assert cal.conflicts(people.member, third) == []
    cal.cancel_event(people.coordinator, first)
    assert cal.conflicts(people.member, second) == []


def test_participants_grouped_by_country_check_in_and_statistics(db, people, make_event, make_user):
    event = make_event(series="WACAP plenaries")
    ghana = make_user("contact_point", people.wacap)
    cal.register(people.member, event, {"country": "SN", "capital_based": "1"})
    cal.register(people.observer, event, {"country": "SN"})
    cal.register(ghana, event, {"country": "GH"})
    groups = cal.participants_by_country(event)
    assert [(c, len(rows)) for c, rows in groups] == [("GH", 1), ("SN", 2)]
    with pytest.raises(Forbidden):
        cal.check_in(people.member, event, event.registrations[0].id)
    for registration in event.registrations[:2]:
        cal.check_in(people.secretariat, event, registration.id)
    stats = cal.participation(event)
    assert (stats.states_registered, stats.states_attending, stats.states_capital_based) == (
        2,
        1,
        1,
    )
    assert stats.capital_share == 100
    cal.set_attended(people.coordinator, event, event.registrations[0].id, False)
    assert cal.participation(event).states_capital_based == 0


def test_planner_ranks_times_by_participants_within_office_hours(db, people, make_event, make_user):
    event = make_event(status="draft", timezone="Europe/Madrid", starts_at="2027-06-07T10:00",
                       ends_at="2027-06-07T12:00")  # fmt: skip
    lagos, bogota, manila = (make_user("contact_point", people.wacap) for _ in range(3))
    lagos.timezone, bogota.timezone, manila.timezone = (
        "Africa/Lagos",
        "America/Bogota",
        "Asia/Manila",
    )
    db.session.commit()
    cal.update_office_hours(bogota, "08:00", "16:00")  # an early starter
    cal.invite(people.coordinator, event, [lagos.id, bogota.id, manila.id])
    proposals = cal.plan(people.coordinator, event, "2027-06-07", "2027-06-07", 60)
    best = proposals[0]
    # Manila (UTC+8, 09-17) and Lagos (UTC+1, 09-17) share 08:00-09:00 UTC; nobody can have
    # Manila and Bogotá (UTC-5) in office hours at once, so 2 of 3 is the best.
    assert best.inside == 2
    assert best.starts_at == datetime(2027, 6, 7, 8, 0, tzinfo=UTC)
    local = {p.timezone: (t.strftime("%H:%M"), ok) for p, t, ok in best.per_person}
    assert local == {
        "Africa/Lagos": ("09:00", True),
        "America/Bogota": ("03:00", False),
        "Asia/Manila": ("16:00", True),
    }
    # Lagos and Bogotá (from 08:00 there, 13:00 UTC) meet in the afternoon in Europe.
    afternoon = [p for p in proposals if p.starts_at == datetime(2027, 6, 7, 13, 0, tzinfo=UTC)]
    assert afternoon
    assert afternoon[0].inside == 2
    assert all(p.inside <= best.inside for p in proposals)
    with pytest.raises(ValidationError):
        cal.plan(people.coordinator, event, "2027-06-07", "2027-05-01", 60)
    with pytest.raises(ValidationError):
        cal.update_office_hours(manila, "18:00", "08:00")
    assert cal.profile_of(manila).office_start.hour == 9  # default 09:00-17:00 kept
