"""Who may see or do what: the one place every page, API call, socket event and export asks.

Predicates are pure: they answer True or False and never abort. The caller turns a False
into a 403 (or hides a button, which is never the protection).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from network.models.people import Role

if TYPE_CHECKING:
    from network.models.directory import ContactPoint, Network
    from network.models.messaging import Channel

# Roles that keep a network's directory current (DOMAIN.md: coordinators and
# secretariats run a network).
DIRECTORY_MANAGERS = frozenset({Role.COORDINATOR, Role.SECRETARIAT})


def is_signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_admin(user: Any) -> bool:
    return is_signed_in(user) and bool(getattr(user, "is_admin", False))


def role_in(user: Any, network: Network) -> Role | None:
    if not is_signed_in(user):
        return None
    return user.role_in(network.id)


def _channel_role(user: Any, channel: Channel) -> Role | None:
    """The person's role in the channel's network (None without one). Asked through the
    channel's ``network_id``, so that the check does not load the network and its names
    in every language (two queries on every socket event of a network channel)."""
    if not is_signed_in(user) or channel.network_id is None:
        return None
    return user.role_in_one(channel.network_id)


def readable_network_ids(user: Any) -> set[int] | None:
    """The networks whose directory ``user`` may read; ``None`` means every network."""
    if is_admin(user):
        return None
    if not is_signed_in(user):
        return set()
    return {m.network_id for m in user.memberships}


def managed_network_ids(user: Any) -> set[int] | None:
    """The networks whose directory ``user`` may edit; ``None`` means every network."""
    if is_admin(user):
        return None
    if not is_signed_in(user):
        return set()
    return {m.network_id for m in user.memberships if Role(m.role) in DIRECTORY_MANAGERS}


def can_view_network_listing(user: Any, network: Network) -> bool:
    """Networks and their member states are public."""
    return True


def can_read_directory(user: Any, network: Network) -> bool:
    """Everything about people is for signed-in members of the network."""
    return is_admin(user) or role_in(user, network) is not None


def can_manage_directory(user: Any, network: Network) -> bool:
    """Create, edit, import, hand over and remind, within one network."""
    return is_admin(user) or role_in(user, network) in DIRECTORY_MANAGERS


def can_manage_network(user: Any, network: Network) -> bool:
    """Edit the network's details and member states."""
    return can_manage_directory(user, network)


def is_own_entry(user: Any, contact_point: ContactPoint) -> bool:
    return is_signed_in(user) and contact_point.user_id == user.id


def can_read_contact_point(user: Any, contact_point: ContactPoint) -> bool:
    if is_admin(user) or is_own_entry(user, contact_point):
        return True
    return any(can_read_directory(user, n) for n in contact_point.networks)


def can_edit_contact_point(user: Any, contact_point: ContactPoint) -> bool:
    if is_admin(user):
        return True
    return any(can_manage_directory(user, n) for n in contact_point.networks)


def can_confirm_contact_point(user: Any, contact_point: ContactPoint) -> bool:
    """A person confirms their own entry; the secretariat may confirm on their behalf."""
    return is_own_entry(user, contact_point) or can_edit_contact_point(user, contact_point)


def can_end_session(user: Any, record: Any) -> bool:
    """A person signs out their own sessions (other browsers) and nobody else's;
    administrators end everyone's sessions together (``can_manage_users``)."""
    return is_signed_in(user) and record.user_id == user.id


def can_manage_users(user: Any) -> bool:
    return is_admin(user)


class SystemActor:
    """The platform itself, acting from the command line (seed, import): an administrator
    with no account, recorded in the audit trail as "system"."""

    is_authenticated = True
    is_admin = True
    is_active = True
    id = None
    name = "system"
    memberships: tuple[()] = ()

    def role_in(self, network_id: int) -> None:
        return None

    def role_in_one(self, network_id: int) -> None:
        return None

    def belongs_to(self, network_id: int) -> bool:
        return False


SYSTEM = SystemActor()


