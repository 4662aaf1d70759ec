"""Demo data: the networks of DOMAIN.md and fictional people (example.org, +000 numbers).

Membership lists beyond what the source documents name are demo data; coordinators edit
them in the application. ``seed`` is idempotent: it adds what is missing and changes
nothing that exists.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from network.extensions import db
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
)
from network.models.people import Membership, User
from network.services import accounts, messaging
from network.services.directory import fold

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for the demo on purpose

NETWORKS: list[dict[str, Any]] = [
    {
        "slug": "wacap",
        "acronym": "WACAP",
        "name": "West African Network of Central Authorities and Prosecutors",
        "region": "West Africa",
        "languages": ["en", "fr", "pt"],
        "states": "BJ BF CV CI GM GH GN GW LR ML NE NG SN SL TG MR",
        "secretariat": "WACAP Secretariat (with UNODC support), wacap.secretariat@example.org",
    },
    {
        "slug": "great-lakes",
        "acronym": "GLJCN",
        "name": "Great Lakes Judicial Cooperation Network",
        "region": "Great Lakes (Africa)",
        "languages": ["en", "fr"],
        "states": "AO BI CF CG CD KE RW SS SD UG TZ ZM",
        "secretariat": "ICGLR and UNODC, glcn.secretariat@example.org",
    },
    {
        "slug": "iberred",
        "acronym": "IberRed",
        "name": "Ibero-American Network for International Legal Cooperation",
        "region": "Ibero-America",
        "languages": ["es", "pt"],
        "states": "ES PT AD AR BO BR CL CO CR CU DO EC SV GT HN MX NI PA PY PE UY VE",
        "secretariat": "IberRed General Secretariat, iberred.secretaria@example.org",
    },
    {
        "slug": "ejn",
        "acronym": "EJN",
        "name": "European Judicial Network",
        "region": "European Union",
        "languages": [
            "bg",
            "hr",
            "cs",
            "da",
            "nl",
            "en",
            "et",
            "fi",
            "fr",
            "de",
            "el",
            "hu",
            "ga",
            "it",
            "lv",
            "lt",
            "mt",
            "pl",
            "pt",
            "ro",
            "sk",
            "sl",
            "es",
            "sv",
        ],
        "states": "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI "
        "ES SE",
        "secretariat": "EJN Secretariat, ejn.secretariat@example.org",
    },
    {
        "slug": "commonwealth",
        "acronym": "CNCP",
        "name": "Commonwealth Network of Contact Persons",
        "region": "Commonwealth",
        "languages": ["en"],
        "states": "AG AU BS BD BB BZ BW BN CM CA CY DM SZ FJ GM GA GH GD GY IN JM KE KI LS MW MY "
        "MV MT MU MZ NA NR NZ NG PK PG RW KN LC VC WS SC SL SG SB ZA LK TG TO TT TV "
        "UG GB TZ VU ZM",
        "secretariat": "Commonwealth Secretariat, commonwealth.cncp@example.org",
    },
    {
        "slug": "casc",
        "acronym": "CASC",
        "name": "Network of Central Authorities and Prosecutors of Central Asia and South Caucasus",
        "region": "Central Asia and South Caucasus",
        "languages": ["ru", "en"],
        "states": "KZ KG TJ TM UZ AM AZ GE",
        "secretariat": "CASC Secretariat (UNODC), casc.secretariat@example.org",
    },
    {
        "slug": "seajust",
        "acronym": "SEAJust",
        "name": "South-East Asia Justice Network",
        "region": "South-East Asia",
        "languages": ["en"],
        "states": "BN KH ID LA MY MM PH SG TH VN TL",
        "secretariat": "SEAJust Secretariat, seajust.secretariat@example.org",
    },
    {
        "slug": "sahel",
        "acronym": "PCJS",
        "name": "Sahel Regional Judicial Platform",
        "region": "Sahel",
        "languages": ["fr"],
        "states": "BF TD ML MR NE SN",
        "secretariat": "Secrétariat de la plateforme, sahel.secretariat@example.org",
    },
    {
        "slug": "ioc",
        "acronym": "PPJ-COI",
        "name": "Indian Ocean Commission Regional Judicial Platform",
        "region": "Indian Ocean",
        "languages": ["fr", "en"],
        "states": "KM FR MG MU SC",
        "secretariat": "Commission de l'océan Indien, coi.ppj@example.org",
    },
    {
        "slug": "central-america",
        "acronym": "REFCO",
        "name": "Central American network of prosecutors against organized crime",
        "region": "Central America",
        "languages": ["es"],
        "states": "BZ CR SV GT HN NI PA DO MX CO",
        "secretariat": "Secretaría de la red, refco.secretaria@example.org",
    },
]

# Given names and surnames by language area; the combinations are fictional people.
_NAMES = {
    "fr": (
        [
            "Aminata",
            "Moussa",
            "Fatou",
            "Ibrahima",
            "Awa",
            "Cheikh",
            "Mariam",
            "Jean-Paul",
            "Claire",
            "Olivier",
            "Nadia",
            "Didier",
            "Sophie",
            "Koffi",
            "Aïcha",
            "Émile",
        ],
        [
            "Diallo",
            "Traoré",
            "Ndiaye",
            "Koné",
            "Ouédraogo",
            "Sow",
            "Camara",
            "Dubois",
            "Kaboré",
            "Mensah",
            "Lefèvre",
            "Bamba",
            "Sylla",
            "Randrianarisoa",
            "Hoarau",
        ],
    ),
    "en": (
        [
            "Grace",
            "Samuel",
            "Esther",
            "Daniel",
            "Joyce",
            "Peter",
            "Ruth",
            "Kwame",
            "Abena",
            "David",
            "Mary",
            "John",
            "Faith",
            "Emmanuel",
            "Sarah",
            "Priya",
        ],
        [
            "Mensah",
            "Okafor",
            "Mwangi",
            "Banda",
            "Phiri",
            "Otieno",
            "Boateng",
            "Smith",
            "Campbell",
            "Nair",
            "Singh",
            "Adeyemi",
            "Chanda",
            "Moyo",
            "Tan",
        ],
    ),
    "es": (
        [
            "María",
            "José",
            "Lucía",
            "Carlos",
            "Ana",
            "Javier",
            "Sofía",
            "Diego",
            "Valentina",
            "Andrés",
            "Camila",
            "Luis",
            "Gabriela",
            "Mateo",
            "Paula",
            "Ricardo",
        ],
        [
            "García",
            "Rodríguez",
            "Martínez",
            "Hernández",
            "López",
            "González",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
            "Flores",
            "Rivera",
            "Gómez",
            "Díaz",
            "Castillo",
        ],
    ),
    "pt": (
        [
            "João",
            "Maria",
            "Ana",
            "Pedro",
            "Beatriz",
            "Tiago",
            "Inês",
            "Rafael",
            "Mariana",
            "Lucas",
            "Joana",
            "Miguel",
        ],
        [
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Gonçalves",
            "Almeida",
            "Sousa",
            "Lopes",
            "Carvalho",
        ],
    ),
    "ru": (
        [
            "Aigerim",
            "Timur",
            "Dilnoza",
            "Rustam",
            "Nino",
            "Arman",
            "Gulnara",
            "Davit",
            "Elena",
            "Farid",
            "Aida",
            "Sergei",
        ],
        [
            "Nurlanov",
            "Karimova",
            "Aliyev",
            "Beridze",
            "Petrosyan",
            "Saidov",
            "Abdullaev",
            "Ivanova",
            "Mamedova",
            "Tashkentova",
            "Kemelbekov",
            "Gelashvili",
        ],
    ),
    "other": (
        [
            "Anna",
            "Marco",
            "Eva",
            "Tomas",
            "Lena",
            "Nikos",
            "Katarzyna",
            "Jan",
            "Ingrid",
            "Luca",
            "Siti",
            "Nguyen",
            "Ahmad",
            "Mai",
            "Ravi",
        ],
        [
            "Novak",
            "Rossi",
            "Müller",
            "Kowalski",
            "Jensen",
            "Papadopoulos",
            "Horváth",
            "De Vries",
            "Lindqvist",
            "Rahman",
            "Wijaya",
            "Santos",
            "Pham",
            "Aziz",
            "Lim",
        ],
    ),
}
_AREA = {
    **dict.fromkeys(
        (
            "BJ",
            "BF",
            "CI",
            "GN",
            "ML",
            "NE",
            "SN",
            "TG",
            "MR",
            "BI",
            "CF",
            "CG",
            "CD",
            "RW",
            "TD",
            "KM",
            "MG",
            "FR",
            "BE",
            "LU",
        ),
        "fr",
    ),
    **dict.fromkeys(
        (
            "ES",
            "AR",
            "BO",
            "CL",
            "CO",
            "CR",
            "CU",
            "DO",
            "EC",
            "SV",
            "GT",
            "HN",
            "MX",
            "NI",
            "PA",
            "PY",
            "PE",
            "UY",
            "VE",
            "AD",
        ),
        "es",
    ),
    **dict.fromkeys(
        (
            "PT",
            "BR",
            "CV",
            "GW",
            "AO",
        ),
        "pt",
    ),
    **dict.fromkeys(
        (
            "KZ",
            "KG",
            "TJ",
            "TM",
            "UZ",
            "AM",
            "AZ",
            "GE",
        ),
        "ru",
    ),
}
_INSTITUTIONS = {
    AuthorityType.CENTRAL_AUTHORITY: (
        "Ministry of Justice, Central Authority for International Cooperation"
    ),
    AuthorityType.PROSECUTION: "Office of the Prosecutor-General, International Cooperation Unit",
    AuthorityType.JUDICIARY: "Court of Appeal, International Judicial Cooperation Desk",
    AuthorityType.LAW_ENFORCEMENT: "National Police, INTERPOL National Central Bureau",
    AuthorityType.LIAISON_MAGISTRATE: "Embassy, Office of the Liaison Magistrate",
    AuthorityType.SECRETARIAT: "Network Secretariat",
}
_TITLES = {
    AuthorityType.CENTRAL_AUTHORITY: "Head of the Central Authority",
    AuthorityType.PROSECUTION: "Senior Prosecutor",
    AuthorityType.JUDICIARY: "Judge",
    AuthorityType.LAW_ENFORCEMENT: "Police Commissioner",
    AuthorityType.LIAISON_MAGISTRATE: "Liaison Magistrate",
    AuthorityType.SECRETARIAT: "Programme Officer",
}
_TIMEZONES = {
    "SN": "Africa/Dakar",
    "NG": "Africa/Lagos",
    "GH": "Africa/Accra",
    "CI": "Africa/Abidjan",
    "ML": "Africa/Bamako",
    "ES": "Europe/Madrid",
    "PT": "Europe/Lisbon",
    "KE": "Africa/Nairobi",
    "RW": "Africa/Kigali",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "FR": "Europe/Paris",
    "KZ": "Asia/Almaty",
    "TH": "Asia/Bangkok",
    "GB": "Europe/London",
}

# (e-mail, name, is_admin, [(network, role)], description, linked contact point country)
DEMO_ACCOUNTS: list[tuple[str, str, bool, list[tuple[str, str]], str, str | None]] = [
    ("admin@example.org", "Ada Administrator", True, [], "site administrator", None),
    (
        "coordinator.wacap@example.org",
        "Koffi Mensah-Coord",
        False,
        [("wacap", "coordinator")],
        "WACAP coordinator",
        None,
    ),
    (
        "secretariat.wacap@example.org",
        "Awa Secretariat-Sow",
        False,
        [("wacap", "secretariat")],
        "WACAP secretariat (edits the WACAP directory)",
        None,
    ),
    (
        "contact.senegal@example.org",
        "Aminata Diallo-Demo",
        False,
        [("wacap", "contact_point")],
        "WACAP contact point, Senegal (has a directory entry to confirm)",
        "SN",
    ),
    (
        "observer.wacap@example.org",
        "Olivier Observer",
        False,
        [("wacap", "observer")],
        "WACAP observer (read only)",
        None,
    ),
    (
        "contact.kenya@example.org",
        "Joyce Mwangi-Demo",
        False,
        [("great-lakes", "contact_point")],
        "Great Lakes contact point, Kenya (another network)",
        "KE",
    ),
    (
        "secretariat.iberred@example.org",
        "Lucía Secretaría-Díaz",
        False,
        [("iberred", "secretariat")],
        "IberRed secretariat",
        None,
    ),
    (
        "contact.spain@example.org",
        "Javier García-Demo",
        False,
        [("iberred", "contact_point"), ("ejn", "contact_point")],
        "contact point of IberRed and EJN, Spain",
        "ES",
    ),
]
DEMO_ACCOUNTS_DESCRIPTION = [(a[0], a[4]) for a in DEMO_ACCOUNTS]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Network))


def _ensure_networks() -> dict[str, Network]:
    existing = {n.slug: n for n in db.session.scalars(select(Network))}
    for spec in NETWORKS:
        if spec["slug"] in existing:
            continue
        network = Network(
            slug=spec["slug"],
            acronym=spec["acronym"],
            name=spec["name"],
            region=spec["region"],
            languages=spec["languages"],
            secretariat=spec["secretariat"],
        )
        network.member_states = [NetworkMemberState(country=c) for c in spec["states"].split()]
        db.session.add(network)
        existing[spec["slug"]] = network
    db.session.flush()
    for network in existing.values():
        messaging.ensure_network_channel(network)
    return existing


def _person(rng: random.Random, country: str) -> tuple[str, str]:
    given, family = _NAMES[_AREA.get(country, "en" if country in _EN else "other")]
    return rng.choice(given), rng.choice(family)


_EN = {
    "GM",
    "GH",
    "LR",
    "NG",
    "SL",
    "KE",
    "SS",
    "SD",
    "UG",
    "TZ",
    "ZM",
    "AG",
    "AU",
    "BS",
    "BD",
    "BB",
    "BZ",
    "BW",
    "BN",
    "CM",
    "CA",
    "CY",
    "DM",
    "SZ",
    "FJ",
    "GD",
    "GY",
    "IN",
    "JM",
    "KI",
    "LS",
    "MW",
    "MY",
    "MV",
    "MT",
    "MU",
    "MZ",
    "NA",
    "NR",
    "NZ",
    "PK",
    "PG",
    "KN",
    "LC",
    "VC",
    "WS",
    "SC",
    "SG",
    "SB",
    "ZA",
    "LK",
    "TO",
    "TT",
    "TV",
    "GB",
    "VU",
    "IE",
}


def _ascii(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isalnum())


def _make_entry(
    rng: random.Random, country: str, networks: list[Network], index: int, today: Any
) -> ContactPoint:
    first, last = _person(rng, country)
    authority = [
        AuthorityType.CENTRAL_AUTHORITY,
        AuthorityType.PROSECUTION,
        AuthorityType.JUDICIARY,
        AuthorityType.LAW_ENFORCEMENT,
    ][index % 4]
    area = _AREA.get(country, "en" if country in _EN else "other")
    spoken = {
        "fr": ["fr", "en"],
        "es": ["es", "en"],
        "pt": ["pt", "fr"],
        "ru": ["ru", "en"],
        "en": ["en"],
        "other": ["en"],
    }[area]
    expertise = rng.sample([e.value for e in Expertise], k=rng.randint(2, 5))
    if authority == AuthorityType.CENTRAL_AUTHORITY:
        expertise = sorted({*expertise, Expertise.MLA.value, Expertise.EXTRADITION.value})
    channels = rng.sample([c.value for c in TransmissionChannel], k=rng.randint(1, 3))
    age_days = rng.choice([20, 60, 120, 200, 300, 340, 400, 500, 800])
    entry = ContactPoint(
        name=f"{first} {last}",
        title=_TITLES[authority],
        institution=_INSTITUTIONS[authority],
        authority_type=authority.value,
        country=country,
        e_signature_accepted=rng.random() < 0.4,
        available_24_7=authority == AuthorityType.LAW_ENFORCEMENT or rng.random() < 0.15,
        office_hours="Mon-Fri 08:00-16:00",
        office_timezone=_TIMEZONES.get(country, "UTC"),
        email=f"{_ascii(first)}.{_ascii(last)}.{country.lower()}{index}@example.org",
        phones=[f"+000 {rng.randint(100, 999)} {rng.randint(1000, 9999)} {rng.randint(10, 99)}"],
        postal_address=f"{rng.randint(1, 99)} Avenue of Justice, Capital City",
        notes="Fictional demo entry.",
        last_confirmed_at=today - timedelta(days=age_days),
    )
    entry.networks = networks
    entry.attributes = [
        *(ContactPointAttribute(kind=AttributeKind.EXPERTISE.value, code=c) for c in expertise),
        *(ContactPointAttribute(kind=AttributeKind.LANGUAGE.value, code=c) for c in spoken),
        *(
            ContactPointAttribute(kind=AttributeKind.REQUEST_LANGUAGE.value, code=c)
            for c in spoken[:1]
        ),
        *(ContactPointAttribute(kind=AttributeKind.CHANNEL.value, code=c) for c in channels),
    ]
    entry.search_text = fold(
        " ".join([entry.name, entry.title, entry.institution, entry.notes, entry.email])
    )
    return entry


def seed(per_state: int = 3) -> dict[str, int]:
    """Add the demo networks, entries and accounts that are missing; returns counts."""
    networks = _ensure_networks()
    today = utcnow().date()
    has_entries = db.session.scalar(select(func.count()).select_from(ContactPoint))
    if not has_entries:
        rng = random.Random(20261123)  # noqa: S311 - demo data, not security
        # A person of a state that sits in several networks is listed in all of them
        # (e.g. Spain in EJN and IberRed).
        by_country: dict[str, list[Network]] = {}
        for spec in NETWORKS:
            for country in spec["states"].split():
                by_country.setdefault(country, []).append(networks[spec["slug"]])
        for country, member_of in sorted(by_country.items()):
            for index in range(per_state):
                # Every other entry sits in all the country's networks, the rest in one.
                chosen = member_of if index % 2 == 0 else [member_of[index % len(member_of)]]
                db.session.add(_make_entry(rng, country, chosen, index, today))
        db.session.flush()
    for email, name, is_admin, memberships, _description, linked_country in DEMO_ACCOUNTS:
        user = accounts.get_user_by_email(email)
        if user is None:
            user = User(
                email=email,
                name=name,
                is_admin=is_admin,
                password_hash=accounts.hash_password(DEMO_PASSWORD),
            )
            user.memberships = [Membership(network=networks[s], role=r) for s, r in memberships]
            db.session.add(user)
            db.session.flush()
        if linked_country and not db.session.scalar(
            select(ContactPoint).where(ContactPoint.user_id == user.id)
        ):
            rng = random.Random(email)  # noqa: S311 - demo data
            entry = _make_entry(
                rng, linked_country, [networks[s] for s, _r in memberships], 9, today
            )
            entry.name, entry.email, entry.user_id = name, email, user.id
            entry.search_text = fold(
                " ".join([entry.name, entry.title, entry.institution, entry.notes, entry.email])
            )
            # The Senegalese demo contact point's entry is overdue, to show the reminder flow.
            if linked_country == "SN":
                entry.last_confirmed_at = today - timedelta(days=400)
            db.session.add(entry)
    db.session.commit()
    return {
        "networks": len(networks),
        "contact_points": db.session.scalar(select(func.count()).select_from(ContactPoint)) or 0,
    }
