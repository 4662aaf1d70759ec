"""Training-of-trainers: programmes, modules and their quizzes and materials, cohorts,
enrolments, progress sign-off, pre/post tests, certification, the cascade and reports.

Rules
-----
* The programme's test is the union of its modules' multiple-choice questions, in module
  order. A trainee takes it online once before (``pre``) and once after (``post``) the
  cohort; the score is the percentage of questions answered correctly. A trainer may
  instead record the score of a paper test (0-100) for a trainee without an account.
* Knowledge gain: for trainees with both scores, ``points`` = mean post - mean pre, and
  ``percent`` = that difference relative to the mean pre score (how the seeds report
  "+33%", seed 000 §27).
* Certification rule: every module of the programme completed and a post-test score at
  or above ``Programme.pass_threshold``. A coordinator certifies; anything short of the
  rule is refused with the reasons and nothing is written.
* Cascade: a cohort whose ``parent_trainer_id`` is a trainer certified in the programme.
  Its generation is one more than the generation of the cohort where that trainer was
  certified; the programme's own cohorts are generation 1 ("direct trainees").
* Report: ``participants`` and the breakdowns, completion rate and knowledge gain are of
  the direct trainees (generation 1); ``cascade_reach`` counts every generation;
  ``knowledge_gain_by_cohort`` gives each cohort of every generation its own gain.

Every write checks ``network.policy`` and is one transaction.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from network import i18n, policy
from network.errors import Conflict, Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.directory import Network
from network.models.people import User
from network.models.training import (
    Answer,
    Attempt,
    AttemptKind,
    Certificate,
    Cohort,
    Enrolment,
    Gender,
    Material,
    Module,
    ModuleProgress,
    Option,
    Profession,
    Programme,
    ProgressStatus,
    Question,
)
from network.security import is_database_int
from network.services import attachments, audit
from network.services.directory_io import csv_cell, header_row

log = logging.getLogger(__name__)
attachments.register_storage_owner(Material.storage_key)

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_QUESTION = 1000
MAX_OPTION = 500
MAX_OPTIONS = 6
MAX_NAME = 200
CODE_BYTES = 15  # 120 random bits, 24 URL-safe characters

PROFESSION_LABELS = {
    Profession.PROSECUTOR: _l("Prosecutor"),
    Profession.JUDGE: _l("Judge"),
    Profession.LAW_ENFORCEMENT: _l("Law enforcement"),
    Profession.CENTRAL_AUTHORITY: _l("Central-authority officer"),
    Profession.INTERPOL: _l("INTERPOL officer"),
    Profession.OTHER: _l("Other"),
}
GENDER_LABELS = {
    Gender.FEMALE: _l("Female"),
    Gender.MALE: _l("Male"),
    Gender.OTHER: _l("Another gender"),
    Gender.PREFER_NOT_TO_SAY: _l("Prefer not to say"),
}
NOT_GIVEN = "not_given"
STATUS_LABELS = {
    ProgressStatus.NOT_STARTED: _l("Not started"),
    ProgressStatus.IN_PROGRESS: _l("In progress"),
    ProgressStatus.COMPLETED: _l("Completed"),
}
KIND_LABELS = {AttemptKind.PRE: _l("Pre-test"), AttemptKind.POST: _l("Post-test")}


def profession_choices() -> list[tuple[str, str]]:
    return [(p.value, str(label)) for p, label in PROFESSION_LABELS.items()]


def gender_choices() -> list[tuple[str, str]]:
    return [(g.value, str(label)) for g, label in GENDER_LABELS.items()]


def profession_label(value: str) -> str:
    return str(PROFESSION_LABELS.get(value, value))  # type: ignore[call-overload]


def gender_label(value: str | None) -> str:
    if not value or value == NOT_GIVEN:
        return _("Not given")
    return str(GENDER_LABELS.get(value, value))  # type: ignore[call-overload]


def status_label(value: str) -> str:
    return str(STATUS_LABELS.get(value, value))  # type: ignore[call-overload]


def kind_label(value: str) -> str:
    return str(KIND_LABELS.get(value, value))  # type: ignore[call-overload]


# --- Small parsing helpers ---------------------------------------------------------------------


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = data.get(name)
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationError(fields={name: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError(fields={name: _("At most %(n)d characters.", n=limit)})
    if _CONTROL.search(text):  # escape sequences, DEL… (issue 8: they were stored)
        raise ValidationError(fields={name: _("Contains control characters.")})
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _int_id(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    # An id no column can hold names nothing (issue 8: the driver would fail on it).
    return value if is_database_int(value) else None


def _int_in(data: Mapping[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = data.get(name)
    if value is None or value == "":
        return default
    number = _int_id(value)
    if number is None or not low <= number <= high:
        raise ValidationError(
            fields={name: _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high)}
        )
    return number


def _date(data: Mapping[str, Any], name: str) -> date:
    value = data.get(name)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError as exc:
        raise ValidationError(fields={name: _("Enter a date as YYYY-MM-DD.")}) from exc


def parse_score(value: Any) -> float:
    """A test score in percent. Raises ``ValidationError`` outside 0-100 or not a number."""
    try:
        score = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError) as exc:
        raise ValidationError(fields={"score": _("Enter a score from 0 to 100.")}) from exc
    if not 0 <= score <= 100 or score != score:  # NaN is not a score
        raise ValidationError(fields={"score": _("A score is from 0 to 100.")})
    return round(score, 1)


# --- Loading with the policy --------------------------------------------------------------------


def _by_id(model: type[Any], raw_id: Any, *options: Any) -> Any:
    ident = _int_id(raw_id)
    return db.session.get(model, ident, options=options) if ident is not None else None


def get_programme(programme_id: Any, user: Any) -> Programme:
    """A programme ``user`` may view; any other is 404 (ids cannot be probed)."""
    found = _by_id(Programme, programme_id)
    if found is None or not policy.can_view_programme(user, found):
        raise NotFound(_("No such programme."))
    return found


def get_managed_programme(programme_id: Any, user: Any) -> Programme:
    found = get_programme(programme_id, user)
    if not policy.can_manage_programme(user, found):
        raise Forbidden()
    return found


def get_module(module_id: Any, user: Any) -> Module:
    found = _by_id(Module, module_id)
    if found is None or not policy.can_view_programme(user, found.programme):
        raise NotFound(_("No such module."))
    return found


def get_cohort(cohort_id: Any, user: Any) -> Cohort:
    found = _by_id(
        Cohort,
        cohort_id,
        selectinload(Cohort.enrolments).selectinload(Enrolment.certificate),
        selectinload(Cohort.trainers),
    )
    if found is None or not policy.can_read_cohort(user, found):
        raise NotFound(_("No such cohort."))
    return found


def get_enrolment(enrolment_id: Any, user: Any) -> Enrolment:
    found = _by_id(Enrolment, enrolment_id)
    if found is None or not policy.can_read_enrolment(user, found):
        raise NotFound(_("No such trainee."))
    return found


def get_certificate(certificate_id: Any, user: Any) -> Certificate:
    found = _by_id(Certificate, certificate_id)
    if found is None or not policy.can_view_certificate(user, found):
        raise NotFound(_("No such certificate."))
    return found


def visible_programmes(user: Any) -> list[Programme]:
    """Programmes of the user's networks, and those where they train or are trained."""
    if not policy.is_signed_in(user):
        return []
    network_ids = policy.training_programme_network_ids(user)
    query = select(Programme).order_by(Programme.title)
    if network_ids is None:
        return list(db.session.scalars(query))
    involved = (
        select(Cohort.programme_id)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(Enrolment.user_id == user.id)
        .union(
            select(Cohort.programme_id).where(Cohort.parent_trainer_id == user.id),
            select(Cohort.programme_id).where(Cohort.trainers.any(User.id == user.id)),
        )
    )
    return list(
        db.session.scalars(
            query.where(Programme.network_id.in_(network_ids) | Programme.id.in_(involved))
        )
    )