def can_manage_any_directory(user: Any) -> bool:
    """Whether ``user`` keeps at least one network's directory (import, new entries)."""
    return managed_network_ids(user) != set()


def can_manage_members(user: Any, network: Network) -> bool:
    """Add, remove and change the roles of a network's members."""
    return is_admin(user) or role_in(user, network) in DIRECTORY_MANAGERS


# --- Channels -----------------------------------------------------------------------------
# Network channels are read by every member of the network (and site administrators, who
# run the platform); every other kind of channel is private to its explicit members:
# administrators do not read case, topic or direct conversations they are not part of.
CHANNEL_WRITERS = frozenset({Role.CONTACT_POINT, Role.COORDINATOR, Role.SECRETARIAT})


def is_channel_member(user: Any, channel: Channel) -> bool:
    # ``member_for`` looks up this one person's row (channels of hundreds of members are
    # not loaded whole for every event).
    return is_signed_in(user) and channel.member_for(user.id) is not None


def can_read_channel(user: Any, channel: Channel) -> bool:
    """Network channels: the network's members (and administrators). Topic channels (a
    network's working groups): their members who still belong to the network. Case,
    direct and consultation channels: their members."""
    if not is_signed_in(user):
        return False
    if channel.kind == "network" and channel.network_id is not None:
        return is_admin(user) or _channel_role(user, channel) is not None
    if channel.kind == "topic" and channel.network_id is not None:
        # Removed from the network, out of its working groups too, even before the
        # removal's clean-up (messaging.evict_from_network) has run.
        return is_channel_member(user, channel) and user.belongs_to(channel.network_id)
    return is_channel_member(user, channel)


def can_write_channel(user: Any, channel: Channel) -> bool:
    """Observers read a network's channel but do not post; archived channels are read-only."""
    if channel.archived_at is not None:
        return False
    if channel.kind == "network" and channel.network_id is not None:
        # A writer's role is a member's: one question answers both (one query per event).
        return _channel_role(user, channel) in CHANNEL_WRITERS
    return can_read_channel(user, channel)


def is_channel_owner(user: Any, channel: Channel) -> bool:
    if not is_signed_in(user):
        return False
    member = channel.member_for(user.id)
    return member is not None and member.is_owner


def can_manage_channel(user: Any, channel: Channel) -> bool:
    """Invite and remove members, rename, archive, set retention.

    Network channels: the network's coordinators and secretariats (members come from the
    network). Topic channels: their owners, or a coordinator or secretariat of the
    channel's network. Case, direct and consultation channels: only their owners, so that
    nobody outside a case can add themselves to it.
    """
    if not is_signed_in(user):
        return False
    if channel.kind == "network":
        return _channel_role(user, channel) in DIRECTORY_MANAGERS
    if is_channel_owner(user, channel):
        return True
    if channel.kind == "topic" and channel.network_id is not None:
        return _channel_role(user, channel) in DIRECTORY_MANAGERS
    return False


def can_manage_channel_members(user: Any, channel: Channel) -> bool:
    """Add and remove members and hand ownership over through the channel's own operations
    (pages, API): whoever manages the channel, except for a consultation room's channel,
    which nobody changes that way. People come into a room only through the consultation's
    invitations (``can_be_invited_to_consultation``: for a case's room, the case's
    members), and leave it through the consultation, so that a moderator cannot let
    someone outside the case read its room."""
    return channel.kind != "consultation" and can_manage_channel(user, channel)


def can_archive_channel(user: Any, channel: Channel) -> bool:
    """Archive a channel or open it again: whoever manages it, except a consultation
    room's channel, which the consultation archives when it ends; opening it again would
    let an ended room's transcript be changed."""
    return channel.kind != "consultation" and can_manage_channel(user, channel)


def can_leave_channel(user: Any, channel: Channel) -> bool:
    """Leave a channel oneself: its members, except in a consultation room, whose people
    the consultation keeps (see ``can_manage_channel_members``)."""
    return channel.kind != "consultation" and is_channel_member(user, channel)


