"""The contact-point directory: networks, entries, faceted search, staleness, handover."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import phonenumbers
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from network import i18n, policy, signing
from network.errors import Forbidden, NotFound, ValidationError
from network.extensions import db
from network.i18n import fold
from network.models.base import utcnow
from network.models.directory import (
    AttributeKind,
    AuthorityType,
    ContactPoint,
    ContactPointAttribute,
    Expertise,
    Network,
    NetworkMemberState,
    TransmissionChannel,
    contact_point_networks,
)
from network.models.network_names import NetworkName
from network.services import accounts, audit, directory_index, mail

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
SORTS = ("name", "country", "confirmed_desc", "confirmed_asc")
CONFIRM_LINK_MAX_AGE = 60 * 24 * 3600
_PHONE_SHAPE = re.compile(r"^\+[0-9][0-9 ().\-/]{5,29}((\s*(ext\.?|x)\s*)[0-9]{1,6})?$", re.I)
_CP_LOAD = (
    selectinload(ContactPoint.networks),
    selectinload(ContactPoint.attributes),
)

# --- Labels -----------------------------------------------------------------------------


# Labels are lazy strings built once; a lookup translates only the one label it needs.
_AUTHORITY_TYPE_LABELS = {
    AuthorityType.CENTRAL_AUTHORITY: _l("Central authority"),
    AuthorityType.PROSECUTION: _l("Prosecution"),
    AuthorityType.JUDICIARY: _l("Judiciary"),
    AuthorityType.LAW_ENFORCEMENT: _l("Police / law enforcement"),
    AuthorityType.LIAISON_MAGISTRATE: _l("Liaison magistrate"),
    AuthorityType.SECRETARIAT: _l("Network secretariat"),
}


_EXPERTISE_LABELS = {
    Expertise.EXTRADITION: _l("Extradition"),
    Expertise.MLA: _l("Mutual legal assistance"),
    Expertise.CONFISCATION: _l("Confiscation and asset recovery"),
    Expertise.E_EVIDENCE: _l("Electronic evidence"),
    Expertise.JOINT_INVESTIGATIONS: _l("Joint investigations"),
    Expertise.SPECIAL_TECHNIQUES: _l("Special investigative techniques"),
    Expertise.TRANSFER_OF_PROCEEDINGS: _l("Transfer of proceedings"),
    Expertise.TRANSFER_OF_SENTENCED: _l("Transfer of sentenced persons"),
    Expertise.CULTURAL_PROPERTY: _l("Cultural property"),
    Expertise.TERRORISM: _l("Terrorism"),
    Expertise.CYBERCRIME: _l("Cybercrime"),
}


_CHANNEL_LABELS = {
    TransmissionChannel.SECURE_PLATFORM: _l("Secure platform"),
    TransmissionChannel.EMAIL: _l("E-mail"),
    TransmissionChannel.DIPLOMATIC: _l("Diplomatic channel"),
    TransmissionChannel.INTERPOL: _l("INTERPOL"),
    TransmissionChannel.POST: _l("Post"),
}


_ACTION_LABELS = {
    "contact_point.create": _l("Created"),
    "contact_point.update": _l("Edited"),
    "contact_point.confirm": _l("Confirmed"),
    "contact_point.remind": _l("Reminder sent"),
    "contact_point.handover": _l("Handed over"),
    "contact_point.takeover": _l("Took over"),
    "contact_point.link": _l("Account link changed"),
}


def _label(labels: Mapping[str, Any], code: str) -> str:
    label = labels.get(code)
    return code if label is None else str(label)


def authority_type_label(code: str) -> str:
    return _label(_AUTHORITY_TYPE_LABELS, code)


def expertise_label(code: str) -> str:
    return _label(_EXPERTISE_LABELS, code)


def channel_label(code: str) -> str:
    return _label(_CHANNEL_LABELS, code)


def action_label(action: str) -> str:
    """A readable name for an audit action."""
    return _label(_ACTION_LABELS, action)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, localised label) pairs for a select box."""
    if kind == "authority_type":
        return [(t.value, authority_type_label(t)) for t in AuthorityType]
    if kind == "expertise":
        return [(t.value, expertise_label(t)) for t in Expertise]
    if kind == "channel":
        return [(t.value, channel_label(t)) for t in TransmissionChannel]
    raise KeyError(kind)


# --- Networks ---------------------------------------------------------------------------