def creatable_networks(user: Any) -> list[Network]:
    networks = db.session.scalars(select(Network).order_by(Network.acronym))
    return [n for n in networks if policy.can_create_programme(user, n)]


def visible_cohorts(user: Any, programme: Programme) -> list[Cohort]:
    return [c for c in programme.cohorts if policy.can_read_cohort(user, c)]


# --- Programmes and modules ------------------------------------------------------------------


def create_programme(user: Any, network: Network, data: Mapping[str, Any]) -> Programme:
    """Raises ``Forbidden`` or ``ValidationError``."""
    if not policy.can_create_programme(user, network):
        raise Forbidden()
    programme = Programme(network_id=network.id)
    _apply_programme(programme, data)
    db.session.add(programme)
    db.session.flush()
    audit.record(user, "training.programme_created", "programme", programme.id,
                 after={"title": programme.title}, network_id=network.id)  # fmt: skip
    db.session.commit()
    return programme


def update_programme(user: Any, programme: Programme, data: Mapping[str, Any]) -> None:
    if not policy.can_manage_programme(user, programme):
        raise Forbidden()
    _apply_programme(programme, data)
    db.session.commit()


def _apply_programme(programme: Programme, data: Mapping[str, Any]) -> None:
    programme.title = _text(data, "title", MAX_TITLE, required=True)
    programme.description = _text(data, "description", MAX_TEXT)
    programme.pass_threshold = _int_in(data, "pass_threshold", 0, 100, 70)


def add_module(user: Any, programme: Programme, data: Mapping[str, Any]) -> Module:
    if not policy.can_manage_programme(user, programme):
        raise Forbidden()
    module = Module(programme_id=programme.id, position=len(programme.modules) + 1)
    _apply_module(module, data)
    db.session.add(module)
    db.session.commit()
    return module


def update_module(user: Any, module: Module, data: Mapping[str, Any]) -> None:
    if not policy.can_manage_programme(user, module.programme):
        raise Forbidden()
    _apply_module(module, data)
    db.session.commit()


def _apply_module(module: Module, data: Mapping[str, Any]) -> None:
    module.title = _text(data, "title", MAX_TITLE, required=True)
    module.objectives = _text(data, "objectives", MAX_TEXT)
    module.duration_minutes = _int_in(data, "duration_minutes", 1, 60 * 24 * 10, 60)