def can_create_topic_channel(user: Any, network: Network) -> bool:
    """A working group of a network: opened by its contact points, coordinators and
    secretariats (observers read only)."""
    return role_in(user, network) in CHANNEL_WRITERS


def can_start_direct_conversation(user: Any) -> bool:
    """Direct conversations cross networks: anyone who may write in some network."""
    return is_signed_in(user) and any(Role(m.role) in CHANNEL_WRITERS for m in user.memberships)


def can_be_added_to_channel(user: Any, channel: Channel) -> bool:
    """Who may be made a member: topic channels take members of their network; case and
    direct channels take anyone with an active account. Consultation rooms take nobody
    this way (``can_be_invited_to_consultation`` decides who comes in)."""
    if not is_signed_in(user):
        return False
    if channel.kind == "topic" and channel.network_id is not None:
        return _channel_role(user, channel) is not None
    return channel.kind in {"case", "direct"}


def can_delete_message(user: Any, message: Any) -> bool:
    """Its author or the channel's managers, while the channel is not archived: an
    archived channel (an ended consultation's transcript, a closed working group) is a
    record, and stays as it was."""
    if not is_signed_in(user) or message.channel.archived_at is not None:
        return False
    return message.author_id == user.id or can_manage_channel(user, message.channel)


def can_view_receipts(user: Any, message: Any) -> bool:
    """Certified receipts of a case-channel message: its sender."""
    return (
        is_signed_in(user)
        and message.channel.kind == "case"
        and message.author_id == user.id
        and can_read_channel(user, message.channel)
    )


def can_download_attachment(user: Any, attachment: Any) -> bool:
    """A file goes with its channel: whoever may read the channel, and nobody else."""
    return attachment.message_id is not None and can_read_channel(user, attachment.channel)


# --- Cases ----------------------------------------------------------------------------------
# A case record is as confidential as its case channel: its members read it; its writing
# members update it; nobody else (administrators included) sees it.
CASE_CREATORS = CHANNEL_WRITERS


def can_create_case(user: Any, network: Network) -> bool:
    return role_in(user, network) in CASE_CREATORS


def can_read_case(user: Any, case: Any) -> bool:
    return can_read_channel(user, case.channel)


def can_update_case(user: Any, case: Any) -> bool:
    """Status, deadline, priority criteria: the case channel's members who may write."""
    return can_write_channel(user, case.channel)


def can_manage_case_members(user: Any, case: Any) -> bool:
    return can_manage_channel(user, case.channel)


# --- Audit ----------------------------------------------------------------------------------


def can_view_audit(user: Any, network: Network | None = None) -> bool:
    """The audit log: administrators see all of it; a network's secretariat sees the events
    of that network and its channels."""
    if is_admin(user):
        return True
    return network is not None and role_in(user, network) == Role.SECRETARIAT


def audit_network_ids(user: Any) -> set[int] | None:
    """The networks whose audit events ``user`` may read; ``None`` means all of them."""
    if is_admin(user):
        return None
    if not is_signed_in(user):
        return set()
    return {m.network_id for m in user.memberships if Role(m.role) == Role.SECRETARIAT}


# --- Audit log views (search, retention and audit work) ---------------------------------------


def can_view_audit_log(user: Any) -> bool:
    """Whether the audit log opens at all: administrators, and the secretariat of at least
    one network (who then see only the events of their networks, ``audit_network_ids``)."""
    return audit_network_ids(user) != set()


# --- Calendar (events, agenda, documents, registrations) ----------------------------------
# Coordinators and secretariats of an organising network run its events. Who sees an
# event follows its visibility: "public" everyone, "members" the members of an organising
# network, "invited" the invited people; organisers always, and a draft only organisers
# and invited people. Cancelled events stay visible (so calendars show the cancellation).
EVENT_ORGANISERS = DIRECTORY_MANAGERS


def can_create_event(user: Any, network: Network) -> bool:
    return is_admin(user) or role_in(user, network) in EVENT_ORGANISERS


def can_create_any_event(user: Any) -> bool:
    return managed_network_ids(user) != set()


