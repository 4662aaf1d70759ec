"""The authorisation matrix, generated from the application itself (issue 8; OWASP ASVS
V4.1.1, V4.1.3, V4.1.5, V4.2.1, V13.1.4).

Every rule of ``app.url_map`` (every method but HEAD and OPTIONS, static files aside) and
every client→server Socket.IO event registered on the server is tried by every role below,
and what each role gets is compared with ``EXPECTED``: a route or an event that has no
entry there fails the test, with the line to add. The table is the access policy in one
place; reviewing a new line is reviewing who may do what.

The world is the demo data (``network seed-demo``: WACAP and its people, cases, calendar,
training, consultations) plus a case of our own whose members are known: the contact
point opened it and the secretariat is in it; the coordinator, the trainer and everyone
else are not. In that case: a message with a file and an open consultation moderated by
the contact point, with the secretariat admitted.

Roles (columns of the table, in this order):
    anonymous      nobody signed in
    other          a contact point of another network (Great Lakes)
    observer       WACAP observer (reads, never writes)
    contact_point  WACAP contact point: owner of the case, moderator of its room
    trainer        WACAP contact point who trains cohort 1, and is NOT in the case
    coordinator    WACAP coordinator, NOT in the case
    secretariat    WACAP secretariat, member of the case and of its room
    admin          runs the platform, member of nothing

Each HTTP request carries a valid CSRF token (forms: the field; the JSON API: the
``X-CSRFToken`` header), so that what is tested is the access check, not CSRF; bodies are
empty (harmless). Each request and socket event runs inside a savepoint rolled back after
it, with the client's cookies put back, so no cell depends on another one.

Outcomes: the HTTP status, or ``login`` for a redirect to the sign-in form; for socket
events ``ok`` or the HTTP status of the same refusal (``not_found`` 404, ``forbidden``
403, ``validation_error`` 422), and ``off`` when the connection itself is refused. Then
what the answer reveals: ``c`` when it shows anything of the case (its reference, the
word of its message, its room's title; for ``watch``, the case channel listed) and ``e``
when it shows the WACAP plenary, an event for WACAP's members only. So the table proves
who may see as well as who may act: a list, a search, an export or an acknowledgement
that shows the case to someone outside it fails the test.

Recording: ``MATRIX_RECORD=/tmp/table.txt pytest tests/security/test_authorization_matrix.py``
writes the observed table in the format of ``EXPECTED`` (review it line by line: it is
the policy).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from network.extensions import limiter, socketio
from network.models.calendar import (
    AgendaItem,
    EventDocument,
    EventDocumentFile,
    EventSession,
    Registration,
)
from network.models.calendar import Event as CalendarEvent
from network.models.directory import ContactPoint, Network
from network.models.messaging import Notification
from network.models.people import Membership
from network.models.training import (
    Certificate,
    Cohort,
    Enrolment,
    Material,
    Module,
    Programme,
    Question,
)
from network.services import (
    accounts,
    attachments,
    cases,
    consultations,
    demo,
    messaging,
    sessions,
)
from tests.attachments import samples

ROLES = (
    "anonymous",
    "other",
    "observer",
    "contact_point",
    "trainer",
    "coordinator",
    "secretariat",
    "admin",
)
ACCOUNTS = {
    "other": "contact.kenya@example.org",
    "observer": "observer.wacap@example.org",
    "contact_point": "contact.senegal@example.org",
    "trainer": "trainer.wacap@example.org",
    "coordinator": "coordinator.wacap@example.org",
    "secretariat": "secretariat.wacap@example.org",
    "admin": "admin@example.org",
}
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
# What must not leak: the case (reference, the word of its message, its room's title) and
# the WACAP plenary (an event for WACAP's members only).
MARKER = "zebramatrix"
REFERENCE = "MATRIX-2026-001"
CASE_MARKERS = (MARKER, REFERENCE)
EVENT_TITLE = "WACAP annual plenary"
SOCKET_LIFECYCLE = {"connect", "disconnect"}

# Expected outcome per role, in the order of ROLES.
# Capability URLs (a token, a feed secret, a certificate's code) are the same for everyone:
# the secret is the credential, and a wrong one is refused whoever asks.
# fmt: off
EXPECTED: dict[str, str] = {
    # method endpoint                          anon  other obs   cp    train coord secr  admin
    "GET main.home":                             "200   200   200e  200e  200e  200e  200e  200e",
    "GET account.settings":                      "login 200   200   200   200   200   200   200",
    "POST account.settings":                     "login 200   200   200   200   200   200   200",
    "GET account.two_factor":                    "login 200   200   200   200   200   200   200",
    "POST account.two_factor":                   "login 422   422   422   422   422   422   422",
    "GET account.two_factor_qr":                 "login 404   404   404   404   404   404   404",
    "POST account.change_password":              "login 302   302   302   302   302   302   302",
    "POST account.create_token":                 "login 302   302   302   302   302   302   302",
    "POST account.revoke_token":                 "login 404   404   302   404   404   404   404",
    # Another browser of the contact point's: only they may sign it out.
    "POST account.end_session":                  "login 404   404   302   404   404   404   404",
    "POST account.end_other_sessions":           "login 302   302   302   302   302   302   302",
    # Recovery codes: the signed-in person for their own account (issue 8, sessions).
    "POST account.recovery_codes":               "login 302   302   302   302   302   302   302",
    # Re-authentication before sensitive actions: anyone signed in proves it again.
    "GET auth.reauthenticate":                   "login 200   200   200   200   200   200   200",
    "POST auth.reauthenticate":                  "login 422   422   422   422   422   422   422",
    "GET admin.user_list":                       "login 403   403   403   403   403   403   200",
    "POST admin.change":                         "login 403   403   403   403   403   403   302",
    "DELETE attachments.discard_upload":         "401   404   404   404   404   404   404   404",
    "GET api_cases.list_cases":                  "401   200   200   200c  200   200   200c  200",
    "POST api_cases.create_case":                "401   403   403   422   422   422   422   403",
    "GET api_cases.get_case":                    "401   404   404   200c  404   404   200c  404",
    "PATCH api_cases.update_case":               "401   404   404   200c  404   404   200c  404",
    "POST api_cases.change_status":              "401   404   404   422   404   404   422   404",
    "GET api.channels":                          "401   200   200   200c  200   200   200c  200",
    "POST api.create_channel":                   "401   422   422   201   201   201   201   422",
    "POST attachments.upload":                   "401   404   404   422   404   404   422   404",
    "GET api.channel_members":                   "401   404   404   200   404   404   200   404",
    "POST api.add_channel_members":              "401   404   404   422   404   404   403   404",
    "DELETE api.remove_channel_member":          "401   404   404   204   404   404   204   404",
    "GET api.channel_messages":                  "401   404   404   200c  404   404   200c  404",
    "POST api.post_channel_message":             "401   404   404   201   404   404   201   404",
    "POST api_consultations.api_create":         "401   422   403   422   422   422   422   403",
    "GET api_consultations.api_get":             "401   404   404   200c  404   404   200c  404",
    "GET api.contact_points":                    "401   200   200   200   200   200   200   200",
    "GET api.contact_point":                     "401   403   200   200   200   200   200   200",
    "GET api.contact_point_vcard":               "401   403   200   200   200   200   200   200",
    "GET api_calendar.list_events":              "401   422   422   422   422   422   422   422",
    "GET api.me":                                "401   200   200   200   200   200   200   200",
    "DELETE api.delete_message":                 "401   404   404   204   404   404   403   404",
    "GET api.message":                           "401   404   404   200c  404   404   200c  404",
    "PATCH api.edit_message":                    "401   404   404   200   404   404   403   404",
    "GET api.message_receipts":                  "401   404   404   200   404   404   403   404",
    "GET api.message_revisions":                 "401   404   404   200   404   404   200   404",
    "GET api.message_thread":                    "401   404   404   200c  404   404   200c  404",
    "GET api.networks":                          "401   200   200   200   200   200   200   200",
    "GET api.notification_list":                 "401   200   200   200   200   200   200c  200",
    "POST api.notifications_read":               "401   200   200   200   200   200   200   200",
    "GET api.openapi":                           "200   200   200   200   200   200   200   200",
    "GET api.people":                            "401   200   200   200   200   200   200   200",
    "GET api_training.list_programmes":          "401   200   200   200   200   200   200   200",
    "GET api_training.programme_report":         "401   404   403   403   403   200   200   200",
    "GET search.api_search":                     "401   200   200   200c  200   200   200c  200",
    "GET attachments.download":                  "login 404   404   200   404   404   200   404",
    "GET audit.log":                             "login 403   403   403   403   403   200c  200c",
    "GET audit.export":                          "login 403   403   403   403   403   200c  200c",
    "GET calendar.index":                        "200   200   200e  200e  200e  200e  200e  200e",
    "GET calendar.download_document":            "404   404   200   200   200   200   200   200",
    "GET calendar.show":                         "404   404   200e  200e  200e  200e  200e  200e",
    "GET calendar.event_ics":                    "404   404   200e  200e  200e  200e  200e  200e",
    "POST calendar.add_agenda_item":             "login 404   403   403   403   422e  422e  422e",
    "POST calendar.delete_agenda_item":          "login 404   403   403   403   302   302   302",
    "POST calendar.cancel":                      "login 404   403   403   403   302   302   302",
    "POST calendar.open_consultation":           "login 404   403   403   403   302   302   302",
    "POST calendar.add_document":                "login 404   403   403   403   422e  422e  422e",
    "GET calendar.edit":                         "login 404   403   403   403   200e  200e  200e",
    "POST calendar.edit":                        "login 404   403   403   403   422e  422e  422e",
    "POST calendar.invite":                      "login 404   403   403   403   422e  422e  422e",
    "GET calendar.participants":                 "login 404   403   200e  403   200e  200e  200e",
    "POST calendar.attendance":                  "login 404   403   403   403   302   302   302",
    "POST calendar.check_in":                    "login 404   403   403   403   302   302   302",
    "GET calendar.planner":                      "login 404   403   403   403   200e  200e  200e",
    "POST calendar.register":                    "login 404   422e  422e  422e  422e  422e  422e",
    "POST calendar.add_session":                 "login 404   403   403   403   422e  422e  422e",
    "POST calendar.delete_session":              "login 404   403   403   403   302   302   302",
    "GET calendar.statistics":                   "login 404   200e  200e  200e  200e  200e  200e",
    "GET calendar.create":                       "login 403   403   403   403   200   200   200",
    "POST calendar.create":                      "login 403   403   403   403   422   422   422",
    "GET calendar.feed":                         "404   404   404   404   404   404   404   404",
    "GET calendar.month":                        "200   200   200e  200e  200e  200e  200e  200e",
    "GET calendar.settings":                     "login 200   200   200   200   200   200   200",
    "POST calendar.settings":                    "login 422   422   422   422   422   422   422",
    "GET calendar.week":                         "200   200   200   200   200   200   200   200",
    "GET cases.index":                           "login 200   200   200c  200   200   200c  200",
    "GET cases.show":                            "login 404   404   200c  404   404   200c  404",
    "GET cases.edit":                            "login 404   404   200c  404   404   200c  404",
    "POST cases.edit":                           "login 404   404   422c  404   404   422c  404",
    "POST cases.change_status":                  "login 404   404   422c  404   404   422c  404",
    "GET cases.create":                          "login 200   403   200   200   200   200   403",
    "POST cases.create":                         "login 422   403   422   422   422   422   403",
    "GET certificates.verify":                   "200   200   200   200   200   200   200   200",
    "GET messaging.index":                       "login 200   200   200c  200   200   200c  200",
    "GET messaging.channel":                     "login 404   404   200c  404   404   200c  404",
    "POST messaging.channel":                    "login 404   404   422c  404   404   422c  404",
    "POST messaging.archive":                    "login 404   404   302   404   404   403   404",
    "POST messaging.leave":                      "login 404   404   302   404   404   302   404",
    "GET messaging.members":                     "login 404   404   200c  404   404   200c  404",
    "POST messaging.make_owner":                 "login 404   404   302   404   404   403   404",
    "POST messaging.remove_member":              "login 404   404   302   404   404   302   404",
    "POST messaging.add_members":                "login 404   404   422c  404   404   403   404",
    "GET messaging.delete":                      "login 404   404   200c  404   404   404   404",
    "POST messaging.delete":                     "login 404   404   302   404   404   404   404",
    "GET messaging.edit":                        "login 404   404   200c  404   404   404   404",
    "POST messaging.edit":                       "login 404   404   302   404   404   404   404",
    "GET messaging.history":                     "login 404   404   200c  404   404   200c  404",
    "GET messaging.receipts":                    "login 404   404   200c  404   404   403   404",
    "POST messaging.retention":                  "login 404   404   302   404   404   403   404",
    "GET messaging.thread":                      "login 404   404   200c  404   404   200c  404",
    "POST messaging.thread":                     "login 404   404   422c  404   404   422c  404",
    "GET messaging.new_conversation":            "login 200   404   200   200   200   200   404",
    "POST messaging.new_conversation":           "login 422   404   422   422   422   422   404",
    "GET messaging.new_topic":                   "login 200   404   200   200   200   200   404",
    "POST messaging.new_topic":                  "login 422   404   422   422   422   422   404",
    "GET main.confirm_entry":                    "200   200   200   200   200   200   200   200",
    "POST main.confirm_entry":                   "400   400   400   400   400   400   400   400",
    "GET consultations.room":                    "login 404   404   200c  404   404   200c  404",
    "POST consultations.end":                    "login 404   404   302   404   404   403   404",
    "GET consultations.transcript":              "login 404   404   200c  404   404   200c  404",
    "GET consultations.transcript_text":         "login 404   404   200c  404   404   200c  404",
    "GET consultations.start":                   "login 422   422   422   422   422   422   422",
    "POST consultations.start":                  "login 422   422   422   422   422   422   422",
    "GET directory.search":                      "login 200   200   200   200   200   200   200",
    "GET directory.entry":                       "login 403   200   200   200   200   200   200",
    "GET directory.entry_vcf":                   "login 403   200   200   200   200   200   200",
    "POST directory.confirm":                    "login 403   403   403   403   302   302   302",
    "GET directory.edit":                        "login 403   403   403   403   200   200   200",
    "POST directory.edit":                       "login 403   403   403   403   422   422   422",
    "POST directory.handover":                   "login 403   403   403   403   302   302   302",
    "POST directory.link":                       "login 403   403   403   403   302   302   302",
    "GET directory.export_csv":                  "login 200   200   200   200   200   200   200",
    "GET directory.export_vcf":                  "login 200   200   200   200   200   200   200",
    "GET directory.finder":                      "login 200   200   200   200   200   200   200",
    "GET directory.import_csv":                  "login 403   403   403   403   200   200   200",
    "POST directory.import_csv":                 "login 403   403   403   403   422   422   422",
    "GET directory.edit_network":                "login 403   403   403   403   200   200   200",
    "POST directory.edit_network":               "login 403   403   403   403   422   422   422",
    "POST directory.remind":                     "login 403   403   403   403   302   302   302",
    "GET directory.stale":                       "login 403   403   403   403   200   200   200",
    "GET directory.create":                      "login 403   403   403   403   200   200   200",
    "POST directory.create":                     "login 403   403   403   403   422   422   422",
    "GET main.healthz":                          "200   200   200   200   200   200   200   200",
    "GET members.invitation":                    "400   400   400   400   400   400   400   400",
    "POST members.invitation":                   "400   400   400   400   400   400   400   400",
    "POST main.set_language":                    "422   422   422   422   422   422   422   422",
    "GET auth.login":                            "200   302   302   302   302   302   302   302",
    "POST auth.login":                           "200   302   302   302   302   302   302   302",
    "GET auth.second_factor":                    "login login login login login login login login",
    "POST auth.second_factor":                   "login login login login login login login login",
    "POST auth.logout":                          "login 302   302   302   302   302   302   302",
    "GET main.networks":                         "200   200   200   200   200   200   200   200",
    "GET members.members":                       "login 403   403   403   403   200   200   200",
    "POST members.members":                      "login 403   403   403   403   422   422   422",
    "POST members.remove":                       "login 403   403   403   403   302   302   302",
    "POST members.change_role":                  "login 403   403   403   403   302   302   302",
    "GET notifications.index":                   "login 200   200   200   200   200   200c  200",
    "POST notifications.read_one":               "login 404   404   404   404   404   302   404",
    "POST notifications.read_all":               "login 302   302   302   302   302   302   302",
    "GET search.page":                           "login 200   200   200c  200   200   200c  200",
    "GET training.index":                        "login 200   200   200   200   200   200   200",
    "GET training.certificate":                  "login 404   404   404   404   200   200   200",
    "GET training.cohort":                       "login 404   404   404   200   200e  200e  200e",
    "POST training.edit_cohort":                 "login 404   404   404   403   302   302   302",
    "POST training.enrol":                       "login 404   404   404   302   302   302   302",
    "POST training.add_trainer":                 "login 404   404   404   403   302   302   302",
    "GET training.enrolment":                    "login 404   404   404   200   200   200   200",
    "POST training.certify":                     "login 404   404   404   403   422   403   422",
    "POST training.declare_gender":              "login 404   404   404   403   403   403   403",
    "POST training.set_progress":                "login 404   404   404   422   403   403   403",
    "POST training.record_score":                "login 404   404   404   404   403   403   403",
    "GET training.take_test":                    "login 404   404   404   403   403   403   403",
    "POST training.take_test":                   "login 404   404   404   403   403   403   403",
    "GET training.material":                     "login 404   200   200   200   200   200   200",
    "POST training.delete_material":             "login 404   403   403   403   302   302   302",
    "GET training.mine":                         "login 200   200   200   200   200   200   200",
    "GET training.module":                       "login 404   200   200   200   200   200   200",
    "POST training.module":                      "login 404   403   403   403   302   302   302",
    "POST training.add_material":                "login 404   403   403   403   302   302   302",
    "POST training.move_module":                 "login 404   403   403   403   422   422   422",
    "POST training.add_question":                "login 404   403   403   403   302   302   302",
    "POST training.create_programme":            "login 403   403   403   403   302   302   302",
    "GET training.programme":                    "login 404   200   200   200   200e  200e  200e",
    "POST training.create_cohort":               "login 404   403   403   403   302   302   302",
    "POST training.edit_programme":              "login 404   403   403   403   302   302   302",
    "POST training.add_module":                  "login 404   403   403   403   302   302   302",
    "GET training.report":                       "login 404   403   403   403   200   200   200",
    "GET training.report_csv":                   "login 404   403   403   403   200   200   200",
    "POST training.delete_question":             "login 404   403   403   403   302   302   302",
    "socket consultation_admit":                 "off   404   404   422   404   404   403   404",
    "socket consultation_away":                  "off   404   404   ok    404   404   ok    404",
    "socket consultation_end":                   "off   404   404   ok    404   404   403   404",
    "socket consultation_invite":                "off   404   404   422   404   404   403   404",
    "socket consultation_join":                  "off   404   404   ok    404   404   ok    404",
    "socket consultation_leave":                 "off   404   404   ok    404   404   ok    404",
    "socket consultation_remove":                "off   404   404   ok    404   404   403   404",
    "socket delete":                             "off   404   404   ok    404   404   403   404",
    "socket edit":                               "off   404   404   ok    404   404   403   404",
    "socket join":                               "off   404   404   okc   404   404   okc   404",
    "socket leave":                              "off   404   404   ok    404   404   ok    404",
    "socket read":                               "off   404   404   ok    404   404   ok    404",
    "socket received":                           "off   404   404   ok    404   404   ok    404",
    "socket send":                               "off   404   404   ok    404   404   ok    404",
    "socket signal":                             "off   404   404   403   404   404   403   404",
    "socket typing":                             "off   404   404   ok    404   404   ok    404",
    "socket watch":                              "off   ok    ok    okc   ok    ok    okc   ok",
}
# fmt: on


# --- The world ------------------------------------------------------------------------------


@functools.cache
def _fast_hash(password: str) -> str:
    return _real_hash(password)


_real_hash = accounts.hash_password


def _build_world(db: Any) -> dict[str, Any]:
    """The demo data and our own case; returns the ids every URL is built from."""
    demo.seed(per_state=1)
    db.session.commit()
    users = {role: accounts.get_user_by_email(email) for role, email in ACCOUNTS.items()}
    wacap = db.session.scalar(select(Network).where(Network.slug == "wacap"))
    owner, secretariat = users["contact_point"], users["secretariat"]
    case = cases.create_case(
        owner,
        wacap,
        {
            "reference": REFERENCE,
            "case_type": "mla",
            "requesting_state": "SN",
            "requested_state": "GH",
            "members": [secretariat.id],
        },
    )
    channel = case.channel
    upload = attachments.store_upload(channel, owner, ("matrix.pdf", samples.pdf()))
    message, _created = messaging.post_message(
        channel.id, owner, f"The {MARKER} file", uuid.uuid4().hex, attachment_ids=[upload.id]
    )
    room = consultations.create_consultation(
        owner, f"Room {MARKER}", [secretariat.id], case_id=case.id, notify=False
    )
    consultations.admit(room.id, owner, secretariat.id)
    token, _plain = accounts.create_token(owner, "matrix")
    db.session.commit()

    plenary = db.session.scalar(
        select(CalendarEvent).where(CalendarEvent.title == "WACAP annual plenary")
    )
    programme = db.session.scalar(select(Programme).where(Programme.network_id == wacap.id))
    module = db.session.scalar(
        select(Module).where(Module.programme_id == programme.id).order_by(Module.position)
    )
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.programme_id == programme.id, Cohort.parent_trainer_id.is_(None))
        .order_by(Cohort.id)
    )
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .order_by(Enrolment.user_id.is_(None), Enrolment.id)
    )
    certificate = db.session.scalar(
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id == cohort.id)
    ) or db.session.scalar(select(Certificate).order_by(Certificate.id))
    entry = db.session.scalar(
        select(ContactPoint)
        .where(ContactPoint.user_id.is_(None), ContactPoint.networks.any(Network.id == wacap.id))
        .order_by(ContactPoint.id)
    )
    notification = db.session.scalar(
        select(Notification).where(Notification.user_id == secretariat.id)
    )
    if notification is None:
        notification = Notification(
            user_id=secretariat.id, kind="channel_invitation", channel_id=channel.id
        )
        db.session.add(notification)
        db.session.commit()
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == users["trainer"].id, Membership.network_id == wacap.id
        )
    )
    document_file = db.session.scalar(
        select(EventDocumentFile)
        .join(EventDocument, EventDocumentFile.document_id == EventDocument.id)
        .where(EventDocument.event_id == plenary.id)
    )
    args = {
        "attachment_id": upload.id,
        "case_id": case.id,
        "channel_id": channel.id,
        "message_id": message.id,
        "user_id": secretariat.id,
        "consultation_id": room.id,
        "cp_id": entry.id,
        "slug": "wacap",
        "membership_id": membership.id,
        "token_id": token.id,
        "user_session_id": sessions.start(users["contact_point"]).id,
        "notification_id": notification.id,
        "event_id": plenary.id,
        "item_id": db.session.scalar(
            select(AgendaItem.id).where(AgendaItem.event_id == plenary.id)
        ),
        "session_id": db.session.scalar(
            select(EventSession.id).where(EventSession.event_id == plenary.id)
        ),
        "registration_id": db.session.scalar(
            select(Registration.id).where(Registration.event_id == plenary.id)
        ),
        "file_id": document_file.id,
        "secret": "not-a-feed-secret",
        "token": "not-a-token",
        "programme_id": programme.id,
        "module_id": module.id,
        "material_id": db.session.scalar(
            select(Material.id).where(Material.module_id == module.id)
        ),
        "question_id": db.session.scalar(
            select(Question.id).where(Question.module_id == module.id)
        ),
        "cohort_id": cohort.id,
        "enrolment_id": enrolment.id,
        "certificate_id": certificate.id,
        "code": certificate.code,
        "kind": "pre",
        "action": "deactivate",
    }
    missing = [name for name, value in args.items() if value is None]
    assert not missing, f"the demo data lacks {missing}"
    return {
        "args": args,
        "users": {role: SimpleNamespace(email=user.email) for role, user in users.items()},
        "endpoint_args": {
            # The person an administrator acts on: the trainer (not the secretariat, a
            # member of the case whose room the socket events use).
            "admin.change": {"user_id": users["trainer"].id},
        },
        "socket": {
            "channel_id": channel.id,
            "message_id": message.id,
            "consultation_id": room.id,
            "secretariat_id": secretariat.id,
            "trainer_id": users["trainer"].id,
        },
    }


# --- Playing the cells ----------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@contextlib.contextmanager
def _isolated(
    db: Any, client: FlaskClient | None = None, files: dict[Path, bytes] | None = None
) -> Iterator[None]:
    """Whatever happens inside is undone: the database (a savepoint on the test's
    connection), the stored files (a deletion removes them from the disk), the client's
    cookies, the sign-in rate limits."""
    db.session.commit()
    db.session.close()
    connection = db.session.get_bind()  # the test's connection (tests/conftest.py)
    savepoint = connection.begin_nested()
    cookies = dict(client._cookies) if client is not None else None
    try:
        yield
    finally:
        db.session.close()
        if savepoint.is_active:
            savepoint.rollback()
        if client is not None and cookies is not None:
            client._cookies.clear()
            client._cookies.update(cookies)
        for path, data in (files or {}).items():
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        limiter.reset()


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - SKIPPED_METHODS):
            found.append((method, rule.rule, rule.endpoint))
    return sorted(found, key=lambda r: (r[1], r[0]))


def _url(app: Flask, world: dict[str, Any], rule: str, endpoint: str) -> str:
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    values = {**world["args"], **world["endpoint_args"].get(endpoint, {})}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **{name: values[name] for name in names})


def _revealed(data: bytes) -> str:
    """Which secrets a response shows: ``c`` the case (its reference, its message, its
    room), ``e`` the members-only event."""
    return ("c" if any(m.encode() in data for m in CASE_MARKERS) else "") + (
        "e" if EVENT_TITLE.encode() in data else ""
    )


def _outcome(response: Any) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and location.startswith("/login"):
        return "login"
    return f"{response.status_code}{_revealed(response.get_data())}"


def _csrf(client: FlaskClient, signed_in: bool) -> str:
    html = client.get("/account/" if signed_in else "/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# Bodies that pass a route's syntactic checks, where those come before the access check
# (so that the table shows the access check, not "the client id is missing").
BODIES: dict[str, Any] = {
    "api.post_channel_message": lambda: {"body": "matrix", "client_id": uuid.uuid4().hex},
    "training.create_programme": lambda: {"network": "wacap"},
    "api_cases.create_case": lambda: {"network": "wacap"},
    "api.create_channel": lambda: {"kind": "topic", "network": "wacap", "name": "Matrix"},
}
# Query strings of the routes that search or list a period. The search is for the case's
# word in capitals: the page repeats the query, only a hit shows the word as written.
QUERIES = {
    "search.page": {"q": MARKER.upper()},
    "search.api_search": {"q": MARKER.upper()},
    "api_calendar.list_events": {"start": "2000-01-01", "end": "2100-01-01"},
}


def _request(client: FlaskClient, method: str, url: str, token: str, endpoint: str) -> Any:
    body = BODIES[endpoint]() if endpoint in BODIES else {}
    if method == "GET":
        return client.get(url, query_string=QUERIES.get(endpoint, {}))
    if url.startswith("/api/"):
        return client.open(url, method=method, json=body, headers={"X-CSRFToken": token})
    return client.open(url, method=method, data={"csrf_token": token, **body})


def _socket_events() -> list[str]:
    handlers = socketio.server.handlers.get("/", {})
    return sorted(set(handlers) - SOCKET_LIFECYCLE)


def _event_data(event: str, s: dict[str, Any]) -> dict[str, Any]:
    channel, room = {"channel_id": s["channel_id"]}, {"consultation_id": s["consultation_id"]}
    return {
        "join": {**channel, "after_seq": 0},
        "leave": channel,
        "watch": {"channel_ids": [s["channel_id"]]},
        "send": {**channel, "body": "matrix", "client_id": uuid.uuid4().hex},
        "edit": {"message_id": s["message_id"], "body": "edited by the matrix"},
        "delete": {"message_id": s["message_id"]},
        "typing": channel,
        "read": {**channel, "seq": 1},
        "received": {**channel, "seq": 1},
        "consultation_join": {**room, "after_seq": 0},
        "consultation_leave": room,
        "consultation_away": {**room, "away": True},
        "consultation_invite": {**room, "user_ids": [s["trainer_id"]]},
        "consultation_admit": {**room, "user_id": s["secretariat_id"]},
        "consultation_remove": {**room, "user_id": s["secretariat_id"]},
        "consultation_end": room,
        "signal": {**room, "to": s["secretariat_id"], "data": {"type": "ready"}},
    }.get(event, {})


# Socket error codes written as the HTTP status the same refusal gets on a route.
ACK_CODES = {"unauthorized": "401", "forbidden": "403", "not_found": "404"}
ACK_CODES["validation_error"] = "422"


def _ack_outcome(ack: Any, case_channel_id: int) -> str:
    if not isinstance(ack, dict):
        return f"no-ack:{ack!r}"
    if ack.get("ok"):
        listed = any(c.get("id") == case_channel_id for c in ack.get("channels", []))
        return "ok" + ("c" if listed else _revealed(json.dumps(ack).encode()))
    code = str(ack.get("error", {}).get("code"))
    return ACK_CODES.get(code, code)


def _play(
    app: Flask, db: Any, login: Any, world: dict[str, Any], files: dict[Path, bytes]
) -> dict[str, list[str]]:
    routes = _routes(app)
    events = _socket_events()
    observed: dict[str, list[str]] = {}
    for role in ROLES:
        user = world["users"].get(role)
        client = app.test_client()
        if user is not None:
            login(client, user, password=demo.DEMO_PASSWORD)
        token = _csrf(client, user is not None)
        for method, rule, endpoint in routes:
            url = _url(app, world, rule, endpoint)
            with _isolated(db, client, files):
                response = _request(client, method, url, token, endpoint)
            observed.setdefault(f"{method} {endpoint}", []).append(_outcome(response))
        socket = socketio.test_client(app, flask_test_client=client)
        for event in events:
            key = f"socket {event}"
            if not socket.is_connected():
                observed.setdefault(key, []).append("off")
                continue
            with _isolated(db, files=files):
                ack = socket.emit(event, _event_data(event, world["socket"]), callback=True)
            observed.setdefault(key, []).append(_ack_outcome(ack, world["socket"]["channel_id"]))
        if socket.is_connected():
            socket.disconnect()
    return observed


def _table_line(key: str, outcomes: list[str]) -> str:
    cells = " ".join(f"{o:<5}" for o in outcomes).rstrip()
    return f"    {(repr(key) + ':'):<45}{cells!r},".replace("'", '"')


def test_every_route_and_event_follows_the_table(app, db, login, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    monkeypatch.setattr(accounts, "hash_password", _fast_hash)
    world = _build_world(db)
    observed = _play(app, db, login, world, _snapshot(tmp_path / "uploads"))

    if os.environ.get("MATRIX_RECORD"):
        with open(os.environ["MATRIX_RECORD"], "w") as out:
            out.write("\n".join(_table_line(k, v) for k, v in observed.items()) + "\n")

    problems = _differences(observed)
    assert not problems, "\n".join(problems)


def _differences(observed: dict[str, list[str]]) -> list[str]:
    """Every cell that differs from ``EXPECTED``, every route or event without an entry
    (with the line to add) and every entry whose route or event is gone."""
    problems = []
    for key, outcomes in observed.items():
        if key not in EXPECTED:
            problems.append(
                f"{key}: no entry in EXPECTED; decide who may use it and add\n"
                f"{_table_line(key, outcomes)}"
            )
            continue
        wrong = [
            f"{role} expected {want} got {got}"
            for role, want, got in zip(ROLES, EXPECTED[key].split(), outcomes, strict=True)
            if want != got
        ]
        if wrong:
            problems.append(f"{key}: " + "; ".join(wrong))
    stale = sorted(set(EXPECTED) - set(observed))
    if stale:
        problems.append(f"entries for routes or events that no longer exist: {stale}")
    return problems


def test_the_table_is_well_formed() -> None:
    wrong = [key for key, cells in EXPECTED.items() if len(cells.split()) != len(ROLES)]
    assert not wrong, f"every entry has one cell per role {ROLES}: {wrong}"


def test_a_route_or_event_without_an_entry_fails_with_the_line_to_add() -> None:
    observed = {key: cells.split() for key, cells in EXPECTED.items()}
    observed["GET new_blueprint.secret_page"] = ["login"] + ["200"] * (len(ROLES) - 1)
    observed["socket new_event"] = ["off"] + ["ok"] * (len(ROLES) - 1)
    del observed["GET main.home"]
    problems = _differences(observed)
    assert len(problems) == 3, problems
    assert "GET new_blueprint.secret_page: no entry in EXPECTED" in problems[0]
    assert '"GET new_blueprint.secret_page":' in problems[0]  # the line to add
    assert "socket new_event: no entry in EXPECTED" in problems[1]
    assert "GET main.home" in problems[2]
    observed = {key: cells.split() for key, cells in EXPECTED.items()}
    observed["GET cases.show"][ROLES.index("admin")] = "200c"
    assert _differences(observed) == ["GET cases.show: admin expected 404 got 200c"]