def move_module(user: Any, module: Module, direction: Any) -> None:
    """Swap a module with the one before (``up``) or after (``down``) it; the order is
    the order of the grid, the test and the certificate rule's list."""
    programme = module.programme
    if not policy.can_manage_programme(user, programme):
        raise Forbidden()
    if direction not in {"up", "down"}:
        raise ValidationError(fields={"direction": _("Choose up or down.")})
    modules = list(programme.modules)
    index = modules.index(module)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(modules):
        modules[index], modules[other] = modules[other], modules[index]
    for position, each in enumerate(modules, 1):
        each.position = position
    db.session.commit()
    db.session.expire(programme, ["modules"])


def add_question(
    user: Any, module: Module, text: Any, options: Iterable[Any], correct: Any
) -> Question:
    """A multiple-choice question with 2-6 options, exactly one correct (``correct`` is
    the index of the correct option among the non-empty ones)."""
    if not policy.can_manage_programme(user, module.programme):
        raise Forbidden()
    question_text = _text({"text": text}, "text", MAX_QUESTION, required=True)
    cleaned = [str(o).strip() for o in options if str(o or "").strip()]
    if not 2 <= len(cleaned) <= MAX_OPTIONS:
        raise ValidationError(fields={"options": _("Give from 2 to %(n)d options.", n=MAX_OPTIONS)})
    if any(len(o) > MAX_OPTION for o in cleaned):
        raise ValidationError(fields={"options": _("At most %(n)d characters.", n=MAX_OPTION)})
    index = _int_id(correct)
    if index is None or not 0 <= index < len(cleaned):
        raise ValidationError(fields={"correct": _("Choose the correct option.")})
    question = Question(module_id=module.id, position=len(module.questions) + 1, text=question_text)
    question.options = [
        Option(position=i, text=o, is_correct=i == index) for i, o in enumerate(cleaned)
    ]
    db.session.add(question)
    db.session.commit()
    return question


def delete_question(user: Any, question: Question) -> None:
    if not policy.can_manage_programme(user, question.module.programme):
        raise Forbidden()
    db.session.delete(question)
    db.session.commit()


def add_material(user: Any, module: Module, upload: Any) -> Material:
    """Store a module's file through the attachment stack (content-checked, encrypted,
    SHA-256). Raises ``Forbidden``, ``TooLarge`` or ``ValidationError``."""
    if not policy.can_manage_programme(user, module.programme):
        raise Forbidden()
    # Checked after the access check, so that nobody learns more than "forbidden".
    if upload is None or (hasattr(upload, "filename") and not upload.filename):
        raise ValidationError(fields={"file": _("Choose a file to send.")})
    module_id, user_id = module.id, user.id
    db.session.commit()  # end the read part before the slow file work (see attachments)
    prepared = attachments.store_file(upload)
    try:
        material = Material(
            module_id=module_id,
            uploader_id=user_id,
            filename=prepared.filename,
            content_type=prepared.content_type,
            size=prepared.size,
            sha256=prepared.sha256,
            storage_key=prepared.storage_key,
        )
        db.session.add(material)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        attachments.delete_stored_file(prepared.storage_key)
        raise
    return material


def delete_material(user: Any, material: Material) -> None:
    """Remove a module's file; the stored file goes once the deletion is committed."""
    if not policy.can_manage_programme(user, material.module.programme):
        raise Forbidden()
    storage_key = material.storage_key
    db.session.delete(material)
    db.session.commit()
    attachments.delete_stored_file(storage_key)


def get_material(material_id: Any, user: Any) -> Material:
    material = _by_id(Material, material_id)
    if material is None or not policy.can_download_material(user, material):
        raise NotFound(_("No such file."))
    return material


def material_for_download(material_id: Any, user: Any) -> tuple[Material, bytes]:
    material = _by_id(Material, material_id)
    if material is None or not policy.can_download_material(user, material):
        raise NotFound(_("No such file."))
    return material, attachments.read_stored_file(material.storage_key, material.sha256)


def test_questions(programme: Programme) -> list[Question]:
    """The programme's test: every module's questions, in module order."""
    return [q for m in programme.modules for q in m.questions]


# --- Cohorts and enrolment --------------------------------------------------------------------


def create_cohort(user: Any, programme: Programme, data: Mapping[str, Any]) -> Cohort:
    """A programme cohort (its managers) or a cascade cohort (a trainer certified in the
    programme, who leads it). Raises ``Forbidden`` or ``ValidationError``."""
    cascade = bool(data.get("cascade")) or not policy.can_manage_programme(user, programme)
    if cascade and not policy.can_lead_cascade(user, programme):
        raise Forbidden(_("Only a trainer certified in this programme records a cascade."))
    # Whoever creates a cascade cohort leads it: checking them covers the leader.
    cohort = Cohort(programme_id=programme.id, **_cohort_values(data, programme, user, None))
    if cascade:
        cohort.parent_trainer_id = user.id
        cohort.trainers = [db.session.get(User, user.id)]
    db.session.add(cohort)
    db.session.commit()
    return cohort