def _is_invited(user: Any, event: Any) -> bool:
    return is_signed_in(user) and any(i.user_id == user.id for i in event.invitations)


def can_manage_event(user: Any, event: Any) -> bool:
    """Edit, cancel, agenda, documents, sessions, invitations, check-in, statistics."""
    if is_admin(user):
        return True
    return any(role_in(user, network) in EVENT_ORGANISERS for network in event.networks)


def can_link_consultation_to_event(user: Any, event: Any) -> bool:
    """Tie a live consultation room to the event (its room, ``calendar_event_id``): the
    event's organisers only, so that nobody else takes the room of their event."""
    return can_manage_event(user, event)


def can_view_event(user: Any, event: Any) -> bool:
    """In their own right, or as a trainer or trainee of a cohort linked to the event."""
    return can_view_event_in_own_right(user, event) or _takes_part_in_linked_cohort(user, event)


def can_view_event_in_own_right(user: Any, event: Any) -> bool:
    """What the person's own roles, memberships and invitations show them of the calendar,
    leaving aside any training cohort linked to the event."""
    if can_manage_event(user, event):
        return True
    if event.status == "draft":
        return _is_invited(user, event)
    if event.visibility == "public":
        return True
    if _is_invited(user, event):
        return True
    return event.visibility == "members" and any(
        role_in(user, network) is not None for network in event.networks
    )


def can_link_event_to_cohort(
    user: Any, programme: Any, event: Any, leader: Any | None = None
) -> bool:
    """Tie a cohort of ``programme`` to ``event``: an event the programme's network organises
    that ``user`` sees in their own right. A link shows the event to the cohort's trainers
    and trainees, so nobody may pass on an event they could not see themselves. For a
    cascade cohort the trainer who leads it (``leader``) must see it in their own right too,
    or the link would show nothing (``_link_shows_event``)."""
    if not any(network.id == programme.network_id for network in event.networks):
        return False
    if not can_view_event_in_own_right(user, event):
        return False
    return leader is None or can_view_event_in_own_right(leader, event)


def _link_shows_event(cohort: Any, event: Any) -> bool:
    """A cohort's link shows the event only while whoever answers for the cohort sees it in
    their own right: the leading trainer of a cascade cohort, and for the programme's own
    cohorts its network's managers (who run every event their network organises). A link
    recorded by someone who could not see the event therefore shows nothing."""
    if cohort.parent_trainer_id is not None:
        leader = cohort.parent_trainer
        return leader is not None and can_view_event_in_own_right(leader, event)
    return any(network.id == cohort.programme.network_id for network in event.networks)


def _takes_part_in_linked_cohort(user: Any, event: Any) -> bool:
    """The trainers and the trainees (with an account) of a training cohort linked to the
    event see it, whatever their networks: it is their course's session. Only while the
    link holds (``_link_shows_event``)."""
    if not is_signed_in(user) or user.id is None:
        return False
    from sqlalchemy import exists, or_, select

    from network.extensions import db
    from network.models.training import Cohort, Enrolment, cohort_trainers

    trainer = exists().where(
        cohort_trainers.c.cohort_id == Cohort.id, cohort_trainers.c.user_id == user.id
    )
    trainee = exists().where(Enrolment.cohort_id == Cohort.id, Enrolment.user_id == user.id)
    cohorts = db.session.scalars(
        select(Cohort).where(Cohort.event_id == event.id, or_(trainer, trainee))
    )
    return any(_link_shows_event(cohort, event) for cohort in cohorts)


def can_register_for_event(user: Any, event: Any) -> bool:
    """Self-registration while open, or an invited person answering; never once cancelled.
    (The deadline is a rule of the service, which says why it refuses.)"""
    if not is_signed_in(user) or event.status != "scheduled" or not can_view_event(user, event):
        return False
    return bool(event.registration_open) or _is_invited(user, event)


def can_view_participants(user: Any, event: Any) -> bool:
    """The participant list: organisers, and registered or invited people of the event."""
    if can_manage_event(user, event):
        return True
    if not can_view_event(user, event) or not is_signed_in(user):
        return False
    return _is_invited(user, event) or any(r.user_id == user.id for r in event.registrations)