def list_networks() -> list[Network]:
    return list(
        db.session.scalars(
            select(Network).options(selectinload(Network.member_states)).order_by(Network.acronym)
        )
    )


def get_network(slug: str) -> Network:
    network = db.session.scalar(select(Network).where(Network.slug == slug))
    if network is None:
        raise NotFound(_("No such network."))
    return network


def readable_networks(user: Any) -> list[Network]:
    scope = policy.readable_network_ids(user)
    return [n for n in list_networks() if scope is None or n.id in scope]


def update_network(network: Network, data: Mapping[str, Any], actor: Any) -> Network:
    """Edit a network's details and member states; raises ``Forbidden``, ``ValidationError``."""
    if not policy.can_manage_network(actor, network):
        raise Forbidden()
    errors: dict[str, str] = {}
    name = str(data.get("name", "")).strip()
    acronym = str(data.get("acronym", "")).strip()
    if not name or len(name) > 200:
        errors["name"] = _("A name of at most 200 characters is required.")
    if not acronym or len(acronym) > 40:
        errors["acronym"] = _("An acronym of at most 40 characters is required.")
    languages = _codes(data.get("languages", []), i18n.language_codes(), "languages", errors)
    states = _codes(data.get("member_states", []), i18n.country_codes(), "member_states", errors)
    region = str(data.get("region", "")).strip()[:120]
    secretariat = str(data.get("secretariat", "")).strip()[:2000]
    names = _localized_names(data.get("names"), errors)
    if errors:
        raise ValidationError(fields=errors)
    before = network_snapshot(network)
    network.default_name, network.acronym, network.region = name, acronym, region
    if names is not None:
        set_network_names(network, names)
    network.languages = languages
    network.secretariat = secretariat
    if "require_2fa" in data and policy.can_require_second_factor(actor, network):
        # Issue 8: members without two-factor sign-in are sent to enrol first.
        network.require_2fa = bool(data.get("require_2fa"))
    existing = {s.country: s for s in network.member_states}
    for code in set(existing) - set(states):
        network.member_states.remove(existing[code])
    for code in states:
        if code not in existing:
            network.member_states.append(NetworkMemberState(country=code))
    db.session.flush()
    changed_before, changed_after = audit.diff(before, network_snapshot(network))
    if changed_after:
        audit.record(actor, "network.update", "network", network.id, changed_before, changed_after)
    db.session.commit()
    return network


# --- Names per language (issue 9) -------------------------------------------------------


def name_locales() -> list[str]:
    """The languages a network's name can be given in: the interface's six languages."""
    return list(current_app.config.get("SUPPORTED_LANGUAGES") or current_app.config["LANGUAGES"])


def _localized_names(raw: Any, errors: dict[str, str]) -> dict[str, str] | None:
    """``{locale: name}`` from a form (None: the names are not being edited)."""
    if raw is None:
        return None
    names: dict[str, str] = {}
    allowed = name_locales()
    for code, value in dict(raw).items():
        text = str(value or "").strip()
        if code not in allowed:
            errors[f"name_{code}"] = _("This language is not available.")
        elif len(text) > 200:
            errors[f"name_{code}"] = _("A name of at most 200 characters is required.")
        elif text:
            names[code] = text
    return names


def set_network_names(network: Network, names: Mapping[str, str]) -> None:
    """Replace the network's names per language by ``names`` (empty ones are dropped)."""
    wanted = {code: name for code, name in names.items() if name}
    existing = {entry.locale: entry for entry in network.localized_names}
    for code in set(existing) - set(wanted):
        network.localized_names.remove(existing[code])
    for code, name in wanted.items():
        if code in existing:
            existing[code].name = name
        else:
            network.localized_names.append(NetworkName(locale=code, name=name))


def network_snapshot(network: Network) -> dict[str, Any]:
    return {
        "name": network.default_name,
        "names": dict(sorted(network.names_by_locale.items())),
        "acronym": network.acronym,
        "region": network.region,
        "languages": list(network.languages or []),
        "secretariat": network.secretariat,
        "member_states": sorted(network.country_codes),
        "require_2fa": bool(network.require_2fa),
    }


# --- Validation of a contact point -------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]
    return [str(part).strip() for part in value if str(part).strip()]


def _codes(
    value: Any, allowed: Iterable[str], field_name: str, errors: dict[str, str], *, upper=True
) -> list[str]:
    allowed_set = set(allowed)
    codes: list[str] = []
    for raw in _as_list(value):
        code = (
            raw.upper()
            if upper and len(raw) == 2 and field_name in {"country", "member_states"}
            else raw
        )
        if field_name in {"languages", "request_languages"}:
            code = raw.lower()
        if code not in allowed_set:
            errors[field_name] = _("Unknown value: %(value)s", value=raw)
            return []
        if code not in codes:
            codes.append(code)
    return codes