def update_cohort(user: Any, cohort: Cohort, data: Mapping[str, Any]) -> None:
    """Title, dates, place or online, calendar event. Raises ``Forbidden`` or
    ``ValidationError``; nothing is changed then."""
    if not policy.can_manage_cohort(user, cohort):
        raise Forbidden()
    values = _cohort_values(data, cohort.programme, user, cohort.parent_trainer)
    for name, value in values.items():
        setattr(cohort, name, value)
    db.session.commit()


def _cohort_values(
    data: Mapping[str, Any], programme: Programme, user: Any, leader: Any | None
) -> dict[str, Any]:
    starts_on, ends_on = _date(data, "starts_on"), _date(data, "ends_on")
    if ends_on < starts_on:
        raise ValidationError(fields={"ends_on": _("The end is before the start.")})
    event_id = data.get("event_id")
    event_id = None if event_id in (None, "") else _int_in(data, "event_id", 1, 2**31 - 1, 0)
    # An event the person may not link is refused exactly like one that does not exist:
    # the answer must not tell them it is there.
    if event_id is not None and event_id not in {
        e.id for e in linkable_events(programme, user, leader)
    }:
        raise ValidationError(
            fields={"event_id": _("Choose an event that the programme's network organises.")}
        )
    return {
        "title": _text(data, "title", MAX_TITLE, required=True),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "place": _text(data, "place", MAX_TITLE),
        "online": str(data.get("online", "")).lower() in {"1", "true", "on", "yes", "y"},
        "event_id": event_id,
    }


def linkable_events(programme: Programme, user: Any, leader: Any | None = None) -> list[Any]:
    """The calendar events ``user`` may link a cohort of ``programme`` to: those its network
    organises that they (and ``leader``, the trainer leading a cascade cohort) see in their
    own right (``policy.can_link_event_to_cohort``); trainings first, then by date."""
    from network.models.calendar import Event, event_networks

    events = db.session.scalars(
        select(Event)
        .join(event_networks, event_networks.c.event_id == Event.id)
        .where(event_networks.c.network_id == programme.network_id)
        .order_by(Event.starts_at)
    )
    linkable = [e for e in events if policy.can_link_event_to_cohort(user, programme, e, leader)]
    return sorted(linkable, key=lambda e: e.kind != "training")


def cohort_event(cohort: Cohort, user: Any) -> Any:
    """The calendar event of the cohort, if it has one that ``user`` may see."""
    from network.models.calendar import Event

    event = db.session.get(Event, cohort.event_id) if cohort.event_id else None
    return event if event is not None and policy.can_view_event(user, event) else None


def cohorts_of_event(event_id: int, user: Any) -> list[Cohort]:
    """The cohorts linked to a calendar event that ``user`` may see (the event's page
    links to them)."""
    found = db.session.scalars(
        select(Cohort).where(Cohort.event_id == event_id).order_by(Cohort.id)
    )
    return [c for c in found if policy.can_read_cohort(user, c)]


def add_trainer(user: Any, cohort: Cohort, email: Any) -> User:
    if not policy.can_manage_cohort(user, cohort):
        raise Forbidden()
    address = _text({"email": email}, "email", 254, required=True).lower()
    trainer = db.session.scalar(select(User).where(func.lower(User.email) == address))
    if trainer is None:
        raise ValidationError(fields={"email": _("No account has this e-mail address.")})
    if trainer not in cohort.trainers:
        cohort.trainers.append(trainer)
    db.session.commit()
    return trainer


def enrol(user: Any, cohort: Cohort, data: Mapping[str, Any]) -> Enrolment:
    """Enrol a trainee (with an account when ``email`` names one). Raises ``Forbidden``,
    ``ValidationError`` or ``Conflict`` (already enrolled)."""
    if not policy.can_update_cohort(user, cohort) and not policy.can_manage_cohort(user, cohort):
        raise Forbidden()
    country = _text(data, "country", 2, required=True).upper()
    if country not in i18n.country_codes():
        raise ValidationError(fields={"country": _("Choose a country.")})
    profession = _text(data, "profession", 30, required=True)
    if profession not in set(Profession):
        raise ValidationError(fields={"profession": _("Choose a profession.")})
    gender = _text(data, "gender", 30) or None
    if gender is not None and gender not in set(Gender):
        raise ValidationError(fields={"gender": _("Choose one of the options.")})
    account = None
    email = _text(data, "email", 254).lower()
    if email:
        account = db.session.scalar(select(User).where(func.lower(User.email) == email))
        if account is None:
            raise ValidationError(fields={"email": _("No account has this e-mail address.")})
    name = _text(data, "name", MAX_NAME) or (account.name if account else "")
    if not name:
        raise ValidationError(fields={"name": _("This field is required.")})
    enrolment = Enrolment(
        cohort_id=cohort.id,
        user_id=account.id if account else None,
        name=name,
        country=country,
        profession=profession,
        gender=gender,
    )
    db.session.add(enrolment)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("This person is already enrolled in the cohort.")) from exc
    return enrolment