def can_download_event_document(user: Any, document_file: Any) -> bool:
    return can_view_event(user, document_file.document.event)


# --- Training (trainer-of-trainers tracker) --------------------------------------------------
# A network's coordinators and secretariats run its programmes: they see every cohort,
# score and report. Coordinators (not secretariats) certify trainers. A trainer sees and
# updates only the cohorts they train (or lead as a cascade trainer); a trainee sees only
# their own progress and scores. Other members of the network see the programme's outline
# (title, description, modules); members of other networks see nothing.
TRAINING_MANAGERS = DIRECTORY_MANAGERS


def can_manage_programme(user: Any, programme: Any) -> bool:
    """Edit the programme and its modules, open cohorts, read every score and report."""
    return is_admin(user) or role_in(user, programme.network) in TRAINING_MANAGERS


def can_create_programme(user: Any, network: Network) -> bool:
    return is_admin(user) or role_in(user, network) in TRAINING_MANAGERS


def is_cohort_trainer(user: Any, cohort: Any) -> bool:
    if not is_signed_in(user):
        return False
    return cohort.parent_trainer_id == user.id or any(t.id == user.id for t in cohort.trainers)


def is_trainee_of(user: Any, programme: Any) -> bool:
    return is_signed_in(user) and any(
        e.user_id == user.id for c in programme.cohorts for e in c.enrolments
    )


def can_view_programme(user: Any, programme: Any) -> bool:
    """The outline: the network's members, and the programme's trainers and trainees."""
    if can_manage_programme(user, programme) or role_in(user, programme.network) is not None:
        return True
    return any(is_cohort_trainer(user, c) for c in programme.cohorts) or is_trainee_of(
        user, programme
    )


def can_read_cohort(user: Any, cohort: Any) -> bool:
    """The cohort's grid of trainees, progress and scores."""
    return can_manage_programme(user, cohort.programme) or is_cohort_trainer(user, cohort)


def can_update_cohort(user: Any, cohort: Any) -> bool:
    """Enrol trainees, sign modules off, record paper test scores: the cohort's trainers."""
    return is_cohort_trainer(user, cohort)


def can_manage_cohort(user: Any, cohort: Any) -> bool:
    """Change the cohort's details and trainers: the programme's managers, and the
    certified trainer who leads a cascade cohort."""
    return can_manage_programme(user, cohort.programme) or (
        is_signed_in(user) and cohort.parent_trainer_id == user.id
    )


def is_own_enrolment(user: Any, enrolment: Any) -> bool:
    return is_signed_in(user) and enrolment.user_id is not None and enrolment.user_id == user.id


def can_read_enrolment(user: Any, enrolment: Any) -> bool:
    """A trainee's progress and scores: the trainee, the cohort's trainers, the managers."""
    return is_own_enrolment(user, enrolment) or can_read_cohort(user, enrolment.cohort)


def can_take_test(user: Any, enrolment: Any) -> bool:
    """Only the trainee takes their own pre- and post-test online."""
    return is_own_enrolment(user, enrolment)


def can_declare_gender(user: Any, enrolment: Any) -> bool:
    """Gender is self-declared: the trainee sets their own."""
    return is_own_enrolment(user, enrolment)


def can_certify(user: Any, programme: Any) -> bool:
    return is_admin(user) or role_in(user, programme.network) == Role.COORDINATOR


def can_lead_cascade(user: Any, programme: Any) -> bool:
    """A trainer certified in this programme records the cohorts they lead at home."""
    if not is_signed_in(user):
        return False
    return any(
        e.user_id == user.id and e.certificate is not None
        for c in programme.cohorts
        for e in c.enrolments
    )


def can_view_certificate(user: Any, certificate: Any) -> bool:
    """The full printable certificate: its holder and the programme's managers."""
    return is_own_enrolment(user, certificate.enrolment) or can_manage_programme(
        user, certificate.programme
    )