def _text(data: Mapping[str, Any], key: str, limit: int, errors: dict[str, str]) -> str:
    value = data.get(key)
    text = "" if value is None else str(value).strip()
    if len(text) > limit:
        errors[key] = _("Use at most %(n)d characters.", n=limit)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        errors[key] = _("Contains control characters.")
    return text


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in {"1", "true", "yes", "y", "on", "oui", "x"}:
        return True
    if text in {"", "0", "false", "no", "n", "off", "non"}:
        return False
    return None


def validate_phone(raw: str) -> str:
    """Return a phone number tidied; raises ``ValueError`` with a reason.

    Numbers are international (+country code). +000 is accepted as the range for
    fictional numbers (demo data); a real country code must also have a possible length.
    """
    number = " ".join(raw.split())
    if not _PHONE_SHAPE.match(number):
        raise ValueError(_("Use the international format, e.g. +221 33 000 00 00."))
    digits = re.sub(r"\D", "", number.split("x")[0].split("ext")[0])
    if not 7 <= len(digits) <= 15:
        raise ValueError(_("A phone number has 7 to 15 digits."))
    if not digits.startswith("000"):
        try:
            parsed = phonenumbers.parse(number, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(_("This is not a valid phone number.")) from exc
        if not phonenumbers.is_possible_number(parsed):
            raise ValueError(_("This is not a possible number for its country."))
    return number


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def clean_contact_point(
    data: Mapping[str, Any], *, networks_required: bool = True
) -> dict[str, Any]:
    """Validate raw input (form, API or CSV row) into clean values.

    Raises ``ValidationError`` with a message per field; nothing is written.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        "name": _text(data, "name", 200, errors),
        "title": _text(data, "title", 200, errors),
        "institution": _text(data, "institution", 300, errors),
        "office_hours": _text(data, "office_hours", 200, errors),
        "postal_address": _text(data, "postal_address", 1000, errors),
        "notes": _text(data, "notes", 5000, errors),
    }
    if not clean["name"] and "name" not in errors:
        errors["name"] = _("A name is required.")
    authority = str(data.get("authority_type") or "").strip()
    if authority not in {t.value for t in AuthorityType}:
        errors["authority_type"] = _("Choose an authority type from the list.")
    clean["authority_type"] = authority
    country = str(data.get("country") or "").strip().upper()
    if country not in i18n.country_codes():
        errors["country"] = i18n.country_code_message()
    clean["country"] = country
    language_codes = i18n.language_codes()
    clean["languages"] = _codes(data.get("languages"), language_codes, "languages", errors)
    clean["request_languages"] = _codes(
        data.get("request_languages"), language_codes, "request_languages", errors
    )
    clean["channels"] = _codes(
        data.get("channels"), [c.value for c in TransmissionChannel], "channels", errors
    )
    clean["expertise"] = _codes(
        data.get("expertise"), [e.value for e in Expertise], "expertise", errors
    )
    for key in ("e_signature_accepted", "available_24_7"):
        flag = _bool(data.get(key))
        if flag is None:
            errors[key] = _("Use yes or no.")
        clean[key] = bool(flag)
    tz = str(data.get("office_timezone") or "UTC").strip()
    if not i18n.is_valid_timezone(tz):
        errors["office_timezone"] = _("Choose a time zone from the list (e.g. Africa/Dakar).")
    clean["office_timezone"] = tz
    email = str(data.get("email") or "").strip()
    if email:
        try:
            email = accounts.normalise_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address.")
    clean["email"] = email
    phones = []
    for raw in _as_list(data.get("phones")):
        try:
            phones.append(validate_phone(raw))
        except ValueError as exc:
            errors["phones"] = f"{raw}: {exc}"
            break
    clean["phones"] = phones
    try:
        confirmed = _parse_date(data.get("last_confirmed"))
        if confirmed is not None and confirmed > utcnow().date():
            errors["last_confirmed"] = _("The date cannot be in the future.")
        clean["last_confirmed"] = confirmed
    except ValueError:
        errors["last_confirmed"] = _("Use a date like 2026-01-31.")
    slugs = _as_list(data.get("networks"))
    clean["networks"] = slugs
    if networks_required and not slugs:
        errors["networks"] = _("Choose at least one network.")
    if errors:
        raise ValidationError(fields=errors)
    return clean


def _resolve_networks(slugs: list[str], actor: Any, errors: dict[str, str]) -> list[Network]:
    found = {n.slug: n for n in db.session.scalars(select(Network).where(Network.slug.in_(slugs)))}
    networks = []
    for slug in slugs:
        network = found.get(slug)
        if network is None:
            errors["networks"] = _("Unknown network: %(slug)s", slug=slug)
        elif not policy.can_manage_directory(actor, network):
            errors["networks"] = _(
                "You cannot add entries to %(network)s.", network=network.acronym
            )
        else:
            networks.append(network)
    return networks


# --- Writing contact points ---------------------------------------------------------------


def snapshot(cp: ContactPoint) -> dict[str, Any]:
    """The entry's values, as stored in the audit trail and exported."""
    return {
        "name": cp.name,
        "title": cp.title,
        "institution": cp.institution,
        "authority_type": cp.authority_type,
        "country": cp.country,
        "networks": sorted(n.slug for n in cp.networks),
        "languages": cp.languages,
        "request_languages": cp.request_languages,
        "channels": cp.channels,
        "expertise": cp.expertise,
        "e_signature_accepted": cp.e_signature_accepted,
        "available_24_7": cp.available_24_7,
        "office_hours": cp.office_hours,
        "office_timezone": cp.office_timezone,
        "email": cp.email,
        "phones": list(cp.phones or []),
        "postal_address": cp.postal_address,
        "notes": cp.notes,
        "last_confirmed": cp.last_confirmed_at.isoformat() if cp.last_confirmed_at else None,
    }


def _apply(cp: ContactPoint, clean: dict[str, Any], networks: list[Network]) -> None:
    for key in (
        "name",
        "title",
        "institution",
        "authority_type",
        "country",
        "e_signature_accepted",
        "available_24_7",
        "office_hours",
        "office_timezone",
        "email",
        "postal_address",
        "notes",
    ):
        setattr(cp, key, clean[key])
    cp.phones = clean["phones"]
    if clean.get("last_confirmed") is not None:
        cp.last_confirmed_at = clean["last_confirmed"]
    cp.networks = networks
    wanted = [
        (kind, code)
        for kind, key in (
            (AttributeKind.EXPERTISE, "expertise"),
            (AttributeKind.LANGUAGE, "languages"),
            (AttributeKind.REQUEST_LANGUAGE, "request_languages"),
            (AttributeKind.CHANNEL, "channels"),
        )
        for code in clean[key]
    ]
    current = {(a.kind, a.code): a for a in cp.attributes}
    for pair, attribute in current.items():
        if pair not in wanted:
            cp.attributes.remove(attribute)
    for kind, code in wanted:
        if (kind, code) not in current:
            cp.attributes.append(ContactPointAttribute(kind=kind.value, code=code))
    cp.search_text = fold(" ".join([cp.name, cp.title, cp.institution, cp.notes, cp.email]))
    cp.updated_at = utcnow()


def create_contact_point(
    data: Mapping[str, Any], actor: Any, *, commit: bool = True
) -> ContactPoint:
    """Create an entry in networks the actor manages; raises ``ValidationError``."""
    clean = clean_contact_point(data)
    errors: dict[str, str] = {}
    networks = _resolve_networks(clean["networks"], actor, errors)
    if errors:
        raise ValidationError(fields=errors)
    cp = ContactPoint()
    if clean.get("last_confirmed") is None:
        cp.last_confirmed_at = utcnow().date()
    _apply(cp, clean, networks)
    db.session.add(cp)
    db.session.flush()
    audit.record(actor, "contact_point.create", "contact_point", cp.id, after=snapshot(cp))
    if commit:
        db.session.commit()
    return cp


def update_contact_point(
    cp: ContactPoint, data: Mapping[str, Any], actor: Any, *, commit: bool = True
) -> ContactPoint:
    """Edit an entry; networks the actor does not manage stay as they were.

    Raises ``Forbidden`` or ``ValidationError``.
    """
    if not policy.can_edit_contact_point(actor, cp):
        raise Forbidden()
    clean = clean_contact_point(data)
    errors: dict[str, str] = {}
    managed = policy.managed_network_ids(actor)
    kept = [n for n in cp.networks if managed is not None and n.id not in managed]
    wanted = [s for s in clean["networks"] if s not in {n.slug for n in kept}]
    networks = kept + _resolve_networks(wanted, actor, errors)
    if not networks:
        errors["networks"] = _("Choose at least one network.")
    if errors:
        raise ValidationError(fields=errors)
    before = snapshot(cp)
    _apply(cp, clean, networks)
    db.session.flush()
    changed_before, changed_after = audit.diff(before, snapshot(cp))
    if changed_after:
        audit.record(
            actor, "contact_point.update", "contact_point", cp.id, changed_before, changed_after
        )
    if commit:
        db.session.commit()
    return cp


def link_account(cp: ContactPoint, user_email: str | None, actor: Any) -> None:
    """Link an entry to an account (or unlink with an empty e-mail)."""
    if not policy.can_edit_contact_point(actor, cp):
        raise Forbidden()
    user = None
    if user_email:
        user = accounts.get_user_by_email(user_email)
        if user is None:
            raise ValidationError(fields={"user_email": _("No account has this e-mail.")})
    before = {"user_id": cp.user_id}
    cp.user_id = user.id if user else None
    audit.record(
        actor, "contact_point.link", "contact_point", cp.id, before, {"user_id": cp.user_id}
    )
    db.session.commit()


def confirm_contact_point(cp: ContactPoint, actor: Any) -> None:
    """Mark the entry as confirmed today; raises ``Forbidden``."""
    if not policy.can_confirm_contact_point(actor, cp):
        raise Forbidden()
    _confirm(cp, actor)


def _confirm(cp: ContactPoint, actor: Any) -> None:
    before = {"last_confirmed": cp.last_confirmed_at.isoformat() if cp.last_confirmed_at else None}
    cp.last_confirmed_at = utcnow().date()
    audit.record(
        actor,
        "contact_point.confirm",
        "contact_point",
        cp.id,
        before,
        {"last_confirmed": cp.last_confirmed_at.isoformat()},
    )
    db.session.commit()


def hand_over(old: ContactPoint, new: ContactPoint, actor: Any) -> None:
    """Mark ``old`` as succeeded by ``new``; the old entry stays readable as history.

    Raises ``Forbidden`` or ``ValidationError``.
    """
    if not policy.can_edit_contact_point(actor, old) or not policy.can_edit_contact_point(
        actor, new
    ):
        raise Forbidden()
    if old.id == new.id:
        raise ValidationError(fields={"successor": _("An entry cannot succeed itself.")})
    if new.succeeded_by_id is not None:
        raise ValidationError(fields={"successor": _("The successor has itself been replaced.")})
    if old.succeeded_by_id is not None:
        raise ValidationError(fields={"successor": _("This entry has already been handed over.")})
    old.succeeded_by_id = new.id
    old.succeeded_at = utcnow()
    audit.record(
        actor,
        "contact_point.handover",
        "contact_point",
        old.id,
        {"succeeded_by": None},
        {"succeeded_by": new.id, "successor_name": new.name},
    )
    audit.record(
        actor,
        "contact_point.takeover",
        "contact_point",
        new.id,
        None,
        {"predecessor": old.id, "predecessor_name": old.name},
    )
    db.session.commit()


# --- Reading contact points ---------------------------------------------------------------


def get_contact_point(cp_id: int, user: Any) -> ContactPoint:
    """Load an entry the user may read; raises ``NotFound`` or ``Forbidden``."""
    cp = db.session.get(ContactPoint, cp_id, options=_CP_LOAD)
    if cp is None:
        raise NotFound(_("No such contact point."))
    if not policy.can_read_contact_point(user, cp):
        raise Forbidden()
    return cp


def predecessors(cp: ContactPoint) -> list[ContactPoint]:
    return list(
        db.session.scalars(select(ContactPoint).where(ContactPoint.succeeded_by_id == cp.id))
    )


def own_entries(user: Any) -> list[ContactPoint]:
    if not policy.is_signed_in(user):
        return []
    return list(db.session.scalars(select(ContactPoint).where(ContactPoint.user_id == user.id)))


def stale_before() -> date:
    return utcnow().date() - timedelta(days=current_app.config["STALE_AFTER_DAYS"])


def is_stale(cp: ContactPoint) -> bool:
    return cp.last_confirmed_at is None or cp.last_confirmed_at < stale_before()


# --- Search -------------------------------------------------------------------------------

FACETS = ("network", "country", "authority_type", "expertise", "language", "available_24_7")


@dataclass
class SearchQuery:
    q: str = ""
    network: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    authority_type: list[str] = field(default_factory=list)
    expertise: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    available_24_7: bool | None = None
    stale_only: bool = False
    include_former: bool = False
    sort: str = "name"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    def selected(self, facet: str) -> list[str]:
        if facet == "available_24_7":
            return [] if self.available_24_7 is None else ["yes" if self.available_24_7 else "no"]
        return list(getattr(self, facet))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class SearchResult:
    query: SearchQuery
    items: list[ContactPoint]
    total: int
    facets: dict[str, list[FacetValue]]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


def parse_query(args: Any, user: Any) -> SearchQuery:
    """Read a search from request arguments; raises ``ValidationError`` for unknown values.

    ``args`` is a ``MultiDict`` (repeated keys) or a mapping with comma-separated values.
    """
    errors: dict[str, str] = {}

    def many(key: str) -> list[str]:
        if hasattr(args, "getlist"):
            values = args.getlist(key)
        else:
            values = [args.get(key)] if args.get(key) is not None else []
        return [v for raw in values for v in _as_list(raw)]

    readable = set(_readable_networks_brief(user))
    query = SearchQuery(q=str(args.get("q") or "").strip()[:200])
    query.network = _codes(many("network"), readable, "network", errors)
    query.country = [c.upper() for c in many("country")]
    _codes(query.country, i18n.country_codes(), "country", errors)
    query.authority_type = _codes(
        many("authority_type"), [t.value for t in AuthorityType], "authority_type", errors
    )
    query.expertise = _codes(many("expertise"), [e.value for e in Expertise], "expertise", errors)
    query.language = [c.lower() for c in many("language")]
    _codes(query.language, i18n.language_codes(), "language", errors)
    flag = args.get("available_24_7")
    if flag not in (None, ""):
        parsed = _bool(flag)
        if parsed is None:
            errors["available_24_7"] = _("Use yes or no.")
        query.available_24_7 = parsed
    query.stale_only = _bool(args.get("stale")) is True
    query.include_former = _bool(args.get("include_former")) is True
    query.sort = str(args.get("sort") or "name")
    if query.sort not in SORTS:
        errors["sort"] = _("Unknown sort order.")
    for key, low, high, default in (
        ("page", 1, 10_000, 1),
        ("per_page", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE),
    ):
        raw = args.get(key)
        try:
            number = default if raw in (None, "") else int(raw)
        except (TypeError, ValueError):
            errors[key] = _("Use a whole number.")
            continue
        if not low <= number <= high:
            errors[key] = _("Use a number from %(low)d to %(high)d.", low=low, high=high)
        setattr(query, key, number)
    if errors:
        raise ValidationError(_("The search has values that are not recognised."), fields=errors)
    return query


def _readable_networks_brief(user: Any) -> dict[str, tuple[int, str]]:
    """{slug: (id, acronym)} of the networks whose directory ``user`` may read."""
    scope = policy.readable_network_ids(user)
    rows = db.session.execute(
        select(Network.slug, Network.id, Network.acronym).order_by(Network.acronym)
    )
    return {slug: (nid, acronym) for slug, nid, acronym in rows if scope is None or nid in scope}


def _masks(
    query: SearchQuery,
    user: Any,
    network_ids: Mapping[str, int],
    index: directory_index.DirectoryIndex,
) -> tuple[int, dict[str, int]]:
    """The bitset of the base conditions (the user's networks, current entries only,
    staleness, free text) and one bitset per selected facet."""
    scope = policy.readable_network_ids(user)
    if scope is None:
        base = index.all_bits
    else:
        base = 0
        for network_id in scope:
            base |= index.by_network.get(network_id, 0)
    if not query.include_former:
        base &= ~index.former
    if query.stale_only:
        base &= index.stale(stale_before())
    for term in fold(query.q).split()[:8]:
        base &= index.matching_text(term)

    def any_of(bitsets: Mapping[Any, int], values: Iterable[Any]) -> int:
        mask = 0
        for value in values:
            mask |= bitsets.get(value, 0)
        return mask

    facets: dict[str, int] = {}
    if query.network:
        facets["network"] = any_of(index.by_network, [network_ids[s] for s in query.network])
    if query.country:
        facets["country"] = any_of(index.by_country, query.country)
    if query.authority_type:
        facets["authority_type"] = any_of(index.by_authority_type, query.authority_type)
    if query.expertise:
        facets["expertise"] = any_of(index.by_expertise, query.expertise)
    if query.language:
        facets["language"] = any_of(index.by_language, query.language)
    if query.available_24_7 is not None:
        facets["available_24_7"] = (
            index.available if query.available_24_7 else index.all_bits & ~index.available
        )
    return base, facets


def _load(ids: list[int], *, attributes: bool = True) -> list[ContactPoint]:
    """The entries with ``ids``, in that order, with their networks (and, unless told
    otherwise, their coded attributes) loaded in the same few queries."""
    options = _CP_LOAD if attributes else _CP_LOAD[:1]
    found: dict[int, ContactPoint] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(
            (cp.id, cp)
            for cp in db.session.scalars(
                select(ContactPoint).where(ContactPoint.id.in_(chunk)).options(*options)
            )
        )
    return [found[i] for i in ids if i in found]


def search(query: SearchQuery, user: Any, *, with_attributes: bool = True) -> SearchResult:
    """Contact points the user may read that match ``query``, with counts per facet value.

    A facet's counts ignore that facet's own selection, so the other values of a
    selected facet stay visible with what choosing them would give. Matching and
    counting run on the in-memory index (``directory_index``); only the entries of the
    page are loaded from the database, with their expertise, languages and channels
    unless ``with_attributes`` is false (result cards do not show them).
    """
    index = directory_index.get()
    readable = _readable_networks_brief(user)
    network_ids = {slug: nid for slug, (nid, _acronym) in readable.items()}
    base, facet_masks = _masks(query, user, network_ids, index)
    matching = base
    for facet_mask in facet_masks.values():
        matching &= facet_mask
    total = matching.bit_count()
    offset = (query.page - 1) * query.per_page
    items = _load(
        index.page(matching, query.sort, offset, query.per_page), attributes=with_attributes
    )

    def without(facet: str) -> int:
        mask = base
        for name, facet_mask in facet_masks.items():
            if name != facet:
                mask &= facet_mask
        return mask

    def count(bitsets: Mapping[Any, int], facet: str) -> dict[Any, int]:
        mask = without(facet)
        counted = {value: (bits & mask).bit_count() for value, bits in bitsets.items()}
        return {value: n for value, n in counted.items() if n}

    by_network = count(index.by_network, "network")
    mask_24_7 = without("available_24_7")
    counts: dict[str, dict[str, int]] = {
        "network": {
            slug: by_network[nid] for slug, nid in network_ids.items() if nid in by_network
        },
        "country": count(index.by_country, "country"),
        "authority_type": count(index.by_authority_type, "authority_type"),
        "expertise": count(index.by_expertise, "expertise"),
        "language": count(index.by_language, "language"),
        "available_24_7": {
            value: n
            for value, n in (
                ("yes", (mask_24_7 & index.available).bit_count()),
                ("no", (mask_24_7 & ~index.available).bit_count()),
            )
            if n
        },
    }

    locale = i18n.current_locale_code()  # once, not once per facet value
    labels = {
        "network": {slug: acronym for slug, (_nid, acronym) in readable.items()},
        "country": lambda code: i18n.country_name(code, locale),
        "authority_type": authority_type_label,
        "expertise": expertise_label,
        "language": lambda code: i18n.language_name(code, locale),
        "available_24_7": {"yes": _("Available 24/7"), "no": _("Office hours only")},
    }
    facets: dict[str, list[FacetValue]] = {}
    for facet in FACETS:
        label = labels[facet]
        chosen = query.selected(facet)
        values = [
            FacetValue(
                value,
                label(value) if callable(label) else label.get(value, value),
                n,
                value in chosen,
            )
            for value, n in counts[facet].items()
        ]
        for value in chosen:  # a selected value with no hits still shows, with 0
            if value not in counts[facet]:
                values.append(
                    FacetValue(
                        value, label(value) if callable(label) else label.get(value, value), 0, True
                    )
                )
        values.sort(key=lambda v: (-v.count, fold(v.label)))
        facets[facet] = values
    return SearchResult(query=query, items=items, total=total, facets=facets)


def search_all(query: SearchQuery, user: Any, limit: int = 20_000) -> list[ContactPoint]:
    """Every entry matching ``query`` (for exports), in the query's order."""
    index = directory_index.get()
    network_ids = {slug: nid for slug, (nid, _a) in _readable_networks_brief(user).items()}
    base, facet_masks = _masks(query, user, network_ids, index)
    for facet_mask in facet_masks.values():
        base &= facet_mask
    return _load(index.page(base, query.sort, 0, limit))


@dataclass
class FinderAnswer:
    competent: list[ContactPoint]
    others: list[ContactPoint]


def find_competent(measure: str, country: str, user: Any) -> FinderAnswer:
    """Who handles ``measure`` (an expertise code) in ``country``?

    Entries with that expertise come first (central authorities, then 24/7, then the most
    recently confirmed); the other entries of the country follow as a fallback.
    Raises ``ValidationError`` for an unknown measure or country.
    """
    errors = {}
    if measure not in {e.value for e in Expertise}:
        errors["measure"] = _("Choose a measure from the list.")
    country = (country or "").upper()
    if country not in i18n.country_codes():
        errors["country"] = _("Choose a country from the list.")
    if errors:
        raise ValidationError(fields=errors)
    query = SearchQuery(country=[country], per_page=MAX_PER_PAGE)
    entries = search_all(query, user, limit=500)
    competent = [e for e in entries if measure in e.expertise]
    others = [e for e in entries if measure not in e.expertise]

    def rank(e: ContactPoint) -> tuple[Any, ...]:
        return (
            e.authority_type != AuthorityType.CENTRAL_AUTHORITY,
            not e.available_24_7,
            is_stale(e),
            -(e.last_confirmed_at or date.min).toordinal(),
            fold(e.name),
        )

    return FinderAnswer(sorted(competent, key=rank), sorted(others, key=rank))


# --- Staleness and reminders ------------------------------------------------------------


def stale_entries(network: Network, user: Any) -> list[ContactPoint]:
    if not policy.can_manage_directory(user, network):
        raise Forbidden()
    return list(
        db.session.scalars(
            select(ContactPoint)
            .join(contact_point_networks)
            .where(
                contact_point_networks.c.network_id == network.id,
                ContactPoint.succeeded_by_id.is_(None),
                or_(
                    ContactPoint.last_confirmed_at.is_(None),
                    ContactPoint.last_confirmed_at < stale_before(),
                ),
            )
            .options(*_CP_LOAD)
            # Never confirmed first, on every backend (SQLite and PostgreSQL differ).
            .order_by(ContactPoint.last_confirmed_at.asc().nulls_first(), ContactPoint.name)
        )
    )


_CONFIRM_PURPOSE = "contact-point-confirm"


def confirmation_token(cp: ContactPoint) -> str:
    return signing.sign(_CONFIRM_PURPOSE, {"cp": cp.id})


def confirm_by_token(token: str) -> ContactPoint:
    """One-click confirmation from a reminder e-mail; raises ``ValidationError``."""
    data = signing.unsign(
        _CONFIRM_PURPOSE,
        token,
        CONFIRM_LINK_MAX_AGE,
        expired=_("This confirmation link has expired. Ask your secretariat for a new one."),
        invalid=_("This confirmation link is not valid."),
    )
    cp = db.session.get(ContactPoint, data.get("cp")) if isinstance(data.get("cp"), int) else None
    if cp is None or cp.succeeded_by_id is not None:
        raise ValidationError(_("This entry no longer exists or has been handed over."))
    _confirm(cp, None)
    return cp


def send_reminders(network: Network, user: Any, ids: list[int] | None = None) -> int:
    """E-mail each stale entry of ``network`` (or the chosen ones) a confirmation link.

    Returns how many were sent; entries without an e-mail are skipped.
    """
    entries = stale_entries(network, user)
    if ids is not None:
        wanted = set(ids)
        entries = [e for e in entries if e.id in wanted]
    sent = 0
    base = current_app.config["BASE_URL"].rstrip("/")
    for entry in entries:
        if not entry.email:
            continue
        link = f"{base}/confirm-entry/{confirmation_token(entry)}"
        language = i18n.recipient_locale(
            entry.user.locale if entry.user else None, network.languages or []
        )
        with force_locale(language):  # the recipient's language, not the sender's
            body = _(
                "Dear %(name)s,\n\nThe %(network)s directory lists you as a contact point. "
                "Please check your entry and confirm that it is still correct:\n\n%(link)s\n\n"
                "If something has changed, reply to your network secretariat.\n",
                name=entry.name,
                network=network.acronym,
                link=link,
            )
            subject = _("Please confirm your %(network)s directory entry", network=network.acronym)
        mail.send_mail(entry.email, subject, body)
        entry.reminder_sent_at = utcnow()
        audit.record(user, "contact_point.remind", "contact_point", entry.id)
        sent += 1
    db.session.commit()
    return sent