def declare_gender(user: Any, enrolment: Enrolment, gender: Any) -> None:
    """The trainee declares (or withdraws, with an empty value) their own gender; nobody
    else changes a declaration once the trainee has an account. Raises ``Forbidden`` or
    ``ValidationError``."""
    if not policy.can_declare_gender(user, enrolment):
        raise Forbidden()
    value = _text({"gender": gender}, "gender", 30) or None
    if value is not None and value not in set(Gender):
        raise ValidationError(fields={"gender": _("Choose one of the options.")})
    enrolment.gender = value
    db.session.commit()


# --- Progress ----------------------------------------------------------------------------------


def progress_map(enrolments: Iterable[Enrolment]) -> dict[tuple[int, int], ModuleProgress]:
    ids = [e.id for e in enrolments]
    if not ids:
        return {}
    rows = db.session.scalars(select(ModuleProgress).where(ModuleProgress.enrolment_id.in_(ids)))
    return {(p.enrolment_id, p.module_id): p for p in rows}


def set_progress(
    user: Any, enrolment: Enrolment, module_id: Any, status: Any, today: date
) -> ModuleProgress:
    """A trainer of the cohort moves a trainee's module to a status; completing signs it
    off (date and trainer). Raises ``Forbidden`` or ``ValidationError``."""
    cohort = enrolment.cohort
    if not policy.can_update_cohort(user, cohort):
        raise Forbidden(_("Only the cohort's trainers sign modules off."))
    module = _by_id(Module, module_id)
    if module is None or module.programme_id != cohort.programme_id:
        raise ValidationError(fields={"module_id": _("This module is not in the programme.")})
    if status not in set(ProgressStatus):
        raise ValidationError(fields={"status": _("Choose a status.")})
    row = db.session.scalar(
        select(ModuleProgress).where(
            ModuleProgress.enrolment_id == enrolment.id, ModuleProgress.module_id == module.id
        )
    )
    if row is None:
        row = ModuleProgress(enrolment_id=enrolment.id, module_id=module.id)
        db.session.add(row)
    before = row.status
    row.status = status
    if status == ProgressStatus.COMPLETED:
        row.completed_on, row.signed_off_by_id = today, user.id
    else:
        row.completed_on, row.signed_off_by_id = None, None
    audit.record(
        user,
        "training.progress",
        "enrolment",
        enrolment.id,
        before={"module_id": module.id, "status": before},
        after={"module_id": module.id, "status": status},
        network_id=cohort.programme.network_id,
    )
    db.session.commit()
    return row


def completed_count(enrolment: Enrolment) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(ModuleProgress)
            .where(
                ModuleProgress.enrolment_id == enrolment.id,
                ModuleProgress.status == ProgressStatus.COMPLETED,
            )
        )
        or 0
    )


# --- Tests (quizzes) ----------------------------------------------------------------------------


def attempt_of(enrolment: Enrolment, kind: str) -> Attempt | None:
    return next((a for a in enrolment.attempts if a.kind == kind), None)


def _check_kind(kind: Any) -> str:
    if kind not in set(AttemptKind):
        raise NotFound(_("No such test."))
    return str(kind)


def submit_test(user: Any, enrolment: Enrolment, kind: Any, answers: Mapping[Any, Any]) -> Attempt:
    """The trainee's online pre- or post-test, scored automatically.

    ``answers`` maps question ids to option ids (strings or numbers). Every question of
    the programme's test must be answered, with one of its own options; an answer to a
    question not in the test is refused. Raises ``Forbidden``, ``NotFound`` (no such
    test), ``Conflict`` (already taken) or ``ValidationError``; nothing is written then.
    """
    kind = _check_kind(kind)
    if not policy.can_take_test(user, enrolment):
        raise Forbidden(_("Only the trainee takes their own test."))
    if attempt_of(enrolment, kind) is not None:
        raise Conflict(_("This test has already been taken."))
    questions = {q.id: q for q in test_questions(enrolment.cohort.programme)}
    if not questions:
        raise ValidationError(_("This programme has no test questions yet."))
    chosen: dict[int, int] = {}
    errors: dict[str, str] = {}
    for raw_question, raw_option in answers.items():
        question_id, option_id = _int_id(raw_question), _int_id(raw_option)
        if question_id is None or question_id not in questions:
            errors[f"q{raw_question}"] = _("This question is not part of the test.")
            continue
        if option_id is None or option_id not in {o.id for o in questions[question_id].options}:
            errors[f"q{question_id}"] = _("Choose one of the question's options.")
            continue
        chosen[question_id] = option_id
    for question_id in questions:
        if question_id not in chosen and f"q{question_id}" not in errors:
            errors[f"q{question_id}"] = _("Answer this question.")
    if errors:
        raise ValidationError(_("The test was not recorded."), fields=errors)
    correct_ids = {o.id for q in questions.values() for o in q.options if o.is_correct}
    attempt = Attempt(enrolment_id=enrolment.id, kind=kind, total=len(questions))
    attempt.answers = [
        Answer(question_id=q, option_id=o, correct=o in correct_ids) for q, o in chosen.items()
    ]
    attempt.correct = sum(1 for a in attempt.answers if a.correct)
    attempt.score = round(100 * attempt.correct / attempt.total, 1)
    db.session.add(attempt)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same test sent twice at once
        db.session.rollback()
        raise Conflict(_("This test has already been taken.")) from exc
    return attempt