def can_download_material(user: Any, material: Any) -> bool:
    return can_view_programme(user, material.module.programme)


def training_programme_network_ids(user: Any) -> set[int] | None:
    """Networks whose programmes ``user`` may list as a member; ``None`` means all."""
    return readable_network_ids(user)


# --- Live consultations (issue 6) -------------------------------------------------------------
# A consultation room is as confidential as where it was started from. It is opened from a
# case channel or a direct conversation by a member who may write there, or through the API
# by anyone who may start conversations. Invited people wait until the moderator admits
# them; admitted people are the members of the room's channel. When the room belongs to a
# case, every right below also needs the case itself: a person removed from the case loses
# the room at once (and a moderator who leaves the case no longer moderates).


def can_start_consultation(user: Any) -> bool:
    """A consultation through the API without a case: whoever may start conversations."""
    return can_start_direct_conversation(user)


def can_start_consultation_from(user: Any, channel: Channel) -> bool:
    """From a case channel or a direct conversation: its members who may write in it."""
    return channel.kind in {"case", "direct"} and can_write_channel(user, channel)


def _keeps_case(user: Any, consultation: Any) -> bool:
    case = consultation.case
    return case is None or can_read_case(user, case)


def is_consultation_moderator(user: Any, consultation: Any) -> bool:
    return (
        is_signed_in(user)
        and consultation.moderator_id is not None
        and consultation.moderator_id == user.id
        and _keeps_case(user, consultation)
    )


def can_moderate_consultation(user: Any, consultation: Any) -> bool:
    """Invite, admit, remove and end: the moderator, while the room is not ended."""
    return not consultation.is_ended and is_consultation_moderator(user, consultation)


def can_join_consultation(user: Any, consultation: Any) -> bool:
    """Enter the live room (presence, messages, voice and video): its admitted members,
    while it is not ended and they still belong to its case."""
    if consultation.is_ended or not _keeps_case(user, consultation):
        return False
    return is_channel_member(user, consultation.channel)


def can_wait_for_consultation(user: Any, consultation: Any) -> bool:
    """Knock at the door (wait to be admitted): an invited person."""
    if consultation.is_ended or not is_signed_in(user) or not _keeps_case(user, consultation):
        return False
    participant = consultation.participant_for(user.id)
    return participant is not None and participant.state == "invited"


def can_be_invited_to_consultation(person: Any, consultation: Any) -> bool:
    """Who may be invited: any active account; for a case's room, the case's members."""
    return is_signed_in(person) and _keeps_case(person, consultation)


def can_read_consultation(user: Any, consultation: Any) -> bool:
    """The room's page and its transcript: its members, invited people (the door), and,
    when it belongs to a case, the case's members (the record stays with the case)."""
    if not is_signed_in(user):
        return False
    if consultation.case is not None and can_read_case(user, consultation.case):
        return True
    if not _keeps_case(user, consultation):
        return False
    return is_channel_member(user, consultation.channel) or can_wait_for_consultation(
        user, consultation
    )


def can_read_consultation_transcript(user: Any, consultation: Any) -> bool:
    """The transcript (text and printable page): whoever reads the room, except an invited
    person who was never admitted (they saw nothing of it)."""
    if not can_read_consultation(user, consultation):
        return False
    if consultation.case is not None and can_read_case(user, consultation.case):
        return True
    return is_channel_member(user, consultation.channel)


# --- Sessions and accounts (issue 8) ----------------------------------------------------


def must_enrol_second_factor(user: Any) -> bool:
    """A member of a network that requires two-factor sign-in, without it: sent to enrol
    before anything else (ASVS 2.2.x / 1.2.x at level 2)."""
    if not is_signed_in(user) or user.totp_enabled:
        return False
    return any(m.network.require_2fa for m in user.memberships)


def can_require_second_factor(user: Any, network: Network) -> bool:
    """Turn the network's two-factor requirement on or off: whoever edits the network
    (its coordinators, an administrator)."""
    return can_manage_network(user, network)