def record_score(user: Any, enrolment: Enrolment, kind: Any, score: Any) -> Attempt:
    """A trainer records (or corrects) the score of a paper test. Raises ``Forbidden``,
    ``NotFound`` or ``ValidationError`` (a score outside 0-100); nothing is written then."""
    # The access check first: someone who may not record scores learns nothing more.
    if not policy.can_update_cohort(user, enrolment.cohort):
        raise Forbidden(_("Only the cohort's trainers record scores."))
    kind = _check_kind(kind)
    value = parse_score(score)
    attempt = attempt_of(enrolment, kind)
    if attempt is not None and attempt.recorded_by_id is None:
        raise Conflict(_("The trainee took this test online; its score stands."))
    if attempt is None:
        attempt = Attempt(enrolment_id=enrolment.id, kind=kind)
        db.session.add(attempt)
    before = attempt.score
    attempt.score, attempt.recorded_by_id = value, user.id
    attempt.correct = attempt.total = None
    audit.record(
        user,
        "training.score_recorded",
        "enrolment",
        enrolment.id,
        before={"kind": kind, "score": before},
        after={"kind": kind, "score": value},
        network_id=enrolment.cohort.programme.network_id,
    )
    db.session.commit()
    return attempt


@dataclass
class Gain:
    trainees: int = 0
    pre_mean: float | None = None
    post_mean: float | None = None

    @property
    def points(self) -> float | None:
        if self.pre_mean is None or self.post_mean is None:
            return None
        return round(self.post_mean - self.pre_mean, 1)

    @property
    def percent(self) -> float | None:
        if self.points is None or not self.pre_mean:
            return None
        return round(100 * (self.post_mean - self.pre_mean) / self.pre_mean, 1)  # type: ignore[operator]

    def payload(self) -> dict[str, Any]:
        return {
            "trainees": self.trainees,
            "pre_mean": self.pre_mean,
            "post_mean": self.post_mean,
            "points": self.points,
            "percent": self.percent,
        }


def gain_of(pairs: Iterable[tuple[float | None, float | None]]) -> Gain:
    """Knowledge gain over the trainees who have both a pre and a post score."""
    both = [(pre, post) for pre, post in pairs if pre is not None and post is not None]
    if not both:
        return Gain()
    return Gain(
        trainees=len(both),
        pre_mean=round(sum(p for p, _q in both) / len(both), 1),
        post_mean=round(sum(q for _p, q in both) / len(both), 1),
    )


def scores_by_enrolment(ids: list[int]) -> dict[int, dict[str, float]]:
    result: dict[int, dict[str, float]] = defaultdict(dict)
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(Attempt.enrolment_id, Attempt.kind, Attempt.score).where(
                Attempt.enrolment_id.in_(ids[start : start + 500])
            )
        )
        for enrolment_id, kind, score in rows:
            result[enrolment_id][kind] = score
    return result


# --- Certification -------------------------------------------------------------------------------


def unmet_requirements(enrolment: Enrolment) -> list[str]:
    """Why ``enrolment`` does not (yet) meet the programme's rule; empty when it does."""
    programme = enrolment.cohort.programme
    reasons = []
    total = len(programme.modules)
    done = completed_count(enrolment)
    if total == 0:
        reasons.append(_("The programme has no modules."))
    elif done < total:
        reasons.append(_("%(done)d of %(total)d modules completed.", done=done, total=total))
    post = attempt_of(enrolment, AttemptKind.POST)
    if post is None:
        reasons.append(_("No post-test score."))
    elif post.score < programme.pass_threshold:
        reasons.append(
            _(
                "Post-test score %(score)s%% is below the threshold of %(threshold)d%%.",
                score=f"{post.score:g}",
                threshold=programme.pass_threshold,
            )
        )
    return reasons


def certify(user: Any, enrolment: Enrolment, today: date) -> Certificate:
    """Certify a trainee as a trainer. Raises ``Forbidden`` (not a coordinator),
    ``Conflict`` (already certified) or ``ValidationError`` (the rule is not met, with
    the reasons); nothing is written then."""
    programme = enrolment.cohort.programme
    if not policy.can_certify(user, programme):
        raise Forbidden(_("Only a coordinator of the network certifies trainers."))
    if enrolment.certificate is not None:
        raise Conflict(_("This trainee is already certified."))
    reasons = unmet_requirements(enrolment)
    if reasons:
        raise ValidationError(
            _("%(name)s does not meet the certification rule: %(reasons)s",
              name=enrolment.name, reasons=" ".join(reasons)),
            fields={"certificate": " ".join(reasons)},
        )  # fmt: skip
    certificate = Certificate(
        enrolment_id=enrolment.id,
        programme_id=programme.id,
        user_id=enrolment.user_id,
        holder_name=enrolment.name,
        code=secrets.token_urlsafe(CODE_BYTES),
        issued_on=today,
        issued_by_id=user.id,
    )
    db.session.add(certificate)
    db.session.flush()
    audit.record(user, "training.certified", "certificate", certificate.id,
                 after={"enrolment_id": enrolment.id}, network_id=programme.network_id)  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(_("This trainee is already certified.")) from exc
    return certificate


def verify(code: Any) -> Certificate:
    """The certificate with this code, for the public page. Raises ``NotFound``."""
    text = str(code or "")
    if not 10 <= len(text) <= 40:
        raise NotFound(_("No certificate has this verification code."))
    found = db.session.scalar(select(Certificate).where(Certificate.code == text))
    if found is None:
        raise NotFound(_("No certificate has this verification code."))
    return found


def my_enrolments(user: Any) -> list[Enrolment]:
    if not policy.is_signed_in(user):
        return []
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.user_id == user.id)
            .options(selectinload(Enrolment.attempts), selectinload(Enrolment.cohort))
            .order_by(Enrolment.id)
        )
    )


def my_trainer_cohorts(user: Any) -> list[Cohort]:
    if not policy.is_signed_in(user):
        return []
    return list(
        db.session.scalars(
            select(Cohort)
            .where(Cohort.trainers.any(User.id == user.id) | (Cohort.parent_trainer_id == user.id))
            .order_by(Cohort.starts_on)
        )
    )


# --- Cascade and report -----------------------------------------------------------------------


@dataclass
class CohortNode:
    cohort: Cohort
    generation: int
    trainees: int
    children: list[CohortNode] = field(default_factory=list)


@dataclass
class Row:
    """One trainee as the report sees them."""

    enrolment_id: int
    cohort_id: int
    name: str
    country: str
    profession: str
    gender: str | None
    generation: int
    completed: int
    pre: float | None
    post: float | None
    certified: bool


def cascade_tree(programme: Programme) -> tuple[list[CohortNode], dict[int, int]]:
    """The cohorts as a forest (programme cohorts at the roots, each cascade cohort under
    the cohort where its trainer was certified) and each cohort's generation."""
    cohorts = list(programme.cohorts)
    counts = dict(
        db.session.execute(
            select(Enrolment.cohort_id, func.count())
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Cohort.programme_id == programme.id)
            .group_by(Enrolment.cohort_id)
        ).all()
    )
    certified_in = dict(
        db.session.execute(
            select(Certificate.user_id, Enrolment.cohort_id)
            .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
            .where(Certificate.programme_id == programme.id, Certificate.user_id.is_not(None))
        ).all()
    )
    nodes = {c.id: CohortNode(c, 1, int(counts.get(c.id, 0))) for c in cohorts}
    roots: list[CohortNode] = []
    for cohort in cohorts:
        parent_id = certified_in.get(cohort.parent_trainer_id) if cohort.parent_trainer_id else None
        if parent_id is not None and parent_id in nodes and parent_id != cohort.id:
            nodes[parent_id].children.append(nodes[cohort.id])
        else:
            roots.append(nodes[cohort.id])
    generations: dict[int, int] = {}

    def walk(node: CohortNode, depth: int) -> None:
        if node.cohort.id in generations:  # a cycle in bad data: stop
            return
        node.generation = depth
        generations[node.cohort.id] = depth
        for child in node.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 1)
    return roots, generations


def report_rows(programme: Programme, generations: dict[int, int]) -> list[Row]:
    enrolments = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.cohort_id,
            Enrolment.name,
            Enrolment.country,
            Enrolment.profession,
            Enrolment.gender,
        )
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.programme_id == programme.id)
        .order_by(Enrolment.cohort_id, Enrolment.name, Enrolment.id)
    ).all()
    ids = [e.id for e in enrolments]
    completed: dict[int, int] = {}
    certified: set[int] = set()
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        completed.update(
            db.session.execute(
                select(ModuleProgress.enrolment_id, func.count())
                .where(
                    ModuleProgress.enrolment_id.in_(batch),
                    ModuleProgress.status == ProgressStatus.COMPLETED,
                )
                .group_by(ModuleProgress.enrolment_id)
            ).all()
        )
        certified.update(
            db.session.scalars(
                select(Certificate.enrolment_id).where(Certificate.enrolment_id.in_(batch))
            )
        )
    scores = scores_by_enrolment(ids)
    return [
        Row(
            enrolment_id=e.id,
            cohort_id=e.cohort_id,
            name=e.name,
            country=e.country,
            profession=e.profession,
            gender=e.gender,
            generation=generations.get(e.cohort_id, 1),
            completed=int(completed.get(e.id, 0)),
            pre=scores.get(e.id, {}).get(AttemptKind.PRE),
            post=scores.get(e.id, {}).get(AttemptKind.POST),
            certified=e.id in certified,
        )
        for e in enrolments
    ]


def _sorted_counts(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


def reach(programme: Programme) -> dict[str, Any]:
    """Head counts of the cascade, for everyone who may view the programme (no names, no
    scores): direct trainees, later generations, total, certified trainers."""
    _roots, generations = cascade_tree(programme)
    counts = dict(
        db.session.execute(
            select(Enrolment.cohort_id, func.count())
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Cohort.programme_id == programme.id)
            .group_by(Enrolment.cohort_id)
        ).all()
    )
    direct = sum(n for c, n in counts.items() if generations.get(c, 1) == 1)
    total = sum(counts.values())
    certified = db.session.scalar(
        select(func.count())
        .select_from(Certificate)
        .where(Certificate.programme_id == programme.id)
    )
    people = db.session.execute(
        select(Enrolment.country, Enrolment.profession)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.programme_id == programme.id)
    ).all()
    return {
        "direct_trainees": direct,
        "later_generations": total - direct,
        "total": total,
        "certified": int(certified or 0),
        "by_country": _sorted_counts(country for country, _p in people),
        "by_profession": _sorted_counts(profession for _c, profession in people),
    }


def cohort_gains(
    programme: Programme, rows: Iterable[Row], generations: Mapping[int, int]
) -> list[dict[str, Any]]:
    """Each cohort's knowledge gain, in the programme's cohort order, from the report's
    rows (no query per cohort): ``cohort_id, title, generation`` and the gain's figures;
    a cohort without trainees who took both tests has ``trainees`` 0 and no means."""
    pairs: dict[int, list[tuple[float | None, float | None]]] = defaultdict(list)
    for r in rows:
        pairs[r.cohort_id].append((r.pre, r.post))
    return [
        {
            "cohort_id": cohort.id,
            "title": cohort.title,
            "generation": generations.get(cohort.id, 1),
            **gain_of(pairs[cohort.id]).payload(),
        }
        for cohort in programme.cohorts
    ]


def report(programme: Programme) -> dict[str, Any]:
    """The programme's report (API.md): ``participants, by_country, by_profession,
    completion_rate, knowledge_gain, cascade_reach`` and, beyond those, ``by_gender``,
    ``certified``, ``knowledge_gain_by_cohort`` and the programme's id and title."""
    _roots, generations = cascade_tree(programme)
    rows = report_rows(programme, generations)
    direct = [r for r in rows if r.generation == 1]
    later = [r for r in rows if r.generation > 1]
    modules = len(programme.modules)
    completed = sum(1 for r in direct if modules and r.completed >= modules)
    by_generation = Counter(r.generation for r in rows)
    return {
        "programme": {"id": programme.id, "title": programme.title},
        "participants": len(direct),
        "by_country": _sorted_counts(r.country for r in direct),
        "by_profession": _sorted_counts(r.profession for r in direct),
        "by_gender": _sorted_counts(r.gender or NOT_GIVEN for r in direct),
        "completion_rate": round(completed / len(direct), 3) if direct else None,
        "knowledge_gain": gain_of((r.pre, r.post) for r in direct).payload(),
        "knowledge_gain_by_cohort": cohort_gains(programme, rows, generations),
        "certified": sum(1 for r in rows if r.certified),
        "cascade_reach": {
            "direct_trainees": len(direct),
            "later_generations": len(later),
            "total": len(rows),
            "cascade_cohorts": sum(1 for g in generations.values() if g > 1),
            "by_generation": {str(g): n for g, n in sorted(by_generation.items())},
            "by_country": _sorted_counts(r.country for r in rows),
            "by_profession": _sorted_counts(r.profession for r in rows),
        },
    }


CSV_COLUMNS = (
    "name",
    "cohort",
    "generation",
    "country",
    "profession",
    "gender",
    "modules_completed",
    "pre_score",
    "post_score",
    "gain_points",
    "certified",
)
CSV_LABELS = {
    "name": _l("Name"),
    "cohort": _l("Cohort"),
    "generation": _l("Generation"),
    "country": _l("Country"),
    "profession": _l("Profession"),
    "gender": _l("Gender"),
    "modules_completed": _l("Modules completed"),
    "pre_score": _l("Pre-test score"),
    "post_score": _l("Post-test score"),
    "gain_points": _l("Gain (points)"),
    "certified": _l("Certified"),
}


def export_report_csv(user: Any, programme: Programme) -> str:
    """The report CSV for ``user``, the export recorded in the audit log (ASVS 7.2.2)."""
    body = report_csv(programme)
    audit.record(
        user, "training.report_export", "programme", programme.id, network_id=programme.network_id
    )
    db.session.commit()
    return body


def report_csv(programme: Programme) -> str:
    """One line per trainee of every generation, guarded against formula injection."""
    _roots, generations = cascade_tree(programme)
    titles = {c.id: c.title for c in programme.cohorts}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header_row(CSV_COLUMNS, CSV_LABELS))
    for r in report_rows(programme, generations):
        gain = None if r.pre is None or r.post is None else round(r.post - r.pre, 1)
        values = {
            "name": r.name,
            "cohort": titles.get(r.cohort_id, ""),
            "generation": r.generation,
            "country": r.country,
            "profession": r.profession,
            "gender": r.gender or "",
            "modules_completed": r.completed,
            "pre_score": r.pre,
            "post_score": r.post,
            "gain_points": gain,
            "certified": r.certified,
        }
        writer.writerow([csv_cell(column, values[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def programme_payload(programme: Programme) -> dict[str, Any]:
    return {
        "id": programme.id,
        "network": programme.network.slug,
        "title": programme.title,
        "description": programme.description,
        "pass_threshold": programme.pass_threshold,
        "modules": [
            {
                "id": m.id,
                "position": m.position,
                "title": m.title,
                "duration_minutes": m.duration_minutes,
            }
            for m in programme.modules
        ],
        "cohorts": len(programme.cohorts),
    }
