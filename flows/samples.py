"""Render realistic German sample letters of every document type as scans, with ground truth.

The generator feeds ``make demo``, the end-to-end tests and the OCR and classification
benchmarks. A letter is first *composed* (wording, fields and page layout, all decided by the
seed), then *rendered* as 300 dpi grayscale page scans with slight skew, blur and speckles,
and finally *written* as an image-only PDF (JPEG or CCITT G4 pages), a multi-page TIFF, a
JPEG or a PNG::

    python -m flows.samples OUT_DIR --count 12 --seed 1 [--format pdf] [--split train]

Wording varies through phrase pools whose templates carry alternatives (``[a|b|c]``) and
slots (``{amount}``), so that letters of one type share no fixed sentence. Layouts vary too
(letterhead left, right or centred; DIN 5008 form A or B address window, sometimes on the
right; reference block beside or below the address; margins; ragged or justified text), and
so do fonts (DejaVu Sans/Serif, Liberation Sans/Serif at 10-12 pt).

A *split* (``train`` or ``test``) holds wording and layout out between two sets of letters, for
evaluating a classifier on letters whose templates it never saw: every choice the generator
makes among alternatives (``[a|b]`` groups, phrase pools, sub-kinds of a letter type, fonts,
font sizes, letterhead alignment, separators) keeps only its half of the distinct options.
Each option goes to a half by a stable hash of its text, so the same phrase lands on the same
side wherever it occurs; a group whose options all hash alike gives one away, and a group with
a single option cannot be split and is shared. Without a split (the default) every option is
available, as before. File formats and the subjects of applications are never split.

Everything is deterministic: the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import hashlib
import io
import json
import os
import random
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import img2pdf
from PIL import Image, ImageDraw, ImageFilter, ImageFont

DOC_TYPES: tuple[str, ...] = (
    "rechnung",
    "mahnung",
    "antrag",
    "widerspruch",
    "beschwerde",
    "bewerbung",
    "gericht",
    "anfrage",
    "werbung",
    "sonstiges",
)
FORMATS: tuple[str, ...] = ("pdf", "pdf-g4", "tiff", "jpeg", "png")
ANTRAG_SUBJECTS: tuple[str, ...] = (
    "Wohngeld",
    "Baugenehmigung",
    "Elterngeld",
    "Parkausweis",
    "sonstiges",
)
SUFFIXES: dict[str, str] = {
    "pdf": ".pdf",
    "pdf-g4": ".pdf",
    "tiff": ".tif",
    "jpeg": ".jpg",
    "png": ".png",
}
SINGLE_PAGE_FORMATS = frozenset({"jpeg", "png"})
DPI = 300
PAGE_SIZE = (2480, 3508)  # A4 at 300 dpi
FONT_ROOT = Path("/usr/share/fonts")
TRUTH_FILE = "truth.jsonl"
SPLITS: tuple[str, ...] = ("train", "test")
Split = Literal["train", "test"]


@dataclass(frozen=True)
class GroundTruth:
    """What a sample letter says and how it was written, for tests and benchmarks."""

    name: str
    doc_type: str
    subject: str | None
    format: str
    pages: tuple[str, ...]
    rotation: int = 0
    sender: str | None = None
    date: str | None = None
    aktenzeichen: str | None = None
    iban: str | None = None
    amount_total: float | None = None
    invoice_number: str | None = None
    customer_number: str | None = None
    split: Split | None = None

    def to_json(self) -> dict[str, object]:
        """Return the ground truth as a JSON-ready dict."""
        data = dataclasses.asdict(self)
        data["pages"] = list(self.pages)
        return data


class FontNotFoundError(FileNotFoundError):
    """A font the generator draws with is not installed."""


# --------------------------------------------------------------------------------------------
# Fonts

_FAMILIES: dict[str, tuple[str, str, str]] = {
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "fonts-dejavu-core"),
    "Liberation Sans": (
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "fonts-liberation2",
    ),
    "Liberation Serif": (
        "LiberationSerif-Regular.ttf",
        "LiberationSerif-Bold.ttf",
        "fonts-liberation2",
    ),
}
FAMILIES: tuple[str, ...] = tuple(_FAMILIES)


@functools.cache
def _font_files(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {path.name: path for path in sorted(root.rglob("*.ttf"))}


@functools.cache
def _load_font(root: Path, family: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    regular, heavy, package = _FAMILIES[family]
    name = heavy if bold else regular
    path = _font_files(root).get(name)
    if path is None:
        raise FontNotFoundError(
            f"font {name} ({family}) not found under {root}; "
            f"install the Debian package {package} (apt-get install {package})"
        )
    # The basic layout engine keeps glyph placement identical with or without libraqm.
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)


def _font(family: str, bold: bool, size: int) -> ImageFont.FreeTypeFont:
    return _load_font(FONT_ROOT, family, bold, size)


def _width(text: str, family: str, bold: bool, size: int) -> float:
    return float(_font(family, bold, size).getlength(text))


def _wrap(text: str, family: str, bold: bool, size: int, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and _width(candidate, family, bold, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


# --------------------------------------------------------------------------------------------
# Wording helpers

_CHOICE = re.compile(r"\[([^\[\]]*)\]")
_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


def _say(rng: random.Random, template: str, **values: object) -> str:
    text = template
    while match := _CHOICE.search(text):
        text = text[: match.start()] + rng.choice(match.group(1).split("|")) + text[match.end() :]
    text = text.format(**values)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r" ([,.;:!?)])", r"\1", text)


def _one(rng: random.Random, templates: Sequence[str], **values: object) -> str:
    return _say(rng, rng.choice(templates), **values)


_T = TypeVar("_T")
_DIGITS = re.compile(r"\d")


def _stable_key(value: object) -> str:
    """Return a text that names an option the same way in every process (no ids, no addresses).

    Digits in text count as one digit: options formatted with a letter's numbers (a date line,
    an Aktenzeichen pattern) then fall on the same side in every letter.
    """
    if isinstance(value, str):
        return _DIGITS.sub("#", value)
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_stable_key(item) for item in value) + ")"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _stable_key([getattr(value, f.name) for f in dataclasses.fields(value)])
    if callable(value) and hasattr(value, "__qualname__"):
        return str(value.__qualname__)
    return repr(value)


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode(), digest_size=8, person=b"postroom-split").digest()


@functools.lru_cache(maxsize=1 << 16)
def _halves(keys: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Split a group's distinct options into a train and a test half by a stable hash.

    A single option cannot be split: both halves hold it. Otherwise an option's hash picks
    its side, so a phrase keeps its side across groups, and the larger side then hands its
    highest-hashing options over until the halves differ by at most one: a group of four
    leaves two options on each side, not one against three.
    """
    if len(keys) < 2:
        return keys, keys
    ranked = sorted(keys, key=_digest)
    train = [key for key in ranked if not _digest(key)[0] & 1]
    test = [key for key in ranked if _digest(key)[0] & 1]
    while len(train) > len(test) + 1:
        test.append(train.pop())
    while len(test) > len(train) + 1:
        train.append(test.pop())
    return frozenset(train), frozenset(test)


class _SplitRandom(random.Random):
    """A random source that chooses only among its split's half of every group of options."""

    def __init__(self, seed: str, split: Split) -> None:
        super().__init__(seed)
        self.split = split

    def _half(self, options: Sequence[_T]) -> list[_T]:
        keys = [_stable_key(option) for option in options]
        train, test = _halves(frozenset(keys))
        mine = train if self.split == "train" else test
        return [option for option, key in zip(options, keys, strict=True) if key in mine]

    def choice(self, seq: Sequence[_T]) -> _T:  # type: ignore[override]
        """Choose one option of this split's half of ``seq``."""
        return super().choice(self._half(seq))

    def sample(  # type: ignore[override]
        self, population: Sequence[_T], k: int, *, counts: Sequence[int] | None = None
    ) -> list[_T]:
        """Sample up to ``k`` options of this split's half (fewer when the half is smaller)."""
        if counts is not None:
            raise ValueError("a split sample takes no counts")
        half = self._half(population)
        return super().sample(half, min(k, len(half)))


def _unsplit_choice(rng: random.Random, options: Sequence[_T]) -> _T:
    """Choose among all options whatever the split (file formats, subjects of applications)."""
    return random.Random.choice(rng, options)


def _some(
    rng: random.Random, templates: Sequence[str], low: int, high: int, **values: object
) -> list[str]:
    count = min(len(templates), rng.randint(low, high))
    return [_say(rng, t, **values) for t in rng.sample(list(templates), count)]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _de(day: dt.date) -> str:
    return f"{day.day:02d}.{day.month:02d}.{day.year}"


def _de_long(day: dt.date) -> str:
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


def _eur(cents: int, unit: str = "€") -> str:
    euros, rest = divmod(abs(cents), 100)
    sign = "-" if cents < 0 else ""
    return f"{sign}{euros:,}".replace(",", ".") + f",{rest:02d} {unit}"


def _workday(day: dt.date) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _iban(rng: random.Random) -> str:
    bban = f"{rng.randint(10_000_000, 89_999_999)}{rng.randint(0, 9_999_999_999):010d}"
    # ISO 13616: move "DE00" behind the BBAN, letters as numbers (D=13, E=14), mod 97.
    check = 98 - int(bban + "131400") % 97
    return f"DE{check:02d}{bban}"


def iban_is_valid(iban: str) -> bool:
    """Return whether an IBAN (spaces allowed) has a valid ISO 13616 mod-97 checksum."""
    compact = iban.replace(" ", "").upper()
    if len(compact) < 5 or not compact.isalnum():
        return False
    moved = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def _bic(rng: random.Random) -> str:
    bank = "".join(rng.choice("ABCDEFGHKLMNPRSTUVW") for _ in range(4))
    return (
        bank
        + "DE"
        + rng.choice(("FF", "M1", "D1", "B1", "S1", "55", "33"))
        + rng.choice(("", "XXX", "KOB", "MZ1", "TRI", "WIE"))
    )


# --------------------------------------------------------------------------------------------
# People, places and organisations

_FEMALE = (
    "Anna",
    "Maria",
    "Sabine",
    "Julia",
    "Katharina",
    "Laura",
    "Monika",
    "Petra",
    "Sandra",
    "Claudia",
    "Lea",
    "Sophie",
    "Emine",
    "Fatma",
    "Agnieszka",
    "Olga",
    "Elena",
    "Nina",
    "Ursula",
    "Helga",
    "Ingrid",
    "Jana",
    "Miriam",
    "Svenja",
    "Christina",
    "Birgit",
    "Lena",
    "Hannah",
    "Aylin",
    "Marta",
    "Renate",
    "Kerstin",
    "Franziska",
    "Ayse",
    "Vanessa",
)
_MALE = (
    "Thomas",
    "Michael",
    "Andreas",
    "Stefan",
    "Markus",
    "Jürgen",
    "Klaus",
    "Peter",
    "Lukas",
    "Jonas",
    "Felix",
    "Tobias",
    "Daniel",
    "Mehmet",
    "Ahmet",
    "Piotr",
    "Dimitri",
    "Alexander",
    "Wolfgang",
    "Bernd",
    "Uwe",
    "Frank",
    "Sebastian",
    "Florian",
    "Matthias",
    "Hans-Peter",
    "Karl-Heinz",
    "Niklas",
    "Yusuf",
    "Marco",
    "Christian",
    "Rainer",
    "Dirk",
    "Oliver",
)
_LAST = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Keller",
    "Vogel",
    "Friedrich",
    "Günther",
    "Yilmaz",
    "Kaya",
    "Nowak",
    "Kowalski",
    "Popescu",
    "Nguyen",
    "Demir",
    "Albrecht",
    "Roth",
    "Beck",
    "Lorenz",
    "Baumann",
    "Franke",
    "Ludwig",
    "Winter",
    "Kraus",
    "Schumacher",
    "Berger",
    "Sommer",
    "Engel",
    "Horn",
    "Busch",
    "Bergmann",
    "Voigt",
    "Sauer",
    "Arnold",
    "Pohl",
    "Brandt",
    "Heinz",
    "Kuhn",
    "Seidel",
    "Thiel",
    "Ernst",
    "Haas",
)
_STREETS = (
    "Hauptstraße",
    "Bahnhofstraße",
    "Lindenstraße",
    "Gartenstraße",
    "Schulstraße",
    "Kirchgasse",
    "Am Mühlbach",
    "Waldweg",
    "Rosenweg",
    "Bergstraße",
    "Ringstraße",
    "Wiesenweg",
    "Goethestraße",
    "Schillerstraße",
    "Am Sportplatz",
    "Talstraße",
    "Birkenweg",
    "Mozartstraße",
    "Burgweg",
    "Im Brühl",
    "Auf der Höhe",
    "Marktplatz",
    "Mainzer Straße",
    "Koblenzer Straße",
    "Industriestraße",
    "Rheinallee",
    "Kastanienallee",
    "Feldstraße",
    "Am Hang",
    "Sonnenhalde",
    "Raiffeisenstraße",
    "Friedrich-Ebert-Straße",
    "Ahornweg",
    "Brunnenstraße",
    "Mühlenweg",
    "Hohlweg",
    "Am Weiher",
    "Eichendorffstraße",
    "Poststraße",
)
_TOWNS = (
    ("56410", "Lindenau"),
    ("56457", "Eichenbach"),
    ("55469", "Hohenwald"),
    ("56727", "Bergstetten"),
    ("54516", "Talbrücken"),
    ("55543", "Rosenau"),
    ("56068", "Kirchberg an der Aue"),
    ("57520", "Steinfurth"),
    ("56179", "Oberhelden"),
    ("55776", "Falkenrode"),
    ("67433", "Neuhofen"),
    ("66849", "Sonnenberg"),
    ("56812", "Birkenweiler"),
    ("54290", "Altmühlen"),
    ("65549", "Wiesbach"),
    ("35745", "Herrnstein"),
    ("56377", "Nassental"),
    ("55232", "Weinheim am Berg"),
    ("54634", "Bitzfeld"),
    ("56283", "Hunsdorf"),
    ("57610", "Altenhagen"),
    ("53489", "Sinzbach"),
    ("55606", "Kirn-Süd"),
    ("56626", "Andernau"),
)
_BANKS = (
    "Sparkasse {town}",
    "Kreissparkasse {town}",
    "Volksbank {town} eG",
    "Raiffeisenbank {town} eG",
    "Commerzbank {town}",
    "Targobank",
    "Postbank",
    "Sparda-Bank Südwest",
    "GLS Gemeinschaftsbank",
    "Westerwald Bank eG",
)
_MAIL = ("web.de", "gmx.de", "t-online.de", "posteo.de", "mailbox.org", "gmail.com")


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    female: bool

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def title(self) -> str:
        return f"{'Frau' if self.female else 'Herr'} {self.last}"

    @property
    def dear(self) -> str:
        return (
            f"Sehr geehrte Frau {self.last}" if self.female else f"Sehr geehrter Herr {self.last}"
        )


@dataclass(frozen=True)
class _Party:
    """A sender: an organisation or a private person, with an address."""

    name: str
    street: str
    zip_code: str
    town: str
    phone: str | None
    email: str | None
    web: str | None
    signer: _Person
    role: str | None
    person: bool

    @property
    def zip_town(self) -> str:
        return f"{self.zip_code} {self.town}"


def _person(rng: random.Random, female: bool | None = None) -> _Person:
    is_female = rng.random() < 0.5 if female is None else female
    first = rng.choice(_FEMALE if is_female else _MALE)
    return _Person(first, rng.choice(_LAST), is_female)


def _street(rng: random.Random) -> str:
    number = str(rng.randint(1, 140)) + (rng.choice("abc") if rng.random() < 0.12 else "")
    return f"{rng.choice(_STREETS)} {number}"


def _phone(rng: random.Random, mobile: bool = False, office: bool = False) -> str:
    if mobile:
        prefix = rng.choice(("151", "152", "160", "162", "170", "176"))
        return f"0{prefix} {rng.randint(1_000_000, 99_999_999)}"
    number = f"0{rng.randint(2000, 9999)} {rng.randint(1000, 99999)}"
    return number + ("-0" if office and rng.random() < 0.4 else "")


def _ascii(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e"})
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")


_STOPWORDS = frozenset({"fuer", "die", "der", "und", "von", "im", "am"})


def _citizen(rng: random.Random) -> _Party:
    who = _person(rng)
    zip_code, town = rng.choice(_TOWNS)
    mail = None
    if rng.random() < 0.5:
        local = f"{_ascii(who.first)}.{_ascii(who.last)}".replace("-", ".")
        mail = f"{local}@{rng.choice(_MAIL)}"
    phone = _phone(rng, mobile=rng.random() < 0.5) if rng.random() < 0.6 else None
    return _Party(who.name, _street(rng), zip_code, town, phone, mail, None, who, None, True)


def _org(
    rng: random.Random,
    names: Sequence[str],
    roles: Sequence[str],
    *,
    domain: str | None = None,
) -> _Party:
    owner = _person(rng)
    zip_code, town = rng.choice(_TOWNS)
    name = _say(rng, rng.choice(names), last=owner.last, last2=rng.choice(_LAST), town=town)
    stem = domain or _ascii(re.sub(r"\b(GmbH|AG|KG|e\.K\.|eG|GbR|mbH|& Co\.|e\.V\.)", "", name))
    stem = "-".join([w for w in stem.split("-") if w not in _STOPWORDS][:3])
    signer = owner if rng.random() < 0.5 else _person(rng)
    role = _say(
        rng, rng.choice(roles), r="in" if signer.female else "", e="" if signer.female else "r"
    )
    web = f"www.{stem}.de" if rng.random() < 0.7 else None
    return _Party(
        name,
        _street(rng),
        zip_code,
        town,
        _phone(rng, office=True),
        f"info@{stem}.de",
        web,
        signer,
        role,
        False,
    )


# --------------------------------------------------------------------------------------------
# Recipients: the Kreisverwaltung and its departments

_AUTHORITIES = (
    ("Kreisverwaltung Lindenau", ("Kreishaus", "Am Schlossgarten 3"), "56410", "Lindenau"),
    ("Landratsamt Eichenbach", ("Bahnhofstraße 12",), "56457", "Eichenbach"),
    ("Kreisverwaltung Rhein-Aue-Kreis", ("Postfach 11 40",), "56068", "Kirchberg an der Aue"),
    ("Kreisverwaltung Hohenwald", ("Peter-Altmeier-Platz 1",), "55469", "Hohenwald"),
    ("Landkreis Sonnenberg", ("Der Landrat", "Marktplatz 5"), "66849", "Sonnenberg"),
    ("Kreisverwaltung Westerhöhe", ("Postfach 2 11",), "57520", "Steinfurth"),
    ("Kreisverwaltung Talbrücken-Land", ("Trierer Straße 49",), "54516", "Talbrücken"),
    ("Landratsamt Falkenrode", ("Schlossplatz 2",), "55776", "Falkenrode"),
    ("Kreisverwaltung Nassental", ("Kreishaus", "Lahnstraße 20"), "56377", "Nassental"),
    ("Kreisverwaltung Bitzfeld-Eifel", ("Mainzer Straße 25",), "54634", "Bitzfeld"),
)
_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "zentral": (
        "Zentrale Dienste",
        "Abteilung 1 – Zentrale Aufgaben",
        "Kreiskasse",
        "Zentrale Vergabestelle",
        "Referat 10 – Organisation und IT",
        "Gebäudemanagement",
    ),
    "Wohngeld": ("Wohngeldstelle", "Abteilung 5 – Soziales", "Fachbereich Soziales – Wohngeld"),
    "Baugenehmigung": (
        "Untere Bauaufsichtsbehörde",
        "Referat 63 – Bauen und Umwelt",
        "Bauamt",
    ),
    "Elterngeld": ("Elterngeldstelle", "Jugendamt – Elterngeld", "Abteilung Jugend und Familie"),
    "Parkausweis": (
        "Straßenverkehrsbehörde",
        "Ordnungsamt – Straßenverkehr",
        "Referat 36 – Verkehr",
    ),
    "recht": ("Rechtsamt", "Referat 30 – Recht und Ordnung", "Widerspruchsstelle"),
    "beschwerde": ("Büro des Landrats", "Beschwerdemanagement", "Bürgerbüro"),
    "personal": ("Personalabteilung", "Referat 11 – Personal", "Personalservice"),
    "presse": ("Pressestelle", "Presse- und Öffentlichkeitsarbeit", "Büro des Landrats"),
    "allgemein": ("Büro des Landrats", "Zentrale Dienste", "Hauptamt"),
}


@dataclass(frozen=True)
class _Recipient:
    lines: tuple[str, ...]
    town: str
    authority: str
    contact: _Person | None


def _recipient(rng: random.Random, department: str | None) -> _Recipient:
    name, street, zip_code, town = rng.choice(_AUTHORITIES)
    lines = [name]
    # "Der Landrat" or "Kreishaus" belongs right under the name; the street comes last.
    if len(street) > 1 and rng.random() < 0.7:
        lines.append(street[0])
    if department and rng.random() < 0.8:
        lines.append(rng.choice(_DEPARTMENTS[department]))
    contact = None
    if rng.random() < 0.25:
        contact = _person(rng)
        lines.append(f"z. Hd. {'Frau' if contact.female else 'Herrn'} {contact.name}")
    lines.append(street[-1])
    lines.append(f"{zip_code} {town}")
    return _Recipient(tuple(lines), town, name, contact)


def _salutation(rng: random.Random, recipient: _Recipient) -> str:
    if recipient.contact is not None and rng.random() < 0.8:
        return recipient.contact.dear + ","
    return rng.choice(("Sehr geehrte Damen und Herren,",) * 6 + ("Guten Tag,",))


def _aktenzeichen(rng: random.Random, office: str, code: str, year: int) -> str:
    sub = rng.randint(1, 4)
    number = rng.randint(1, 2400)
    return rng.choice(
        (
            f"{office}.{sub}-{year}/{number:04d}",
            f"{office}-{code}-{year}-{number:05d}",
            f"{office}.{sub}-{code}-{year}/{number}",
            f"{office}/{code}/{number}/{year % 100:02d}",
            f"{office}.{sub}.{rng.randint(1, 9)}-{number:03d}/{year}",
        )
    )


def _az_label(rng: random.Random) -> str:
    return rng.choice(("Az.:", "Aktenzeichen:", "Ihr Zeichen:", "Ihr Aktenzeichen:", "Az."))


# --------------------------------------------------------------------------------------------
# The letter's content, before layout


@dataclass(frozen=True)
class _Table:
    """Rows of cells with totals below; ``columns`` holds one letter per column.

    ``n`` is a narrow left-aligned number, ``l`` a left-aligned column as wide as its widest
    cell, ``w`` the one column that takes the remaining width and wraps, ``r`` right-aligned.
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[tuple[str, str, bool], ...] = ()
    columns: str = "nwrrr"


@dataclass(frozen=True)
class _Lines:
    """Pre-broken lines kept together, such as a bank block or a list."""

    lines: tuple[str, ...]
    bold: bool = False
    indent: int = 0  # mm


@dataclass(frozen=True)
class _Heading:
    text: str
    centred: bool = False


@dataclass(frozen=True)
class _Break:
    """Start a new page."""


_Item = str | _Table | _Lines | _Heading | _Break


@dataclass
class _Letter:
    doc_type: str
    sender: _Party
    recipient: _Recipient
    date: dt.date
    date_line: str
    refs: list[str]
    subject: list[str]
    body: list[_Item]
    salutation: str | None = None
    closing: list[str] = field(default_factory=list)
    enclosures: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    return_line: str | None = None
    appendix: list[_Item] = field(default_factory=list)  # after the closing, e.g. a CV
    head: list[str] | None = None  # letterhead lines; the sender's address when None
    cont_header: str | None = None
    topic: str | None = None
    aktenzeichen: str | None = None
    iban: str | None = None
    amount_cents: int | None = None
    invoice_number: str | None = None
    customer_number: str | None = None


def _date_line(rng: random.Random, place: str, day: dt.date, official: bool) -> str:
    if official:
        return rng.choice(
            (f"Datum: {_de(day)}", f"Datum: {_de_long(day)}", _de(day), _de_long(day))
        )
    return rng.choice(
        (
            f"{place}, den {_de(day)}",
            f"{place}, {_de(day)}",
            f"{place}, den {_de_long(day)}",
            f"{place}, {_de_long(day)}",
            _de(day),
        )
    )


def _return_line(rng: random.Random, sender: _Party) -> str:
    sep = rng.choice((" · ", " - ", ", ", " | "))
    return sep.join((sender.name, sender.street, sender.zip_town))


def _org_footer(
    rng: random.Random, sender: _Party, iban: str | None, bic: str, bank: str
) -> list[str]:
    lines = [f"{sender.name} · {sender.street} · {sender.zip_town}"]
    contact = [f"Telefon {sender.phone}"] if sender.phone else []
    if sender.email:
        contact.append(sender.email)
    if sender.web:
        contact.append(sender.web)
    lines.append(" · ".join(contact))
    court = rng.choice(_TOWNS)[1]
    register = rng.choice(("HRB", "HRA"))
    legal = f"Amtsgericht {court} {register} {rng.randint(1000, 29999)}"
    vat = f"USt-IdNr. DE{rng.randint(100_000_000, 999_999_999)}"
    lines.append(f"{legal} · {vat}")
    if iban is not None and rng.random() < 0.6:
        lines.append(f"{bank} · IBAN {_grouped(iban)} · BIC {bic}")
    return lines


def _closing(rng: random.Random, sender: _Party, *, formal: bool = True) -> list[str]:
    greeting = rng.choice(
        ("Mit freundlichen Grüßen",) * 5
        + (
            "Freundliche Grüße",
            "Mit besten Grüßen",
            "Hochachtungsvoll" if formal else "Viele Grüße",
        )
    )
    lines = [greeting, ""]
    if sender.person:
        lines.append(sender.name)
    else:
        if rng.random() < 0.4:
            lines.insert(1, sender.name)
        lines.append(sender.signer.name)
        if sender.role:
            lines.append(sender.role)
    return lines


def _enclosures(rng: random.Random, pool: Sequence[str], low: int, high: int) -> list[str]:
    if not pool:
        return []
    label = rng.choice(("Anlagen:", "Anlagen", "Anlage:", "Beigefügt:"))
    items = rng.sample(list(pool), min(len(pool), rng.randint(low, high)))
    if rng.random() < 0.5:
        return [label, *[f"- {item}" for item in items]]
    return [f"{label} {', '.join(items)}"]


@dataclass(frozen=True)
class _Ctx:
    """What every composer gets: the date, how long the letter should run, the year."""

    date: dt.date
    extent: int  # 1 = one page, 2-3 = long letters
    topic: str | None = None  # the caller's choice of an application's subject

    @property
    def year(self) -> int:
        return self.date.year


# --------------------------------------------------------------------------------------------
# Invoices and reminders


@dataclass(frozen=True)
class _Trade:
    names: tuple[str, ...]
    # description, unit, lowest and highest unit price in cents, lowest and highest quantity
    items: tuple[tuple[str, str, int, int, int, int], ...]
    service: tuple[str, ...]
    vat: int = 19


_TRADES = (
    _Trade(
        (
            "Bürobedarf {last} GmbH",
            "{last} Büroservice e.K.",
            "Papier & Mehr {town} GmbH",
            "Office-Partner {last} KG",
            "Bürowelt {last} GmbH",
        ),
        (
            ("Kopierpapier A4, 80 g, 500 Blatt", "Pck.", 399, 549, 10, 200),
            ("Ordner A4, 8 cm Rücken, blau", "Stk.", 249, 399, 10, 100),
            ("Toner schwarz für Laserdrucker", "Stk.", 6900, 11900, 1, 10),
            ("Kugelschreiber, Packung mit 50 Stück", "Pck.", 1490, 2490, 1, 10),
            ("Haftnotizen 76 x 76 mm, 12 Blöcke", "Pck.", 590, 990, 2, 20),
            ("Hängemappen, 25 Stück", "Pck.", 1290, 1890, 1, 8),
            ("Briefumschläge DIN lang mit Fenster", "Kart.", 1990, 3490, 1, 10),
            ("Locher aus Metall, 40 Blatt", "Stk.", 890, 1690, 1, 10),
            ("Heftgerät mit Heftklammern", "Stk.", 790, 1490, 1, 10),
            ("Aktenvernichter Sicherheitsstufe P-4", "Stk.", 14900, 28900, 1, 2),
        ),
        ("Büromaterial", "Bürobedarf", "Büroartikel"),
    ),
    _Trade(
        (
            "IT-Systemhaus {last} GmbH",
            "{last} Netzwerktechnik GmbH",
            "Datenservice {town} AG",
            "{last} & {last2} IT-Lösungen GbR",
        ),
        (
            ("Notebook 14 Zoll, 16 GB RAM, 512 GB SSD", "Stk.", 79900, 119900, 1, 10),
            ("Dockingstation USB-C", "Stk.", 14900, 21900, 1, 10),
            ("Monitor 27 Zoll, höhenverstellbar", "Stk.", 21900, 34900, 1, 10),
            ("Einrichtung Arbeitsplatz", "Std.", 8500, 11500, 1, 16),
            ("Virenschutz-Lizenz, 12 Monate", "Lz.", 2900, 4900, 5, 120),
            ("Netzwerkkabel Cat. 6, 5 m", "Stk.", 390, 790, 5, 50),
            ("Wartungspauschale Server", "Mon.", 24000, 65000, 1, 3),
            ("Fernwartung", "Std.", 7900, 9900, 1, 8),
        ),
        ("IT-Dienstleistungen", "IT-Ausstattung", "Wartung und Support"),
    ),
    _Trade(
        ("Druckerei {last} GmbH", "Druckhaus {town}", "{last} Druck & Medien KG"),
        (
            ("Flyer DIN lang, vierfarbig, 5.000 Stück", "Aufl.", 18900, 34900, 1, 3),
            ("Briefbogen mit Wappen, 2.000 Stück", "Aufl.", 12900, 21900, 1, 4),
            ("Broschüre A5, 24 Seiten, 500 Stück", "Aufl.", 59000, 98000, 1, 2),
            ("Plakat DIN A1, Bilderdruckpapier", "Stk.", 890, 1990, 10, 100),
            ("Visitenkarten, 250 Stück", "Satz", 2900, 4900, 1, 12),
            ("Satz und Gestaltung", "Std.", 6500, 8900, 1, 10),
        ),
        ("Druckarbeiten", "Drucksachen", "Satz und Druck"),
    ),
    _Trade(
        (
            "Gebäudereinigung {last} GmbH",
            "Glanzwerk Dienstleistungen GmbH",
            "{last} Facility Services GmbH",
        ),
        (
            ("Unterhaltsreinigung Verwaltungsgebäude", "Mon.", 190000, 480000, 1, 1),
            ("Glasreinigung Fensterflächen", "qm", 120, 250, 100, 800),
            ("Grundreinigung Sitzungssaal", "psch.", 29000, 59000, 1, 1),
            ("Sonderreinigung nach Veranstaltung", "Std.", 3200, 4200, 2, 12),
            ("Teppichreinigung Büroflure", "qm", 290, 490, 50, 400),
        ),
        ("Reinigungsleistungen", "Gebäudereinigung", "Glas- und Unterhaltsreinigung"),
    ),
    _Trade(
        ("Elektro {last} GmbH", "{last} Elektrotechnik e.K.", "Elektroinstallation {last} & Sohn"),
        (
            ("Prüfung ortsveränderlicher Geräte nach DGUV V3", "Stk.", 250, 490, 50, 300),
            ("Austausch LED-Deckenleuchte", "Stk.", 8900, 15900, 1, 20),
            ("Arbeitszeit Elektromeister", "Std.", 6500, 8900, 1, 16),
            ("Arbeitszeit Geselle", "Std.", 5200, 6900, 1, 24),
            ("Anfahrtspauschale", "psch.", 2900, 4900, 1, 1),
            ("Kabelkanal 60 x 110 mm", "m", 890, 1490, 5, 60),
            ("Kleinmaterial", "psch.", 1500, 6500, 1, 1),
        ),
        ("Elektroarbeiten", "Elektroprüfungen", "Elektroinstallation"),
    ),
    _Trade(
        ("Garten- und Landschaftsbau {last}", "Grünpflege {town} GmbH", "{last} Grünservice"),
        (
            ("Rasenmähen Außenanlagen", "qm", 12, 29, 500, 4000),
            ("Heckenschnitt inklusive Entsorgung", "lfm", 250, 590, 20, 200),
            ("Baumschnitt mit Hubsteiger", "Std.", 8900, 13900, 2, 12),
            ("Entsorgung Grüngut", "cbm", 2500, 4500, 1, 20),
            ("Winterdienst Parkplatz", "Einsatz", 6500, 12900, 1, 15),
        ),
        ("Grünpflege", "Pflegearbeiten an den Außenanlagen", "Winterdienst und Grünpflege"),
    ),
    _Trade(
        ("Autohaus {last} GmbH", "Kfz-Meisterbetrieb {last}", "{last} Nutzfahrzeuge GmbH"),
        (
            ("Inspektion nach Herstellervorgabe", "psch.", 18900, 38900, 1, 1),
            ("Ölwechsel mit Filter", "psch.", 8900, 14900, 1, 1),
            ("Räderwechsel mit Einlagerung", "Satz", 4900, 8900, 1, 4),
            ("Bremsbeläge vorn erneuern", "psch.", 16900, 29900, 1, 1),
            ("Arbeitswerte", "AW", 1200, 1600, 5, 40),
            ("Hauptuntersuchung", "psch.", 13900, 15900, 1, 1),
        ),
        ("Fahrzeugwartung", "Reparaturarbeiten am Dienstfahrzeug", "Inspektion und Wartung"),
    ),
    _Trade(
        (
            "Fachverlag {last} GmbH",
            "Verlag für Verwaltungspraxis {last} KG",
            "Kommunalverlag {town}",
        ),
        (
            ("Kommentar Kommunalrecht, Ergänzungslieferung", "Stk.", 4900, 12900, 1, 4),
            ("Jahresabonnement Zeitschrift für Kommunalfinanzen", "Abo", 14900, 29900, 1, 3),
            ("Online-Datenbank Baurecht, Jahreslizenz", "Lz.", 39000, 89000, 1, 2),
            ("Handbuch Wohngeldrecht, aktuelle Auflage", "Stk.", 3900, 7900, 1, 6),
            ("Versandkostenpauschale", "psch.", 490, 990, 1, 1),
        ),
        ("Fachliteratur", "Abonnements", "Fachliteratur und Datenbanken"),
        vat=7,
    ),
    _Trade(
        ("Partyservice {last}", "Catering {town} GmbH", "Landgasthof {last}"),
        (
            ("Mittagsimbiss", "Pers.", 1290, 2490, 10, 80),
            ("Kaffee und Gebäck", "Pers.", 490, 890, 10, 120),
            ("Kaltgetränke", "Fl.", 190, 350, 20, 200),
            ("Servicepersonal", "Std.", 2900, 3900, 2, 16),
            ("Geschirr und Besteck, Leihgebühr", "psch.", 4900, 9900, 1, 1),
        ),
        ("Bewirtung", "Catering", "Verpflegung bei Sitzungen"),
    ),
    _Trade(
        ("Übersetzungsbüro {last}", "Sprachendienst {town}", "{last} Translations GbR"),
        (
            ("Übersetzung Urkunde Türkisch-Deutsch", "Zeile", 150, 230, 20, 180),
            ("Übersetzung Bescheid Deutsch-Arabisch", "Zeile", 160, 250, 30, 240),
            ("Beglaubigung der Übersetzung", "Stk.", 500, 1500, 1, 5),
            ("Dolmetschereinsatz Bürgerbüro", "Std.", 7500, 8500, 1, 8),
            ("Fahrtkosten", "km", 30, 42, 10, 120),
        ),
        ("Übersetzungsleistungen", "Dolmetscherleistungen", "Übersetzungen"),
    ),
)
_SITES = (
    "Kreishaus",
    "Außenstelle {town}",
    "Gebäude B",
    "Zulassungsstelle",
    "Jugendamt",
    "Kreismusikschule",
    "Realschule plus {town}",
    "Gymnasium {town}",
    "Kreisbauhof",
    "Gesundheitsamt",
    "Berufsbildende Schule",
    "Sitzungssaal",
)
_SELLER_ROLES = (
    "Geschäftsführer{r}",
    "Buchhaltung",
    "Inhaber{r}",
    "Vertrieb",
    "Debitorenbuchhaltung",
    "Kundenservice",
)


def _invoice_number(rng: random.Random, day: dt.date) -> str:
    n = rng.randint(1, 99_999)
    return rng.choice(
        (
            f"RE-{day.year}-{n:05d}",
            f"{day.year}{n:06d}",
            f"R{day.year % 100:02d}{day.month:02d}-{n % 10000:04d}",
            f"{rng.randint(100_000, 999_999)}",
            f"RG {day.year}/{n % 10000:04d}",
            f"{day.year % 100:02d}-{n:05d}",
        )
    )


def _customer_number(rng: random.Random) -> str:
    n = rng.randint(1000, 99_999)
    return rng.choice(
        (
            f"KD-{n:05d}",
            f"{rng.randint(100_000, 999_999)}",
            f"K{n:05d}",
            f"{n // 100}-{n % 1000:04d}",
        )
    )


def _bank_block(rng: random.Random, iban: str, bic: str, bank: str) -> _Lines:
    styles = (
        (f"Bankverbindung: {bank}", f"IBAN: {_grouped(iban)}", f"BIC: {bic}"),
        (f"IBAN {_grouped(iban)}", f"BIC {bic}", f"({bank})"),
        (f"Kreditinstitut: {bank}", f"IBAN: {_grouped(iban)}", f"BIC: {bic}"),
        (f"{bank}", f"IBAN: {_grouped(iban)}"),
    )
    return _Lines(rng.choice(styles), indent=rng.choice((0, 0, 10)))


def _rechnung(rng: random.Random, ctx: _Ctx) -> _Letter:
    trade = rng.choice(_TRADES)
    seller = _org(rng, trade.names, _SELLER_ROLES)
    recipient = _recipient(rng, "zentral")
    unit = rng.choice(("€", "€", "€", "EUR"))
    invoice = _invoice_number(rng, ctx.date)
    customer = _customer_number(rng) if rng.random() < 0.85 else None
    iban, bic = _iban(rng), _bic(rng)
    bank = _say(rng, rng.choice(_BANKS), town=seller.town)
    if ctx.extent == 1:
        count = rng.randint(1, 6)
    else:
        count = rng.randint(18, 26) if ctx.extent == 2 else rng.randint(34, 44)
    rows: list[tuple[str, ...]] = []
    net = 0
    for position in range(1, count + 1):
        text, item_unit, low, high, qlow, qhigh = rng.choice(trade.items)
        if count > 6 or rng.random() < 0.3:
            site = _say(rng, rng.choice(_SITES), town=rng.choice(_TOWNS)[1])
            text = (
                f"{text}, {site}"
                if rng.random() < 0.6
                else f"{text} ({_de(ctx.date - dt.timedelta(days=rng.randint(3, 60)))})"
            )
        price = rng.randint(low, high)
        if rng.random() < 0.6:
            price = max(10, price // 10 * 10)
        half = item_unit == "Std." and rng.random() < 0.3
        quantity = rng.randint(qlow, qhigh)
        line_cents = price * quantity + (price // 2 if half else 0)
        net += line_cents
        amount = f"{quantity},5" if half else str(quantity)
        rows.append(
            (
                str(position),
                text,
                f"{amount} {item_unit}",
                _eur(price, unit),
                _eur(line_cents, unit),
            )
        )
    small = rng.random() < 0.08 and net < 500_000
    vat = 0 if small else round(net * trade.vat / 100)
    gross = net + vat
    net_label = rng.choice(("Nettobetrag", "Summe netto", "Zwischensumme", "Warenwert netto"))
    vat_label = rng.choice(
        (
            f"zzgl. {trade.vat} % USt.",
            f"Umsatzsteuer {trade.vat} %",
            f"MwSt. {trade.vat} %",
            f"zzgl. {trade.vat} % MwSt.",
        )
    )
    gross_label = rng.choice(
        ("Gesamtbetrag", "Rechnungsbetrag", "Bruttobetrag", "Endbetrag", "Zu zahlender Betrag")
    )
    totals: tuple[tuple[str, str, bool], ...]
    if small:
        totals = ((gross_label, _eur(gross, unit), True),)
    else:
        totals = (
            (net_label, _eur(net, unit), False),
            (vat_label, _eur(vat, unit), False),
            (gross_label, _eur(gross, unit), True),
        )
    header = (
        rng.choice(("Pos.", "Pos", "Nr.")),
        rng.choice(("Bezeichnung", "Artikel", "Leistung", "Beschreibung")),
        rng.choice(("Menge", "Anzahl")),
        rng.choice(("Einzelpreis", "E-Preis", "Preis")),
        rng.choice(("Gesamt", "Betrag", "Summe")),
    )
    table = _Table(header, tuple(rows), totals, "nwrrr")
    days = rng.choice((7, 10, 14, 14, 30, 30))
    due = _workday(ctx.date + dt.timedelta(days=days))
    refs: list[str] = []
    invoice_in_refs = rng.random() < 0.7
    if invoice_in_refs:
        refs.append(
            f"{rng.choice(('Rechnungsnummer:', 'Rechnungs-Nr.:', 'Rechnung Nr.'))} {invoice}"
        )
    if customer:
        refs.append(
            f"{rng.choice(('Kundennummer:', 'Kunden-Nr.:', 'Ihre Kundennummer:'))} {customer}"
        )
    aktenzeichen = None
    if rng.random() < 0.3:
        aktenzeichen = _aktenzeichen(rng, rng.choice(("10", "11", "20", "65")), "VG", ctx.year)
        refs.append(
            f"{rng.choice(('Ihr Zeichen:', 'Ihr Az.:', 'Ihre Bestellung:'))} {aktenzeichen}"
        )
    if rng.random() < 0.5:
        delivered = ctx.date - dt.timedelta(days=rng.randint(1, 20))
        refs.append(
            rng.choice(
                (
                    f"Lieferdatum: {_de(delivered)}",
                    f"Leistungsdatum: {_de(delivered)}",
                    f"Leistungszeitraum: {_MONTHS[delivered.month - 1]} {delivered.year}",
                )
            )
        )
    date_label = rng.choice(("Datum:", "Rechnungsdatum:", "Datum:"))
    date_line = f"{date_label} {_de(ctx.date)}"
    subject = rng.choice(
        (
            f"Rechnung Nr. {invoice}",
            f"Rechnung {invoice}",
            f"Rechnung Nr. {invoice} vom {_de(ctx.date)}",
            "Rechnung" if invoice_in_refs else f"Rechnung {invoice}",
            f"{rng.choice(trade.service)} – Rechnung {invoice}",
        )
    )
    salutation = _salutation(rng, recipient) if rng.random() < 0.6 else None
    intro = _one(
        rng,
        (
            "[vielen Dank für Ihren Auftrag|wir bedanken uns für Ihren Auftrag|vielen Dank "
            "für Ihre Bestellung]. "
            "[Wir berechnen Ihnen|Für unsere Leistungen berechnen wir Ihnen] [wie "
            "vereinbart|vereinbarungsgemäß|] [folgende Positionen|die nachstehenden "
            "Leistungen|Folgendes]:",
            "[vielen Dank für Ihren Auftrag|wir bedanken uns für Ihren Auftrag]. Hiermit "
            "stellen wir Ihnen [wie vereinbart|vereinbarungsgemäß|] [folgende "
            "Positionen|Folgendes] in Rechnung:",
            "für [die Lieferung|die erbrachten Leistungen|unsere Arbeiten] [vom {d}|im "
            "{m}|gemäß Ihrem Auftrag] "
            "[erlauben wir uns, Ihnen Folgendes in Rechnung zu stellen|stellen wir Ihnen die "
            "nachstehenden Beträge in Rechnung|berechnen wir Ihnen Folgendes]:",
            "[gemäß|entsprechend] [Ihrer Bestellung|unserem Angebot|dem Rahmenvertrag] [vom {o}|] "
            "[berechnen wir Ihnen die folgenden Positionen|stellen wir Ihnen folgende "
            "Leistungen in Rechnung|berechnen wir]:",
            "[anbei erhalten Sie|hiermit erhalten Sie|wir übersenden Ihnen] [unsere "
            "Rechnung|die Rechnung] "
            "[für {s}|über {s}]:",
        ),
        d=_de(ctx.date - dt.timedelta(days=rng.randint(1, 14))),
        m=_MONTHS[(ctx.date.month - 2) % 12],
        o=_de(ctx.date - dt.timedelta(days=rng.randint(15, 60))),
        s=rng.choice(trade.service),
    )
    pay = _one(
        rng,
        (
            "Bitte [überweisen Sie|begleichen Sie|zahlen Sie] den "
            "[Rechnungsbetrag|Gesamtbetrag|Betrag von {t}] "
            "[bis zum {due}|spätestens bis zum {due}|innerhalb von {days} Tagen] [ohne "
            "Abzug|] auf [unser Konto|das unten genannte Konto|folgendes Konto]:",
            "Der [Rechnungsbetrag|Betrag] [von {t}|] ist [zahlbar|fällig] [bis zum "
            "{due}|innerhalb von {days} Tagen nach Rechnungseingang] [ohne Abzug|netto|]. "
            "[Bitte verwenden Sie folgende Bankverbindung|Wir bitten um Zahlung auf unser "
            "Geschäftskonto|Bitte überweisen Sie auf das folgende Konto|Unsere "
            "Bankverbindung|Zahlungen erbitten wir auf dieses Konto|Bitte nutzen Sie für die "
            "Überweisung unser Konto]:",
            "Wir bitten Sie, den Betrag [von {t}|] [bis {due}|binnen {days} Tagen] "
            "[auf folgendes Konto zu überweisen|unserem Konto gutzuschreiben]:",
        ),
        t=_eur(gross, unit),
        due=_de(due),
        days=days,
    )
    body: list[_Item] = [intro, table, pay, _bank_block(rng, iban, bic, bank)]
    extras = (
        "Bitte geben Sie [bei der Zahlung|als Verwendungszweck|im Verwendungszweck] [die "
        "Rechnungsnummer|unsere Rechnungsnummer] {inv} an.",
        "[Das Leistungsdatum entspricht dem Rechnungsdatum|Leistungsdatum ist das "
        "Rechnungsdatum|Der Leistungszeitpunkt entspricht dem Lieferdatum].",
        "Bei Zahlung innerhalb von [7|8|10] Tagen [gewähren wir|dürfen Sie] [2|3] % Skonto "
        "[abziehen|].",
        "[Für Rückfragen|Bei Fragen zu dieser Rechnung] [stehen wir Ihnen gerne zur "
        "Verfügung|erreichen Sie uns unter {phone}|wenden Sie sich bitte an {phone}].",
        "[Wir danken für die gute Zusammenarbeit|Vielen Dank für Ihr Vertrauen|Wir freuen uns "
        "auf weitere Aufträge].",
    )
    body.extend(_some(rng, extras, 1, 3, inv=invoice, phone=seller.phone))
    if small:
        body.append(
            _one(
                rng,
                (
                    "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet.",
                    "Als Kleinunternehmer im Sinne von § 19 Abs. 1 UStG [berechnen wir|weisen "
                    "wir] keine Umsatzsteuer [aus|].",
                ),
            )
        )
    return _Letter(
        doc_type="rechnung",
        sender=seller,
        recipient=recipient,
        date=ctx.date,
        date_line=date_line,
        refs=refs,
        subject=[subject],
        body=body,
        salutation=salutation,
        closing=_closing(rng, seller) if rng.random() < 0.6 else [],
        footer=_org_footer(rng, seller, iban, bic, bank),
        return_line=_return_line(rng, seller),
        cont_header=rng.choice(
            (None, f"Rechnung {invoice} vom {_de(ctx.date)}", f"{seller.name} – Rechnung {invoice}")
        ),
        aktenzeichen=aktenzeichen,
        iban=iban,
        amount_cents=gross,
        invoice_number=invoice,
        customer_number=customer,
    )


def _mahnung(rng: random.Random, ctx: _Ctx) -> _Letter:
    trade = rng.choice(_TRADES)
    seller = _org(rng, trade.names, _SELLER_ROLES)
    recipient = _recipient(rng, "zentral")
    unit = rng.choice(("€", "€", "EUR"))
    invoice = _invoice_number(rng, ctx.date - dt.timedelta(days=60))
    customer = _customer_number(rng) if rng.random() < 0.7 else None
    iban, bic = _iban(rng), _bic(rng)
    bank = _say(rng, rng.choice(_BANKS), town=seller.town)
    level = rng.choice((0, 1, 1, 2, 3))
    invoice_date = ctx.date - dt.timedelta(days=rng.randint(35, 80))
    first_due = invoice_date + dt.timedelta(days=rng.choice((14, 30)))
    deadline = _workday(ctx.date + dt.timedelta(days=rng.choice((7, 10, 14))))
    open_cents = rng.randint(2_500, 450_000)
    fee = (0, rng.choice((0, 250, 500)), rng.choice((500, 750, 1000)), rng.choice((1000, 1500)))[
        level
    ]
    paid = rng.choice((0, 0, 0, rng.randint(1, open_cents // 100) * 50))
    interest = (
        round((open_cents - paid) * rng.choice((5, 7, 9)) / 100 * rng.randint(20, 60) / 365)
        if level >= 2
        else 0
    )
    total = open_cents - paid + fee + interest
    subject = [
        (
            rng.choice(
                (
                    "Zahlungserinnerung",
                    "Freundliche Zahlungserinnerung",
                    "Erinnerung an offene Rechnung",
                )
            ),
            rng.choice(("1. Mahnung", "Mahnung", "Erste Mahnung")),
            rng.choice(("2. Mahnung", "Zweite Mahnung")),
            rng.choice(
                (
                    "Letzte Mahnung",
                    "3. und letzte Mahnung",
                    "Letzte Mahnung vor Übergabe an das Inkasso",
                )
            ),
        )[level]
    ]
    if rng.random() < 0.7:
        subject.append(
            f"{rng.choice(('Rechnung Nr.', 'Unsere Rechnung', 'Rechnung'))} {invoice} vom "
            f"{_de(invoice_date)}"
        )
    refs = []
    if customer:
        refs.append(f"{rng.choice(('Kundennummer:', 'Kunden-Nr.:'))} {customer}")
    if rng.random() < 0.6 or len(subject) == 1:
        refs.append(f"{rng.choice(('Rechnungsnummer:', 'Rechnung Nr.', 'Beleg-Nr.:'))} {invoice}")
    aktenzeichen = None
    if rng.random() < 0.15:
        aktenzeichen = _aktenzeichen(rng, rng.choice(("10", "20")), "VG", ctx.year)
        refs.append(f"Ihr Zeichen: {aktenzeichen}")
    date_line = rng.choice(
        (f"Datum: {_de(ctx.date)}", _de(ctx.date), f"{seller.town}, {_de(ctx.date)}")
    )
    opening = (
        (
            "[sicherlich|bestimmt|vermutlich] ist es Ihrer Aufmerksamkeit entgangen, dass "
            "[unsere Rechnung|die Rechnung] Nr. {inv} vom {idate} "
            "[noch nicht beglichen wurde|bis heute offen ist|noch zur Zahlung aussteht].",
            "[bei der Durchsicht unserer Buchhaltung|bei unserem Zahlungsabgleich] haben wir "
            "[festgestellt|bemerkt], dass die Rechnung {inv} "
            "vom {idate} [trotz Fälligkeit am {due}|seit dem {due}] [noch offen ist|nicht "
            "ausgeglichen wurde].",
            "[im Alltag kann eine Rechnung schon einmal untergehen|jeder vergisst einmal "
            "etwas]. [Unsere Rechnung|Die Rechnung] {inv} "
            "vom {idate} war am {due} fällig, [ein Zahlungseingang ist bei uns jedoch nicht "
            "verbucht|wir konnten aber noch keine Zahlung feststellen].",
        ),
        (
            "[leider|bedauerlicherweise] konnten wir [bis heute|bislang] keinen "
            "Zahlungseingang für [unsere Rechnung|die Rechnung] Nr. {inv} vom {idate} "
            "[feststellen|verzeichnen].",
            "die Rechnung {inv} vom {idate} ist seit dem {due} fällig. [Trotz unserer "
            "Erinnerung|Auch nach unserer Zahlungserinnerung|Trotz unseres Hinweises|Ungeachtet "
            "unserer Erinnerung] [ist der Betrag noch offen|haben wir keine Zahlung "
            "erhalten|steht der Ausgleich weiterhin aus|ist bei uns kein Geld eingegangen].",
        ),
        (
            "trotz [unserer Zahlungserinnerung|unserer ersten Mahnung] vom {prev} [ist die "
            "Rechnung|bleibt die Rechnung] {inv} vom {idate} "
            "[weiterhin offen|unbezahlt].",
            "[wir haben Sie bereits|bereits] am {prev} [an die Zahlung erinnert|gemahnt]. "
            "[Leider|Bedauerlicherweise] [ist bis heute keine Zahlung erfolgt|fehlt die "
            "Zahlung noch immer].",
        ),
        (
            "[ungeachtet|trotz] unserer [bisherigen Mahnungen|Mahnungen vom {prev} und "
            "{prev2}] [ist die Forderung aus der Rechnung|bleibt der Betrag aus der Rechnung] "
            "{inv} "
            "vom {idate} [vollständig|weiterhin] offen.",
            "[dies ist unsere letzte Mahnung|wir mahnen Sie hiermit letztmalig]. Die Rechnung "
            "{inv} vom {idate} ist [seit Wochen|seit dem {due}] [überfällig|fällig].",
        ),
    )[level]
    prev = ctx.date - dt.timedelta(days=rng.randint(10, 21))
    values: dict[str, object] = {
        "inv": invoice,
        "idate": _de(invoice_date),
        "due": _de(first_due),
        "prev": _de(prev),
        "prev2": _de(prev - dt.timedelta(days=14)),
        "t": _eur(total, unit),
        "dl": _de(deadline),
    }
    rows = [
        (
            rng.choice(("Rechnungsbetrag", "Ursprünglicher Betrag", "Forderung")),
            _eur(open_cents, unit),
            False,
        )
    ]
    if paid:
        rows.append(
            (rng.choice(("abzüglich Teilzahlung", "bereits gezahlt")), _eur(-paid, unit), False)
        )
    if fee:
        rows.append(
            (rng.choice(("Mahngebühr", "Mahnkosten", "Mahnspesen")), _eur(fee, unit), False)
        )
    if interest:
        rows.append((rng.choice(("Verzugszinsen", "Zinsen")), _eur(interest, unit), False))
    rows.append(
        (
            rng.choice(("Offener Betrag", "Gesamtforderung", "Zu zahlen", "Offener Gesamtbetrag")),
            _eur(total, unit),
            True,
        )
    )
    body: list[_Item] = [_one(rng, opening, **values)]
    body.append(_Table((), (), tuple(rows), "wr"))
    body.append(
        _one(
            rng,
            (
                "Bitte [überweisen Sie|zahlen Sie] den [offenen|ausstehenden] Betrag von {t} "
                "[bis zum {dl}|spätestens bis {dl}] auf [unser Konto|das folgende Konto]:",
                "Wir bitten Sie, den Gesamtbetrag [von {t}|] [bis zum {dl}|innerhalb der "
                "nächsten Tage, spätestens am {dl},] [auf folgendes Konto|] zu überweisen:",
                "[Bitte gleichen Sie|Gleichen Sie bitte] den Betrag [bis {dl}|bis spätestens "
                "{dl}] aus. Unsere Bankverbindung:",
            ),
            **values,
        )
    )
    body.append(_bank_block(rng, iban, bic, bank))
    tail = [
        "Sollten Sie die Zahlung [zwischenzeitlich|bereits] [veranlasst|angewiesen] haben, "
        "[betrachten Sie dieses Schreiben bitte als gegenstandslos|bitten wir Sie, dieses "
        "Schreiben zu ignorieren|danken wir Ihnen und bitten, dieses Schreiben als erledigt "
        "anzusehen].",
        "[Bei Unklarheiten|Bei Fragen zur Forderung|Für Rückfragen] [melden Sie sich "
        "bitte|erreichen Sie uns] unter {phone}.",
        "Bitte geben Sie [als Verwendungszweck|bei der Zahlung] [die Rechnungsnummer|die "
        "Nummer] {inv} an.",
    ]
    if level >= 2:
        tail.append(
            "[Nach Ablauf der Frist|Sollte die Zahlung nicht fristgerecht eingehen,] [werden "
            "wir|sehen wir uns gezwungen,] "
            "[die Forderung ohne weitere Ankündigung an ein Inkassounternehmen "
            "abzugeben|einen gerichtlichen Mahnbescheid zu beantragen|rechtliche Schritte "
            "einzuleiten]."
        )
    body.extend(_some(rng, tail, 1, 3, phone=seller.phone, **values))
    appendix: list[_Item] = []
    if ctx.extent > 1:
        appendix.append(_Break())
        appendix.append(
            _Heading(
                rng.choice(
                    ("Aufstellung der offenen Posten", "Kontoauszug", "Übersicht offene Posten")
                )
            )
        )
        items: list[tuple[str, ...]] = []
        day = invoice_date - dt.timedelta(days=200)
        for number in range(1, rng.randint(16, 30)):
            day += dt.timedelta(days=rng.randint(3, 12))
            cents = rng.randint(1_000, 90_000)
            left = rng.choice((0, 0, 0, cents, cents // 2))
            items.append(
                (
                    str(number),
                    _invoice_number(rng, day),
                    _de(day),
                    _eur(cents, unit),
                    _eur(left, unit),
                )
            )
        header = ("Nr.", rng.choice(("Rechnung", "Beleg", "Beleg-Nr.")), "vom", "Betrag", "Offen")
        appendix.append(_Table(header, tuple(items), (), "nwlrr"))

    return _Letter(
        doc_type="mahnung",
        appendix=appendix,
        sender=seller,
        recipient=recipient,
        date=ctx.date,
        date_line=date_line,
        refs=refs,
        subject=subject,
        body=body,
        salutation=_salutation(rng, recipient) if rng.random() < 0.85 else None,
        closing=_closing(rng, seller),
        footer=_org_footer(rng, seller, iban, bic, bank),
        return_line=_return_line(rng, seller),
        cont_header=rng.choice((None, f"{subject[0]} vom {_de(ctx.date)}")),
        aktenzeichen=aktenzeichen,
        iban=iban,
        amount_cents=total,
        invoice_number=invoice,
        customer_number=customer,
    )


# --------------------------------------------------------------------------------------------
# Applications from citizens

_GEMARKUNGEN = (
    "Lindenau",
    "Oberhelden",
    "Talbrücken",
    "Rosenau",
    "Birkenweiler",
    "Hunsdorf",
    "Sinzbach",
)
_PROJECTS = (
    ("den Neubau eines Einfamilienhauses mit Doppelgarage", "Neubau eines Einfamilienhauses"),
    ("die Errichtung eines Carports", "Errichtung eines Carports"),
    ("den Anbau eines Wintergartens an das bestehende Wohnhaus", "Anbau eines Wintergartens"),
    ("die Nutzungsänderung einer Scheune zu Wohnzwecken", "Nutzungsänderung einer Scheune"),
    (
        "die Errichtung einer Gerätehalle für den landwirtschaftlichen Betrieb",
        "Neubau einer Gerätehalle",
    ),
    ("den Ausbau des Dachgeschosses mit zwei Gauben", "Dachgeschossausbau mit Gauben"),
    ("den Neubau eines Zweifamilienhauses", "Neubau eines Zweifamilienhauses"),
)


def _antrag_wohngeld(
    rng: random.Random, ctx: _Ctx, me: _Party
) -> tuple[list[str], list[_Item], list[str]]:
    persons = rng.randint(1, 5)
    rent = rng.randint(38, 115) * 1000 + rng.choice((0, 500))
    since = ctx.date - dt.timedelta(days=rng.randint(90, 3000))
    subject = [
        _one(
            rng,
            (
                "Antrag auf Wohngeld",
                "Antrag auf Mietzuschuss (Wohngeld)",
                "Wohngeldantrag",
                "Erstantrag auf Wohngeld",
                "Weiterleistungsantrag Wohngeld",
                "Antrag auf Lastenzuschuss (Wohngeld)",
            ),
        )
    ]
    if rng.random() < 0.4:
        subject.append(f"Wohnung {me.street}, {me.zip_town}")
    paragraphs = [
        _one(
            rng,
            (
                "hiermit [beantrage ich|stelle ich einen Antrag auf] Wohngeld [für meine "
                "Wohnung in der {street}|ab dem {month}|für meinen Haushalt].",
                "[ich möchte|hiermit möchte ich] [Wohngeld|einen Mietzuschuss] "
                "[beantragen|für meine Mietwohnung beantragen]. "
                "[Das ausgefüllte Antragsformular|Den Vordruck] [lege ich bei|finden Sie in "
                "der Anlage].",
                "[da mein Einkommen|weil unsere Einkünfte] [nicht mehr ausreicht|gesunken "
                "sind], [stelle ich|möchte ich] [hiermit|] einen Antrag auf Wohngeld "
                "[stellen|].",
                "mein [bisheriger|letzter] Wohngeldbescheid läuft am {end} aus. [Ich "
                "beantrage daher|Daher bitte ich um] [die Weiterbewilligung|die "
                "Weiterzahlung] [des Wohngeldes|].",
            ),
            street=me.street,
            month=f"{_MONTHS[ctx.date.month % 12]} {ctx.year}",
            end=_de(ctx.date + dt.timedelta(days=rng.randint(10, 40))),
        ),
        _one(
            rng,
            (
                "[In meinem Haushalt leben|Zu unserem Haushalt gehören] {persons} Person{s}. "
                "Die [Bruttokaltmiete|monatliche Miete ohne Heizkosten|Kaltmiete "
                "einschließlich Nebenkosten] beträgt {rent}.",
                "Ich [wohne|lebe] seit dem {since} [zur Miete|in einer Mietwohnung] [mit "
                "{persons} Person{s}|]. [Die Miete beträgt derzeit|Monatlich zahle ich] "
                "{rent} [zuzüglich Heizkosten|einschließlich Nebenkosten|].",
                "Die Wohnung [ist rund {qm} Quadratmeter groß|hat etwa {qm} Quadratmeter "
                "Wohnfläche], die "
                "Miete [liegt bei|beträgt] {rent} [im Monat|monatlich]. [Es handelt sich um "
                "einen Haushalt mit {persons} Person{s}.|]",
            ),
            persons=persons,
            s="" if persons == 1 else "en",
            rent=_eur(rent),
            since=_de(since),
            qm=rng.randint(35, 110),
        ),
        _one(
            rng,
            (
                "[Ich beziehe|Ich erhalte] [eine Altersrente von|eine Erwerbsminderungsrente "
                "in Höhe von] {inc} [monatlich|netto|].",
                "[Mein Einkommen|Mein Nettoeinkommen] aus [einer Teilzeitbeschäftigung|meiner "
                "Tätigkeit als {job}] beträgt [rund|etwa|] {inc} [im Monat|monatlich].",
                "Seit [dem {chg}|{chgm}] [bin ich in Kurzarbeit|arbeite ich nur noch in "
                "Teilzeit|ist mein Einkommen deutlich gesunken]; [ich verdiene nun noch|mein "
                "Verdienst beträgt nur noch] {inc}.",
                "[Meine Frau|Mein Mann|Meine Partnerin|Mein Partner] und ich [haben "
                "zusammen|verfügen gemeinsam über] ein Einkommen von {inc} [netto|monatlich].",
            ),
            inc=_eur(rng.randint(700, 2600) * 100),
            job=rng.choice(
                ("Verkäuferin", "Lagerhelfer", "Pflegehelferin", "Fahrer", "Reinigungskraft")
            ),
            chg=_de(ctx.date - dt.timedelta(days=rng.randint(30, 200))),
            chgm=_MONTHS[(ctx.date.month - 3) % 12],
        ),
    ]
    optional: tuple[str, ...] = (
        "Sollten [weitere Unterlagen|noch Nachweise] [erforderlich|notwendig] sein, [bitte "
        "ich um einen kurzen Hinweis|teilen Sie mir dies bitte mit].",
        "[Bitte überweisen Sie das Wohngeld auf mein Konto bei der {bank}, IBAN {iban}.|Das "
        "Wohngeld bitte ich auf mein Konto bei der {bank} (IBAN {iban}) zu überweisen.]",
        "Ich [bin|bin tagsüber] unter {phone} [erreichbar|gut erreichbar] [, falls Sie "
        "Rückfragen haben|].",
        "[Zu meinem Haushalt gehört|In der Wohnung lebt] auch mein Sohn, der [eine Ausbildung "
        "macht|zur Schule geht] [und kein eigenes Einkommen hat|].",
        "[Vermögen|Nennenswertes Vermögen] [besitze ich nicht|ist nicht vorhanden]; [ich habe "
        "lediglich|es gibt nur] ein [Sparbuch|Girokonto] mit [geringem|kleinem] Guthaben.",
    )
    iban = _iban(rng)
    if persons == 1:
        optional = tuple(t for t in optional if "mein Sohn" not in t)
    paragraphs.extend(
        _some(
            rng,
            optional,
            1,
            2,
            bank=_say(rng, rng.choice(_BANKS), town=me.town),
            iban=_grouped(iban),
            phone=me.phone or _phone(rng, True),
        )
    )
    enclosures = (
        "Antragsformular",
        "Mietbescheinigung",
        "Mietvertrag",
        "Lohnabrechnungen der letzten drei Monate",
        "Rentenbescheid",
        "Kontoauszüge",
        "Kopie des Personalausweises",
        "Meldebescheinigung",
    )
    return subject, list(paragraphs), list(enclosures)


def _antrag_bau(
    rng: random.Random, ctx: _Ctx, me: _Party
) -> tuple[list[str], list[_Item], list[str]]:
    project, short = rng.choice(_PROJECTS)
    parcel = f"{rng.randint(1, 900)}/{rng.randint(1, 30)}"
    flur = f"Gemarkung {rng.choice(_GEMARKUNGEN)}, Flur {rng.randint(1, 40)}, Flurstück {parcel}"
    subject = [
        _one(
            rng,
            (
                f"Bauantrag: {short}",
                f"Antrag auf Baugenehmigung – {short}",
                "Bauantrag",
                f"Antrag auf Erteilung einer Baugenehmigung für {project}",
            ),
        ),
        f"Grundstück {_street(rng)}, {flur}" if rng.random() < 0.5 else flur,
    ]
    architect = _person(rng)
    paragraphs: list[_Item] = [
        _one(
            rng,
            (
                "hiermit [beantrage ich|beantragen wir] die Baugenehmigung für {p} auf dem "
                "[oben genannten|o. g.] Grundstück.",
                "[anbei|in der Anlage] [übersende ich|reichen wir] [den Bauantrag|die "
                "Bauvorlagen] für {p} [ein|zur Prüfung ein].",
                "[wir planen|ich plane] {p} und [bitte|bitten] um [Erteilung der "
                "Baugenehmigung|Genehmigung des beigefügten Bauantrags].",
            ),
            p=project,
        ),
        _one(
            rng,
            (
                "Die Bauvorlagen [wurden|hat] [von|] {a} [erstellt|gefertigt], {t} [ist als "
                "Entwurfsverfasser{n} bevollmächtigt|steht für Rückfragen zur Verfügung].",
                "[Entwurfsverfasser{n} ist|Die Planung liegt bei] {a}, "
                "[Architekturbüro|Ingenieurbüro] in {town}.",
            ),
            a=f"{'Architektin' if architect.female else 'Architekt'} {architect.name}",
            t="sie" if architect.female else "er",
            n="in" if architect.female else "",
            town=rng.choice(_TOWNS)[1],
        ),
        _one(
            rng,
            (
                "Das Vorhaben [liegt im Geltungsbereich des Bebauungsplans|befindet sich im "
                'Bereich des Bebauungsplans] "{bp}" [und hält dessen Festsetzungen ein|].',
                "Für das Grundstück [gibt es keinen Bebauungsplan|besteht kein "
                "Bebauungsplan]; [das Vorhaben fügt sich nach|wir gehen davon aus, dass es "
                "sich nach] § 34 BauGB in die [Umgebung|Eigenart der näheren Umgebung] "
                "ein[fügt|].",
                "Die [Grundflächenzahl|GRZ] von {grz} wird [eingehalten|nicht überschritten], "
                "die Abstandsflächen [liegen vollständig auf dem eigenen Grundstück|sind "
                "eingehalten].",
            ),
            bp=rng.choice(
                (
                    "Am Sonnenhang",
                    "Gewerbegebiet Nord",
                    "Ortsmitte II",
                    "In den Gärten",
                    "Mühlwiese",
                )
            ),
            grz=rng.choice(("0,3", "0,35", "0,4")),
        ),
    ]
    optional = (
        "Für die Überschreitung der Baugrenze um [etwa|rund|] {m} m [beantrage ich|beantragen "
        "wir] [zugleich|] eine Befreiung nach § 31 Abs. 2 BauGB.",
        "[Mit den Bauarbeiten möchten wir im {mon} beginnen|Der Baubeginn ist möglichst "
        "bald nach Erteilung der Genehmigung geplant].",
        "[Die Zustimmung der angrenzenden Eigentümer liegt bei|Die Unterschriften der "
        "benachbarten Eigentümer liegen dem Antrag bei].",
        "Die Entwässerung erfolgt [über den vorhandenen Anschluss an den öffentlichen "
        "Kanal|in die bestehende Grundstücksentwässerung].",
        "[Bitte teilen Sie uns mit|Ich bitte um Nachricht], [falls Unterlagen fehlen|ob die "
        "Unterlagen vollständig sind].",
    )
    paragraphs.extend(
        _some(
            rng,
            optional,
            1,
            2,
            m=rng.choice(("0,5", "1,2", "1,5", "2")),
            mon=_MONTHS[(ctx.date.month + 2) % 12],
        )
    )
    if ctx.extent > 1:
        paragraphs.append(_Heading("Baubeschreibung"))
        paragraphs.extend(
            _some(
                rng,
                (
                    "Gründung: [Streifenfundamente|Bodenplatte] aus Stahlbeton [nach "
                    "Statik|gemäß Standsicherheitsnachweis], [frostfrei "
                    "gegründet|Gründungstiefe 80 cm].",
                    "Außenwände: [Kalksandstein|Porenbeton|Ziegel] {w} cm mit "
                    "[Wärmedämmverbundsystem|Vormauerschale], Innenwände "
                    "[Trockenbau|Mauerwerk].",
                    "Dach: [Satteldach|Pultdach|Walmdach] mit {deg} Grad Neigung, Eindeckung "
                    "mit [Betondachsteinen|Tonziegeln|Trapezblech] in [Anthrazit|Rot|Grau].",
                    "Heizung: [Luft-Wasser-Wärmepumpe|Anschluss an die vorhandene "
                    "Gasheizung|Pelletheizung] mit [Fußbodenheizung|Heizkörpern].",
                    "Stellplätze: [zwei|drei] Stellplätze auf dem Grundstück, davon "
                    "[einer|zwei] in der Garage.",
                    "Außenanlagen: [Pflasterflächen|Rasengittersteine] für die Zufahrt, "
                    "Versickerung des Niederschlagswassers über eine Mulde.",
                    "Brandschutz: Gebäudeklasse [1|2], [Abstände zur Grundstücksgrenze über "
                    "2,50 m|Gebäudeabschlusswand zur Nachbargrenze].",
                    "Energie: Nachweis nach Gebäudeenergiegesetz liegt bei, "
                    "[Photovoltaikanlage|Solarthermie] auf dem Dach [vorgesehen|geplant].",
                ),
                5,
                8,
                w=rng.choice((17.5, 24, 30, 36.5)),
                deg=rng.choice((15, 22, 30, 38, 45)),
            )
        )
    enclosures = (
        "Lageplan",
        "Bauzeichnungen",
        "Baubeschreibung",
        "Standsicherheitsnachweis",
        "Entwässerungsplan",
        "Berechnung der Wohnfläche",
        "Auszug aus der Flurkarte",
        "Nachweis nach Gebäudeenergiegesetz",
    )
    return subject, paragraphs, list(enclosures)


def _antrag_eltern(
    rng: random.Random, ctx: _Ctx, me: _Party
) -> tuple[list[str], list[_Item], list[str]]:
    child = _person(rng)
    born = ctx.date - dt.timedelta(days=rng.randint(14, 80))
    acc = "unsere Tochter" if child.female else "unseren Sohn"
    subject = [
        _one(
            rng,
            (
                "Antrag auf Elterngeld",
                "Antrag auf Basiselterngeld und ElterngeldPlus",
                f"Elterngeld für {acc} {child.first}",
                "Antrag auf Elterngeld nach dem BEEG",
            ),
        ),
    ]
    months = rng.choice(
        (
            "für den 1. bis 12. Lebensmonat",
            "für die ersten 14 Lebensmonate",
            "für den 1. bis 10. Lebensmonat als Basiselterngeld und anschließend vier Monate "
            "ElterngeldPlus",
            "für 24 Monate ElterngeldPlus",
        )
    )
    paragraphs: list[_Item] = [
        _one(
            rng,
            (
                "am {born} ist {nom} {child} geboren. [Hiermit beantrage ich|Ich beantrage "
                "hiermit] Elterngeld {months}.",
                "[hiermit beantrage ich|ich möchte hiermit] Elterngeld für {acc} {child}, "
                "geboren am {born}[, beantragen|]. [Ich beantrage|Beantragt wird] Elterngeld "
                "{months}.",
                "nach der Geburt {gen} {child} am {born} [stelle ich|reiche ich] "
                "[hiermit|anbei] den Antrag auf Elterngeld [ein|]. Gewünscht ist Elterngeld "
                "{months}.",
            ),
            born=_de(born),
            child=child.name if rng.random() < 0.3 else child.first,
            months=months,
            nom=("unsere Tochter" if child.female else "unser Sohn"),
            acc=("unsere Tochter" if child.female else "unseren Sohn"),
            gen=("unserer Tochter" if child.female else "unseres Sohnes"),
        ),
        _one(
            rng,
            (
                "Vor der Geburt war ich bei {firm} [in Vollzeit|in Teilzeit mit 30 "
                "Stunden] beschäftigt. [Die Gehaltsnachweise der letzten zwölf Monate liegen "
                "bei.|]",
                "Ich [arbeite|bin tätig] als {job} bei {firm} und [befinde mich|bin] "
                "[seit dem {start}|ab dem {start}] in Elternzeit.",
                "[Ich bin selbstständig tätig|Ich arbeite freiberuflich]; [den "
                "Einkommensteuerbescheid|die Gewinnermittlung] für das Jahr {py} [reiche ich "
                "nach|füge ich bei].",
            ),
            firm=rng.choice(
                (
                    "der Müller Logistik GmbH",
                    "der Kreissparkasse",
                    "den Stadtwerken",
                    "dem Autohaus Weber",
                    "dem Klinikum",
                    "der Bäckerei Becker",
                )
            ),
            job=rng.choice(
                ("Pflegefachkraft", "Industriekauffrau", "Erzieherin", "Lehrerin")
                if me.signer.female
                else ("Pflegefachkraft", "Elektroniker", "Lehrer", "Bürokaufmann")
            ),
            start=_de(born),
            py=ctx.year - 1,
        ),
        _one(
            rng,
            (
                "[Mein Partner|Meine Partnerin|Mein Mann|Meine Frau] [wird|möchte] [die "
                "Partnermonate|den 13. und 14. Lebensmonat] [übernehmen|in Anspruch nehmen] "
                "und stellt dafür einen [eigenen|gesonderten] Antrag.",
                "Ich bin [alleinerziehend|allein sorgeberechtigt] und beantrage "
                "[daher|deshalb] auch die [beiden|] Partnermonate.",
                "[Während der Mutterschutzfrist|Bis zum {mu}] erhalte ich Mutterschaftsgeld "
                "der [AOK|Techniker Krankenkasse|Barmer|IKK], [die Bescheinigung liegt "
                "bei|eine Bescheinigung füge ich bei].",
            ),
            mu=_de(born + dt.timedelta(days=56)),
        ),
    ]
    iban = _iban(rng)
    paragraphs.extend(
        _some(
            rng,
            (
                "Bitte überweisen Sie das Elterngeld auf [mein|unser] Konto [bei der "
                "{bank}|]: IBAN {iban}.",
                "[Für Rückfragen|Bei Fragen] [bin ich|erreichen Sie mich] unter {phone} "
                "[erreichbar|].",
                "[Die Geburtsbescheinigung für Elterngeld|Die Geburtsurkunde] [ist "
                "beigefügt|füge ich bei], [weitere Unterlagen reiche ich gerne nach|fehlende "
                "Nachweise reiche ich nach].",
            ),
            1,
            3,
            bank=_say(rng, rng.choice(_BANKS), town=me.town),
            iban=_grouped(iban),
            phone=me.phone or _phone(rng, True),
        )
    )
    enclosures = (
        "Geburtsbescheinigung für Elterngeld",
        "Einkommensnachweise der letzten zwölf Monate",
        "Bescheinigung über Mutterschaftsgeld",
        "Bescheinigung des Arbeitgebers über den Zuschuss",
        "Kopie des Personalausweises",
        "Erklärung zum Einkommen",
    )
    return subject, paragraphs, list(enclosures)


def _antrag_park(
    rng: random.Random, ctx: _Ctx, me: _Party
) -> tuple[list[str], list[_Item], list[str]]:
    district = rng.choice(("LIN", "EIB", "HWD", "SON", "TBR", "FAL", "NAS"))
    letters = "".join(rng.choice("ABCDEFGHKLMNPRSTUVWXZ") for _ in range(rng.randint(1, 2)))
    plate = f"{district}-{letters} {rng.randint(1, 9999)}"
    resident = rng.random() < 0.55
    if resident:
        zone = rng.choice(("A", "B", "C", "Altstadt", "Nord", "3"))
        subject = [
            _one(
                rng,
                (
                    "Antrag auf einen Bewohnerparkausweis",
                    f"Bewohnerparkausweis für die Zone {zone}",
                    "Antrag auf Ausstellung eines Bewohnerparkausweises",
                    "Verlängerung meines Bewohnerparkausweises",
                ),
            )
        ]
        core = [
            _one(
                rng,
                (
                    "hiermit beantrage ich einen Bewohnerparkausweis für die "
                    "[Bewohnerparkzone|Zone] {zone} für mein Fahrzeug mit dem Kennzeichen "
                    "{plate}.",
                    "ich wohne seit dem {since} in der {street} und [möchte|bitte darum,] "
                    "einen Bewohnerparkausweis für [mein Auto|meinen Pkw] ({plate}) "
                    "[beantragen|zu erhalten].",
                    "[mein Bewohnerparkausweis|der Parkausweis für meinen Pkw {plate}] läuft "
                    "am {end} ab. Ich bitte um [Verlängerung|Ausstellung eines neuen "
                    "Ausweises] für die Zone {zone}.",
                ),
                zone=zone,
                plate=plate,
                since=_de(ctx.date - dt.timedelta(days=rng.randint(60, 4000))),
                street=me.street,
                end=_de(ctx.date + dt.timedelta(days=rng.randint(5, 30))),
            ),
            _one(
                rng,
                (
                    "Das Fahrzeug ist auf [mich|meinen Namen] zugelassen, [eine Kopie des "
                    "Fahrzeugscheins|die Zulassungsbescheinigung Teil I] [liegt bei|habe ich "
                    "beigefügt].",
                    "[Ich bin mit Hauptwohnsitz|Ich bin mit erstem Wohnsitz] in der {street} "
                    "gemeldet; [einen privaten Stellplatz habe ich nicht|über eine Garage "
                    "verfüge ich nicht].",
                    "[Es handelt sich um einen Dienstwagen|Der Wagen ist ein Firmenfahrzeug], "
                    "den ich [auch privat nutzen darf|dauerhaft nutze]; [die Bescheinigung "
                    "des Arbeitgebers liegt bei|eine Nutzungsbestätigung füge ich bei].",
                ),
                street=me.street,
            ),
        ]
    else:
        gdb = rng.choice((50, 70, 80, 90, 100))
        subject = [
            _one(
                rng,
                (
                    "Antrag auf Parkausweis für Schwerbehinderte",
                    "Antrag auf Parkerleichterung für schwerbehinderte Menschen",
                    "Antrag auf einen blauen Parkausweis (EU-Parkausweis)",
                    "Parkausweis für Menschen mit Behinderung",
                ),
            )
        ]
        core = [
            _one(
                rng,
                (
                    "[hiermit beantrage ich|ich beantrage] [einen Parkausweis für "
                    "Schwerbehinderte|die Ausstellung eines "
                    "EU-Parkausweises|Parkerleichterungen nach § 46 StVO].",
                    "für [meine Mutter|meinen Vater], {who}, [beantrage ich einen "
                    "Parkausweis für schwerbehinderte Menschen|möchte ich eine "
                    "Parkerleichterung beantragen].",
                ),
                who=_person(rng).name,
            ),
            _one(
                rng,
                (
                    "Im Schwerbehindertenausweis [ist ein Grad der Behinderung von {gdb}|sind "
                    "ein GdB von {gdb}] und das Merkzeichen {mk} eingetragen.",
                    "Das [Amt für soziale Angelegenheiten|Versorgungsamt] hat [einen GdB von "
                    "{gdb}|einen Grad der Behinderung von {gdb}] [und das Merkzeichen {mk}|] "
                    "festgestellt.",
                ),
                gdb=gdb,
                mk=rng.choice(("aG", "aG", "Bl", "G")),
            ),
            _one(
                rng,
                (
                    "Ohne Parkerleichterung [ist es kaum möglich|kann ich kaum], [Arzttermine "
                    "wahrzunehmen|zum Einkaufen zu fahren|den Alltag zu bewältigen].",
                    "[Das Fahrzeug hat das Kennzeichen|Genutzt wird der Pkw mit dem "
                    "Kennzeichen] {plate}.",
                ),
                plate=plate,
            ),
        ]
    extra = (
        "[Die Gebühr|Die Verwaltungsgebühr] [überweise ich nach Erhalt des Bescheides|zahle "
        "ich gerne bei Abholung].",
        "[Bitte senden Sie mir den Ausweis zu|Den Ausweis würde ich gerne persönlich "
        "abholen], [falls möglich|wenn das möglich ist|].",
        "[Für Rückfragen|Bei Fragen] [erreichen Sie mich unter|bin ich unter] {phone} "
        "[erreichbar|].",
    )
    paragraphs: list[_Item] = [*core, *_some(rng, extra, 1, 2, phone=me.phone or _phone(rng, True))]
    enclosures = (
        "Kopie des Fahrzeugscheins",
        "Meldebescheinigung",
        "Kopie des Schwerbehindertenausweises",
        "Passbild",
        "Kopie des Personalausweises",
        "Bestätigung des Arbeitgebers",
    )
    return subject, paragraphs, list(enclosures)


def _antrag_other(
    rng: random.Random, ctx: _Ctx, me: _Party
) -> tuple[list[str], list[_Item], list[str]]:
    kind = rng.choice(("hund", "fisch", "halteverbot", "jagd"))
    paragraphs: list[_Item]
    if kind == "hund":
        dog = rng.choice(("Bello", "Luna", "Balu", "Emma", "Rocky", "Maja", "Charly", "Nala"))
        breed = rng.choice(
            (
                "Labrador-Retriever",
                "Mischling",
                "Dackel",
                "Border Collie",
                "Golden Retriever",
                "Jack Russell Terrier",
            )
        )
        subject = [
            _one(
                rng,
                (
                    "Anmeldung eines Hundes zur Hundesteuer",
                    "Hundesteuer – Anmeldung",
                    "Anmeldung Hundesteuer für {d}",
                ),
                d=dog,
            )
        ]
        paragraphs = [
            _one(
                rng,
                (
                    "hiermit melde ich [meinen Hund|unseren Hund|den Hund] {d} zur Hundesteuer an.",
                    "[seit dem {s}|ab dem {s}] [halte ich|lebt bei uns] einen Hund. [Ich "
                    "bitte um Anmeldung zur Hundesteuer|Hiermit melde ich ihn zur Hundesteuer "
                    "an].",
                ),
                d=dog,
                s=_de(ctx.date - dt.timedelta(days=rng.randint(3, 25))),
            ),
            _one(
                rng,
                (
                    "Es handelt sich um einen {b}, geboren im {m}, Chipnummer {chip}.",
                    "Rasse: {b}; [Wurfdatum|geboren]: {m}; Transpondernummer {chip}.",
                    "{d} ist ein {b} [und stammt aus dem Tierheim|vom Züchter|aus privater "
                    "Abgabe]; die Chipnummer lautet {chip}.",
                ),
                b=breed,
                d=dog,
                m=f"{_MONTHS[rng.randint(0, 11)]} {ctx.year - rng.randint(0, 6)}",
                chip=f"276{rng.randint(10**11, 10**12 - 1)}",
            ),
            _one(
                rng,
                (
                    "[Eine Hundehaftpflichtversicherung besteht bei der|Der Hund ist "
                    "haftpflichtversichert bei der] {v}.",
                    "[Ich bitte um Zusendung der Steuermarke|Bitte senden Sie mir die "
                    "Hundesteuermarke zu] [und um einen Bescheid|].",
                ),
                v=rng.choice(("Rheinland Versicherung", "HUK-Coburg", "Allianz", "Provinzial")),
            ),
        ]
        enclosures = ["Nachweis der Hundehaftpflichtversicherung", "Kopie des Heimtierausweises"]
    elif kind == "fisch":
        subject = [
            _one(
                rng,
                (
                    "Antrag auf Erteilung eines Fischereischeins",
                    "Fischereischein – Antrag",
                    "Antrag auf Verlängerung meines Fischereischeins",
                ),
            )
        ]
        paragraphs = [
            _one(
                rng,
                (
                    "hiermit beantrage ich [die Erteilung|die Ausstellung] eines "
                    "Fischereischeins [auf Lebenszeit|für fünf Jahre|].",
                    "ich möchte [meinen Fischereischein verlängern lassen|einen "
                    "Fischereischein beantragen], [der bisherige ist am {e} abgelaufen|da ich "
                    "künftig angeln möchte].",
                ),
                e=_de(ctx.date - dt.timedelta(days=rng.randint(5, 300))),
            ),
            _one(
                rng,
                (
                    "Die Fischerprüfung habe ich am {d} [in {t}|beim Landesfischereiverband] "
                    "[bestanden|abgelegt].",
                    "[Das Prüfungszeugnis|Den Nachweis über die bestandene Fischerprüfung] "
                    "[füge ich in Kopie bei|lege ich bei].",
                ),
                d=_de(ctx.date - dt.timedelta(days=rng.randint(20, 2000))),
                t=rng.choice(_TOWNS)[1],
            ),
            _one(
                rng,
                (
                    "Ein [aktuelles|biometrisches] Passbild [liegt bei|ist beigefügt]. Die "
                    "Gebühr [überweise ich nach Erhalt des Bescheides|zahle ich bei Abholung].",
                    "Bitte [teilen Sie mir mit|informieren Sie mich], [wann ich den Schein "
                    "abholen kann|welche Gebühren anfallen].",
                ),
            ),
        ]
        enclosures = ["Prüfungszeugnis Fischerprüfung", "Passbild", "Kopie des Personalausweises"]
    elif kind == "halteverbot":
        move = _workday(ctx.date + dt.timedelta(days=rng.randint(14, 40)))
        subject = [
            _one(
                rng,
                (
                    "Antrag auf Einrichtung einer Halteverbotszone für einen Umzug",
                    "Sondernutzung: Halteverbot für Umzug am {d}",
                    "Antrag auf verkehrsrechtliche Anordnung (Umzug)",
                ),
                d=_de(move),
            )
        ]
        paragraphs = [
            _one(
                rng,
                (
                    "am {d} [ziehe ich|ziehen wir] [um|in die {s}]. [Hiermit beantrage "
                    "ich|Ich beantrage] [ein vorübergehendes Halteverbot|eine "
                    "Halteverbotszone] vor dem Haus {s}.",
                    "für [meinen|unseren] Umzug am {d} [benötige ich|benötigen wir] [vor dem "
                    "Haus|vor dem Gebäude] {s} eine [Halteverbotszone|Fläche] von [etwa|rund] "
                    "{m} Metern [für den Umzugswagen|].",
                ),
                d=_de(move),
                s=_street(rng),
                m=rng.choice((10, 12, 15, 20)),
            ),
            _one(
                rng,
                (
                    "Das Halteverbot wird [von {a} Uhr bis {b} Uhr|ganztägig] "
                    "[benötigt|gebraucht]. [Die Schilder stellt die Umzugsfirma auf|Die "
                    "Beschilderung übernimmt ein Verleih].",
                    "[Der Umzugswagen|Der Lkw] ist [7,5 t|3,5 t] schwer; [der Gehweg bleibt "
                    "frei|Fußgänger werden nicht behindert].",
                ),
                a=rng.choice((6, 7, 8)),
                b=rng.choice((16, 18, 20)),
            ),
        ]
        enclosures = ["Lageskizze"]
    else:
        subject = [
            _one(
                rng,
                (
                    "Verlängerung des Jagdscheins",
                    "Antrag auf Verlängerung meines Jahresjagdscheins",
                    "Jagdschein – Verlängerungsantrag",
                ),
            )
        ]
        paragraphs = [
            _one(
                rng,
                (
                    "[hiermit beantrage ich|ich beantrage hiermit] die Verlängerung meines "
                    "Jagdscheins Nr. {n} [für ein weiteres Jagdjahr|für drei Jagdjahre].",
                    "mein Jagdschein [Nr. {n}|] läuft zum 31. März ab. Ich bitte um "
                    "Verlängerung [für {y} Jagdjahre|um {y} Jahre].",
                ),
                n=f"{rng.randint(1, 999)}/{ctx.year - rng.randint(3, 20)}",
                y=rng.choice(("ein", "drei")),
            ),
            _one(
                rng,
                (
                    "Den Nachweis der Jagdhaftpflichtversicherung [füge ich bei|lege ich bei].",
                    "[Meine Jagdhaftpflichtversicherung|Die Versicherungsbestätigung] [ist "
                    "beigefügt|liegt bei]; der Versicherungsschutz [besteht bis|gilt bis] {d}.",
                ),
                d=_de(ctx.date + dt.timedelta(days=400)),
            ),
        ]
        enclosures = ["Versicherungsbestätigung", "Jagdschein im Original"]
    paragraphs.append(
        _one(
            rng,
            (
                "[Für Rückfragen|Bei Fragen] [stehe ich gerne zur Verfügung|bin ich unter {p} "
                "erreichbar].",
                "Vielen Dank für [die Bearbeitung|Ihre Mühe].",
                "[Ich bedanke mich|Herzlichen Dank] im Voraus [für Ihre Unterstützung|].",
            ),
            p=me.phone or _phone(rng, True),
        )
    )
    return subject, paragraphs, enclosures


_ANTRAG_PARTS: dict[
    str, Callable[[random.Random, _Ctx, _Party], tuple[list[str], list[_Item], list[str]]]
] = {
    "Wohngeld": _antrag_wohngeld,
    "Baugenehmigung": _antrag_bau,
    "Elterngeld": _antrag_eltern,
    "Parkausweis": _antrag_park,
    "sonstiges": _antrag_other,
}
_ANTRAG_OFFICE = {
    "Wohngeld": ("50", "WG"),
    "Baugenehmigung": ("63", "BG"),
    "Elterngeld": ("51", "EG"),
    "Parkausweis": ("36", "PA"),
    "sonstiges": ("32", "OA"),
}


def _citizen_letter(
    rng: random.Random,
    ctx: _Ctx,
    doc_type: str,
    me: _Party,
    department: str | None,
    subject: list[str],
    body: list[_Item],
) -> _Letter:
    recipient = _recipient(rng, department)
    salutation = _salutation(rng, recipient)
    return _Letter(
        doc_type=doc_type,
        sender=me,
        recipient=recipient,
        date=ctx.date,
        date_line=_date_line(rng, me.town, ctx.date, official=False),
        refs=[],
        subject=subject,
        body=body,
        salutation=salutation,
        closing=_closing(rng, me, formal=rng.random() < 0.5),
        return_line=_return_line(rng, me) if rng.random() < 0.4 else None,
        cont_header=rng.choice((None, None, f"{me.name} – Schreiben vom {_de(ctx.date)}")),
    )


def _antrag(rng: random.Random, ctx: _Ctx) -> _Letter:
    # Draw even when the caller chose, so the rest of the letter does not depend on it.
    topic = _unsplit_choice(rng, ANTRAG_SUBJECTS)
    topic = ctx.topic or topic
    me = _citizen(rng)
    subject, body, pool = _ANTRAG_PARTS[topic](rng, ctx, me)
    letter = _citizen_letter(
        rng, ctx, "antrag", me, topic if topic in _DEPARTMENTS else "allgemein", subject, body
    )
    letter.topic = topic
    letter.enclosures = _enclosures(rng, pool, 1, 4) if rng.random() < 0.8 else []
    if rng.random() < 0.3:
        office, code = _ANTRAG_OFFICE[topic]
        letter.aktenzeichen = _aktenzeichen(rng, office, code, ctx.year)
        letter.refs = [f"{_az_label(rng)} {letter.aktenzeichen}"]
    ibans = [
        m.group(0).replace(" ", "")
        for item in body
        if isinstance(item, str)
        for m in re.finditer(r"DE\d\d( \d{4}){4} \d\d", item)
    ]
    letter.iban = ibans[0] if ibans else None
    return letter


# --------------------------------------------------------------------------------------------
# Objections, complaints and job applications


@dataclass(frozen=True)
class _Bescheid:
    name: str  # accusative, as in "gegen den ..."
    office: str
    code: str
    department: str
    grounds: tuple[str, ...]


_BESCHEIDE = (
    _Bescheid(
        "Wohngeldbescheid",
        "50",
        "WG",
        "Wohngeld",
        (
            "Bei der Berechnung wurde [mein Einkommen zu hoch angesetzt|das Einkommen meiner "
            "Tochter berücksichtigt, obwohl sie ausgezogen ist|die Werbungskosten nicht "
            "abgezogen].",
            "Die [Heizkostenkomponente|Entlastungskomponente] wurde [nicht "
            "berücksichtigt|falsch berechnet].",
            "[Sie haben|Der Bescheid hat] die Miete [nur teilweise|nicht in voller Höhe] "
            "angerechnet, obwohl [die Mietbescheinigung|der Mietvertrag] eine Kaltmiete von "
            "{eur} ausweist.",
            "Der Bewilligungszeitraum [beginnt zu spät|wurde zu kurz bemessen]; mein Antrag "
            "ist bereits am {ad} bei Ihnen eingegangen.",
        ),
    ),
    _Bescheid(
        "Gebührenbescheid über die Abfallgebühren",
        "70",
        "AG",
        "recht",
        (
            "[Für mein Grundstück|Für das Grundstück {street}] wurde [eine "
            "240-Liter-Tonne|eine zweite Restmülltonne] berechnet, [die wir nie erhalten "
            "haben|obwohl wir nur eine 120-Liter-Tonne nutzen].",
            "Die Zahl der [Personen|Bewohner] im Haushalt ist [falsch|unzutreffend]: [Seit "
            "dem {ad} leben hier nur noch zwei Personen|Unser Sohn ist im vergangenen Jahr "
            "ausgezogen].",
            "Die Biotonne wurde [bereits zum {ad} abgemeldet|nie bestellt], "
            "[trotzdem|dennoch] wird sie [weiter|erneut] berechnet.",
        ),
    ),
    _Bescheid(
        "Elterngeldbescheid",
        "51",
        "EG",
        "Elterngeld",
        (
            "[Das Elterngeld wurde zu niedrig festgesetzt|Die Höhe des Elterngeldes ist nicht "
            "korrekt], da [das Weihnachtsgeld|meine Provisionen|die Zuschläge für "
            "Nachtarbeit] [nicht berücksichtigt|außer Acht gelassen] wurden.",
            "Die Monate [des Mutterschutzes|meiner Erkrankung in der Schwangerschaft] [hätten "
            "bei der Bemessung ausgeklammert werden müssen|sind nach § 2b BEEG nicht zu "
            "berücksichtigen].",
            "[Die Partnermonate wurden|Der Partnerschaftsbonus wurde] [nicht "
            "bewilligt|abgelehnt], "
            "obwohl [wir beide|mein Partner und ich] die Voraussetzungen "
            "[erfüllen|nachgewiesen haben].",
        ),
    ),
    _Bescheid(
        "Bescheid über die Ablehnung des Bauantrags",
        "63",
        "BG",
        "Baugenehmigung",
        (
            "Das Vorhaben fügt sich [sehr wohl|entgegen Ihrer Auffassung] in die Eigenart der "
            "näheren Umgebung ein; [in der Nachbarschaft|in derselben Straße] stehen "
            "[vergleichbare Gebäude|mehrere Carports dieser Größe].",
            "[Die Überschreitung der Baugrenze|Die Abweichung] ist [geringfügig|minimal] und "
            "[berührt die Grundzüge der Planung nicht|beeinträchtigt keine nachbarlichen "
            "Belange].",
            "Das [gemeindliche Einvernehmen|Einvernehmen der Ortsgemeinde] wurde [zu Unrecht "
            "versagt|ohne nachvollziehbare Begründung verweigert].",
        ),
    ),
    _Bescheid(
        "Kostenbescheid für das Abschleppen des Fahrzeugs",
        "36",
        "VK",
        "recht",
        (
            "Das [Halteverbotsschild|mobile Halteverbot] wurde [erst am Vortag|weniger als 72 "
            "Stunden vorher] aufgestellt, [als mein Auto bereits dort stand|das Fahrzeug "
            "parkte dort schon seit Tagen].",
            "[Mein Fahrzeug|Der Wagen] hat [niemanden behindert|keine Einfahrt blockiert]; "
            "[ein milderes Mittel|ein Anruf unter der gut sichtbaren Telefonnummer] wäre "
            "möglich gewesen.",
            "Die Höhe der [Kosten|Abschleppkosten] von {eur} ist [unverhältnismäßig|nicht "
            "nachvollziehbar].",
        ),
    ),
    _Bescheid(
        "Bescheid über die Festsetzung des Elternbeitrags",
        "51",
        "KB",
        "recht",
        (
            "[Bei der Einkommensberechnung|In der Berechnung] wurde [das Kindergeld als "
            "Einkommen gezählt|das Bruttoeinkommen statt des Nettoeinkommens zugrunde gelegt].",
            "[Unser zweites Kind|Die Geschwisterermäßigung] wurde [nicht "
            "berücksichtigt|vergessen], obwohl beide Kinder die Kita besuchen.",
            "Die Betreuungszeit wurde [mit 45 Stunden|als Ganztagsplatz] angesetzt, "
            "[tatsächlich gebucht sind|wir nutzen aber nur] 35 Stunden.",
        ),
    ),
    _Bescheid(
        "Ablehnungsbescheid zum Antrag auf einen Parkausweis",
        "36",
        "PA",
        "Parkausweis",
        (
            "Ich [erfülle|erfülle sehr wohl] die Voraussetzungen für [den "
            "Bewohnerparkausweis|eine Parkerleichterung], da ich [mit Hauptwohnsitz|seit "
            "Jahren] in der Zone gemeldet bin.",
            "Das Merkzeichen aG ist [mittlerweile|seit dem {ad}] [eingetragen|zuerkannt]; "
            "[den aktuellen Ausweis|eine Kopie] [füge ich bei|lege ich bei].",
            "Das Fahrzeug ist zwar auf [meinen Arbeitgeber|die Firma] zugelassen, wird aber "
            "[ausschließlich|dauerhaft] von mir genutzt.",
        ),
    ),
    _Bescheid(
        "Rückforderungsbescheid über Leistungen nach dem BAföG",
        "40",
        "BAF",
        "recht",
        (
            "[Ich habe|Meine Tochter hat] [alle Einkünfte|das Vermögen] "
            "[vollständig|fristgerecht] angegeben; eine [Überzahlung|Rückforderung] ist "
            "[daher|deshalb] nicht gerechtfertigt.",
            "Das [angerechnete|berücksichtigte] Vermögen war [ein Bausparvertrag der "
            "Großeltern|nicht verwertbar], [auf den ich keinen Zugriff hatte|der bis {ad} "
            "gesperrt war].",
            "[Die Rückforderung|Der Betrag] von {eur} [würde mich in eine existenzielle "
            "Notlage bringen|ist in dieser Höhe nicht nachvollziehbar].",
        ),
    ),
    _Bescheid(
        "Bescheid über die Gebühren der Zulassungsstelle",
        "36",
        "ZL",
        "recht",
        (
            "Die Gebühr [wurde doppelt erhoben|ist bereits bei der Zulassung am {ad} bezahlt "
            "worden].",
            "[Für die Umschreibung|Für die Außerbetriebsetzung] [gilt eine geringere "
            "Gebühr|wurde die falsche Gebührenziffer angewendet].",
        ),
    ),
    _Bescheid(
        "Bescheid über den Eigenanteil an den Kosten der Schülerbeförderung",
        "40",
        "SB",
        "recht",
        (
            "Der Schulweg [meines Sohnes|meiner Tochter] ist [länger als vier "
            "Kilometer|besonders gefährlich], [ein Eigenanteil ist daher nicht zu zahlen|die "
            "Beförderung ist daher kostenfrei].",
            "Wir beziehen [Leistungen nach dem SGB II|Wohngeld|Kinderzuschlag]; [nach der "
            "Satzung|nach Ihrer Satzung] entfällt der Eigenanteil [in diesem Fall|dann].",
        ),
    ),
)
_LAWYERS = (
    "Rechtsanwälte {last} & {last2}",
    "Kanzlei {last}",
    "Rechtsanwaltskanzlei {last} Partnerschaft mbB",
    "{last} Rechtsanwälte",
    "Anwaltsbüro {last} & Kollegen",
)


def _widerspruch(rng: random.Random, ctx: _Ctx) -> _Letter:
    kind = rng.choice(_BESCHEIDE)
    issued = ctx.date - dt.timedelta(days=rng.randint(4, 28))
    received = min(ctx.date, issued + dt.timedelta(days=rng.randint(2, 4)))
    az = _aktenzeichen(rng, kind.office, kind.code, issued.year)
    client = _citizen(rng)
    lawyer = rng.random() < 0.25
    values: dict[str, object] = {
        "b": _de(issued),
        "az": az,
        "kind": kind.name,
        "r": _de(received),
        "ad": _de(issued - dt.timedelta(days=rng.randint(40, 300))),
        "eur": _eur(rng.randint(90, 1800) * 100),
        "street": client.street,
        "client": client.name,
    }
    az_text = f"{rng.choice(('Az.', 'Az.:', 'Aktenzeichen', 'Aktenzeichen:'))} {az}"
    subject = [
        _one(
            rng,
            (
                "Widerspruch gegen den Bescheid vom {b}",
                "Widerspruch gegen Ihren {kind} vom {b}",
                "Ihr Bescheid vom {b} – Widerspruch",
                "Widerspruch",
            ),
            **values,
        ),
    ]
    refs: list[str] = []
    where = rng.random()
    if where < 0.45:
        subject.append(az_text)
    elif where < 0.8:
        refs.append(f"{rng.choice(('Ihr Zeichen:', 'Ihr Aktenzeichen:', 'Az.:'))} {az}")
    else:
        subject[0] = f"{subject[0]}, {az_text}"
    if lawyer:
        values["mand"] = (
            f"{'unserer Mandantin' if client.signer.female else 'unseres Mandanten'} {client.name}"
        )
        opening = _one(
            rng,
            (
                "[wir zeigen an|hiermit zeigen wir an], dass wir {mand}, {street}, {town}, "
                "[anwaltlich vertreten|vertreten]. [Eine Vollmacht liegt bei|Die Vollmacht "
                "fügen wir bei]. "
                "Namens und in Vollmacht {mand2} legen wir gegen den {kind} vom {b} [, Az. "
                "{az},|] Widerspruch ein.",
                "in der [Angelegenheit|Sache] {mand} [legen wir|erheben wir] [hiermit|namens "
                "unserer Partei] gegen den {kind} vom {b} Widerspruch [ein|]. "
                "[Ordnungsgemäße Bevollmächtigung wird anwaltlich versichert|Eine auf uns "
                "lautende Vollmacht ist beigefügt].",
            ),
            mand2="unserer Mandantin" if client.signer.female else "unseres Mandanten",
            town=client.town,
            **values,
        )
    else:
        opening = _one(
            rng,
            (
                "hiermit lege ich gegen den {kind} vom {b}[, Az. {az},|] "
                "[fristgerecht|form- und fristgerecht|] Widerspruch ein.",
                "gegen Ihren Bescheid vom {b}[, zugegangen am {r},|] [erhebe ich hiermit "
                "Widerspruch|lege ich hiermit Widerspruch ein].",
                "mit diesem Schreiben [widerspreche ich dem {kind} vom {b}|lege ich gegen "
                "den {kind} vom {b} Widerspruch ein]. Der Bescheid ist mir am {r} "
                "zugegangen.",
                "[ich bin mit Ihrem Bescheid vom {b} nicht einverstanden|Ihr Bescheid vom "
                "{b} ist aus meiner Sicht fehlerhaft] und lege [dagegen|hiermit] "
                "Widerspruch ein.",
            ),
            **values,
        )
    if lawyer:
        female = client.signer.female
        grounds = _some(
            rng,
            (
                "{m} hat [alle erforderlichen Unterlagen fristgerecht eingereicht|die "
                "Voraussetzungen vollständig nachgewiesen].",
                "Der Bescheid [beruht auf einem unzutreffend ermittelten Sachverhalt|verkennt "
                "die Rechtslage] und verletzt {ma} in {pron} Rechten.",
                "Der Vortrag {mg} [wurde im Verwaltungsverfahren nicht gewürdigt|ist bei der "
                "Entscheidung übergangen worden].",
                "[Eine Anhörung|Die gebotene Anhörung] nach § 28 VwVfG [hat nicht "
                "stattgefunden|ist unterblieben].",
            ),
            2,
            3,
            m="Unsere Mandantin" if female else "Unser Mandant",
            ma="unsere Mandantin" if female else "unseren Mandanten",
            mg="unserer Mandantin" if female else "unseres Mandanten",
            pron="ihren" if female else "seinen",
        )
        intros: tuple[str, ...] = (
            "Zur Begründung führen wir aus:",
            "Der Widerspruch wird wie folgt begründet:",
            "[Zur Begründung|Begründung|Gründe|Im Einzelnen]:",
            "[Den Widerspruch begründen wir|Wir begründen den Widerspruch] [wie folgt|im "
            "Einzelnen wie folgt|folgendermaßen]:",
        )
    else:
        grounds_count = 2 if ctx.extent == 1 else len(kind.grounds)
        grounds = _some(rng, kind.grounds, min(2, len(kind.grounds)), grounds_count, **values)
        intros = (
            "[Zur Begründung|Begründung|Meine Gründe|Im Einzelnen]:",
            "[Ich begründe meinen Widerspruch|Meinen Widerspruch begründe ich] [wie "
            "folgt|folgendermaßen|im Einzelnen so]:",
            "[Der Widerspruch wird|Mein Widerspruch wird|Der Widerspruch ist|Mein "
            "Widerspruch ist] [wie folgt|folgendermaßen|im Einzelnen so|kurz so] begründet:",
            "",
        )
    reason_intro = _one(rng, intros)
    body: list[_Item] = [opening]
    if reason_intro:
        body.append(reason_intro)
    body.append(" ".join(grounds))
    if ctx.extent > 1:
        body.extend(
            _some(
                rng,
                (
                    "[Darüber hinaus|Außerdem] [ist der Bescheid formell rechtswidrig|leidet "
                    "der Bescheid an einem Begründungsmangel]: [Eine Anhörung nach § 28 VwVfG "
                    "hat nicht stattgefunden|Die Begründung lässt nicht erkennen, welche "
                    "Tatsachen zugrunde gelegt wurden].",
                    "Die Behörde hat [ihr Ermessen nicht ausgeübt|das Ermessen fehlerhaft "
                    "ausgeübt]. [Der Bescheid enthält|Es finden sich] keine Ausführungen "
                    "[dazu|zu den maßgeblichen Gesichtspunkten], [warum|weshalb] [von einer "
                    "Härtefallregelung abgesehen wurde|mildere Mittel nicht in Betracht kamen].",
                    "[Zudem|Ferner] wird auf [die Rechtsprechung des "
                    "Bundesverwaltungsgerichts|die einschlägige Rechtsprechung] verwiesen, "
                    "wonach [eine solche Entscheidung|eine Festsetzung in dieser Form] [einer "
                    "nachvollziehbaren Tatsachengrundlage bedarf|nur bei Vorliegen aller "
                    "Voraussetzungen zulässig ist].",
                    "[Die Unterlagen|Alle erforderlichen Nachweise] [lagen der Behörde "
                    "vollständig vor|wurden rechtzeitig eingereicht]; [das Eingangsschreiben "
                    "vom {ad} belegt dies|der Eingangsstempel vom {ad} beweist dies].",
                    "Soweit [weitere Nachweise|ergänzende Unterlagen] für erforderlich "
                    "gehalten werden, wird um einen [konkreten|] Hinweis gebeten, [damit sie "
                    "nachgereicht werden können|welche Unterlagen fehlen].",
                    "Es ist ferner zu berücksichtigen, dass sich [die persönliche "
                    "Situation|die wirtschaftliche Lage] seit [dem Antrag|der Antragstellung] "
                    "[erheblich verschlechtert|grundlegend geändert] hat.",
                ),
                4,
                6,
                **values,
            )
        )
    requests = (
        (
            "[Wir beantragen|Beantragt wird|Namens unserer Mandantschaft beantragen "
            "wir|Unser Antrag lautet], den Bescheid [aufzuheben|vollständig "
            "aufzuheben|insoweit aufzuheben und neu zu entscheiden|ersatzlos aufzuheben].",
            "[Zugleich|Außerdem|Ferner|Darüber hinaus] beantragen wir [Akteneinsicht|Einsicht "
            "in die Verwaltungsakte|Einsicht in die Behördenakte|die Übersendung einer Kopie der "
            "Akte] [gemäß § 29 VwVfG|nach § 29 VwVfG|].",
            "[Eine ausführliche Begründung|Die weitere Begründung] reichen wir [nach "
            "Akteneinsicht|bis zum {ad2}|gesondert] nach.",
            "[Bis zur Entscheidung über den Widerspruch|Bis zu Ihrer Entscheidung|Für die "
            "Dauer des Verfahrens|Bis zum Abschluss des Vorverfahrens] beantragen wir die "
            "Aussetzung der Vollziehung [nach § 80 Abs. 4 VwGO|gemäß § 80 Abs. 4 VwGO|].",
            "[Bitte bestätigen Sie uns|Wir bitten um Bestätigung für|Bestätigen Sie uns "
            "bitte|Wir erbitten eine Bestätigung für] den Eingang [dieses "
            "Widerspruchs|des Schreibens|unseres Widerspruchs|dieses Schriftsatzes] "
            "[schriftlich|kurz|per Fax|].",
        )
        if lawyer
        else (
            "[Ich beantrage|Beantragt wird|Ich bitte darum|Mein Antrag lautet], den Bescheid "
            "[aufzuheben|vollständig aufzuheben|insoweit aufzuheben und neu zu "
            "entscheiden|ersatzlos aufzuheben].",
            "[Zugleich|Außerdem|Ferner|Darüber hinaus] beantrage ich [Akteneinsicht|Einsicht "
            "in die Verwaltungsakte|Einsicht in die Behördenakte|die Übersendung einer Kopie der "
            "Akte] [gemäß § 29 VwVfG|nach § 29 VwVfG|].",
            "[Eine ausführliche Begründung|Die weitere Begründung] reiche ich [nach "
            "Akteneinsicht|bis zum {ad2}|gesondert] nach.",
            "[Bis zur Entscheidung über den Widerspruch|Bis zu Ihrer Entscheidung|Solange "
            "über den Widerspruch nicht entschieden ist|Für die Dauer des Verfahrens] [bitte "
            "ich um Aussetzung der Vollziehung|beantrage ich die Aussetzung der Vollziehung "
            "nach § 80 Abs. 4 VwGO|bitte ich, von der Vollziehung abzusehen|beantrage ich, "
            "die Vollziehung auszusetzen].",
            "[Bitte bestätigen Sie mir|Ich bitte um Bestätigung für|Bestätigen Sie mir "
            "bitte|Ich bitte Sie um eine Bestätigung für] den Eingang [dieses "
            "Widerspruchs|des Schreibens|meines Widerspruchs|dieses Briefes] "
            "[schriftlich|kurz|per Post|].",
        )
    )
    ad2 = _de(ctx.date + dt.timedelta(days=rng.randint(14, 30)))
    body.extend(_some(rng, requests, 1, 3, ad2=ad2))
    if lawyer:
        sender = _org(
            rng,
            _LAWYERS,
            (
                "Rechtsanwalt",
                "Rechtsanwältin",
                "Fachanwalt für Verwaltungsrecht",
                "Fachanwältin für Verwaltungsrecht",
            ),
        )
        sender = dataclasses.replace(
            sender, role=("Rechtsanwältin" if sender.signer.female else "Rechtsanwalt")
        )
        recipient = _recipient(rng, "recht" if rng.random() < 0.5 else kind.department)
        salutation = _salutation(rng, recipient)
        letter = _Letter(
            doc_type="widerspruch",
            sender=sender,
            recipient=recipient,
            date=ctx.date,
            date_line=_date_line(rng, sender.town, ctx.date, official=True),
            refs=[*refs, f"Unser Zeichen: {rng.randint(10, 999)}/{ctx.year % 100:02d}"],
            subject=subject,
            body=body,
            salutation=salutation,
            closing=_closing(rng, sender),
            footer=_org_footer(
                rng, sender, _iban(rng), _bic(rng), _say(rng, rng.choice(_BANKS), town=sender.town)
            )[:2],
            return_line=_return_line(rng, sender),
            enclosures=["Anlage: Vollmacht"] if rng.random() < 0.5 else [],
        )
    else:
        letter = _citizen_letter(
            rng,
            ctx,
            "widerspruch",
            client,
            "recht" if rng.random() < 0.5 else kind.department,
            subject,
            body,
        )
        letter.refs = refs
        letter.enclosures = (
            _enclosures(
                rng, ("Kopie des Bescheides", "Nachweise", "Kontoauszug", "Schriftverkehr"), 1, 2
            )
            if rng.random() < 0.4
            else []
        )
    letter.aktenzeichen = az
    return letter


@dataclass(frozen=True)
class _Topic:
    subjects: tuple[str, ...]
    slots: tuple[tuple[str, ...], ...]  # one template drawn from each slot, in order
    department: str


_COMPLAINTS = (
    _Topic(
        (
            "Beschwerde über die Wartezeiten in der Zulassungsstelle",
            "Wartezeiten Kfz-Zulassung",
            "Beschwerde – Zulassungsstelle {t}",
        ),
        (
            (
                "am {d} [musste ich|habe ich] in der Zulassungsstelle [mehr als drei "
                "Stunden|über zwei Stunden|fast den ganzen Vormittag] warten, [obwohl ich "
                "einen Termin hatte|trotz Online-Termin].",
                "ich möchte mich [über die Zustände|über die Abläufe] in der Zulassungsstelle "
                "[beschweren|beklagen]. [Am {d}|Vergangene Woche] [war ich dort|wollte ich "
                "dort ein Fahrzeug ummelden].",
            ),
            (
                "[Von acht Schaltern|Von den Schaltern] [waren nur zwei|war nur einer] "
                "besetzt, [eine Information über die Wartezeit gab es nicht|niemand erklärte "
                "die Verzögerung].",
                "[Die Terminvergabe online funktioniert nicht|Online-Termine sind auf Wochen "
                "ausgebucht], [telefonisch ist niemand erreichbar|am Telefon läuft nur eine "
                "Ansage].",
            ),
            (
                "Für [Berufstätige|Selbstständige wie mich] ist das [nicht zumutbar|ein "
                "großes Problem]; [ich musste einen Urlaubstag nehmen|mir ist ein halber "
                "Arbeitstag verloren gegangen].",
                "[Ich erwarte|Ich bitte darum], dass [die Abläufe verbessert werden|mehr "
                "Personal eingesetzt wird|die Terminvergabe überarbeitet wird].",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        (
            "Beschwerde über Baustellenlärm",
            "Lärmbelästigung durch die Baustelle an der K {k}",
            "Beschwerde: nächtliche Bauarbeiten",
        ),
        (
            (
                "seit [dem {d}|mehreren Wochen] wird an der [Kreisstraße K {k}|Brücke über "
                "den Mühlbach] [auch nachts|schon ab fünf Uhr morgens|am Wochenende] "
                "gearbeitet.",
                "[ich wende mich an Sie|ich schreibe Ihnen], weil [der Lärm der Baustelle vor "
                "unserem Haus unerträglich geworden ist|die Bauarbeiten vor unserem Haus uns "
                "den Schlaf rauben].",
            ),
            (
                "[Rüttelplatten|Bagger und Lkw] [sind|waren] [bis 23 Uhr|ab 5:30 Uhr] zu "
                "hören; [unsere Kinder|meine Frau und ich] [können nicht schlafen|finden "
                "keine Ruhe].",
                "[Risse in der Hauswand|Erschütterungen im Haus] [sind seit Beginn der "
                "Arbeiten aufgetreten|haben wir fotografiert].",
            ),
            (
                "[Bitte prüfen Sie, ob die Arbeitszeiten genehmigt sind, und sorgen Sie für "
                "Abhilfe|Ich bitte um Prüfung, ob eine Ausnahmegenehmigung vorliegt, und um "
                "Mitteilung des Ergebnisses].",
                "[Ich erwarte|Ich bitte um] eine [schriftliche Stellungnahme|Antwort] bis zum {f}.",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        (
            "Zustand der Kreisstraße K {k}",
            "Schlaglöcher auf der K {k} zwischen {t} und {t2}",
            "Beschwerde über den Straßenzustand",
        ),
        (
            (
                "die Kreisstraße K {k} zwischen {t} und {t2} [ist in einem katastrophalen "
                "Zustand|weist zahlreiche tiefe Schlaglöcher auf].",
                "[als täglicher Pendler|als Anwohner] [nutze ich|befahre ich] die K {k} [seit "
                "Jahren|jeden Tag], [der Zustand wird immer schlechter|die Schäden nehmen zu].",
            ),
            (
                "Am {d} [habe ich mir|hat sich mein Sohn] [einen Reifen|die Felge] [in einem "
                "Schlagloch beschädigt|beschädigt], [die Reparatur kostete|der Schaden "
                "beträgt] {eur}.",
                "[Besonders gefährlich ist|Gefährlich wird es vor allem] [die Kurve hinter "
                "dem Ortsausgang|der Abschnitt am Waldrand], [gerade bei Dunkelheit|bei "
                "Regen].",
            ),
            (
                "[Ich bitte Sie dringend|Bitte veranlassen Sie], [die Straße auszubessern|die "
                "Schäden zu beseitigen] [, bevor ein Unfall passiert|].",
                "[Den Schaden|Die Rechnung der Werkstatt] [mache ich hiermit geltend|füge ich "
                "bei] und bitte um [Erstattung|Regulierung].",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        ("Biotonne nicht geleert", "Beschwerde Müllabfuhr", "Abfuhr am {d} ausgefallen"),
        (
            (
                "[unsere Biotonne|die Restmülltonne] [wurde am {d}|ist nun schon zum dritten "
                "Mal] nicht geleert, [obwohl sie rechtzeitig am Straßenrand stand|obwohl sie "
                "pünktlich bereitstand].",
                "[schon wieder|erneut] [hat die Müllabfuhr|hat das Entsorgungsunternehmen] "
                "[unsere Straße|die {s}] [ausgelassen|nicht angefahren].",
            ),
            (
                "Bei [den sommerlichen Temperaturen|der Wärme] [entstehen Gerüche und "
                "Maden|riecht es unerträglich].",
                "[Die Hotline|Die Abfallberatung] [war nicht erreichbar|hat keinen "
                "Ersatztermin genannt].",
            ),
            (
                "[Ich bitte um|Bitte veranlassen Sie] [eine Nachleerung|eine Sonderabfuhr] "
                "[in dieser Woche|umgehend] [und eine Gutschrift|].",
                "Ich [erwarte|bitte darum], dass [die Gebühren für die ausgefallenen Leerungen "
                "erstattet werden|so etwas nicht wieder vorkommt].",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        (
            "Dienstaufsichtsbeschwerde",
            "Beschwerde über das Verhalten eines Mitarbeiters",
            "Beschwerde über die Behandlung im Bürgerbüro",
        ),
        (
            (
                "am {d} [war ich|hatte ich einen Termin] [im Bürgerbüro|in der "
                "Ausländerbehörde|im Sozialamt] und [wurde dort|fühlte mich] [sehr "
                "unfreundlich behandelt|herablassend behandelt].",
                "hiermit [erhebe ich Dienstaufsichtsbeschwerde|reiche ich "
                "Dienstaufsichtsbeschwerde ein] [gegen einen Mitarbeiter|gegen eine "
                "Mitarbeiterin] [Ihres Hauses|der Abteilung {dep}].",
            ),
            (
                "[Meine Fragen wurden nicht beantwortet|Man hat mir nicht zugehört]; "
                "[stattdessen wurde ich|ich wurde] [vor anderen Besuchern laut "
                "angesprochen|mehrmals unterbrochen].",
                "[Die Sachbearbeiterin|Der Sachbearbeiter] [weigerte sich|lehnte es ab], "
                "[meine Unterlagen anzunehmen|mir den Eingang zu bestätigen].",
            ),
            (
                "Ich [erwarte eine Entschuldigung|bitte um Aufklärung] und [eine "
                "Stellungnahme|eine Antwort] [innerhalb von zwei Wochen|bis zum {f}].",
                "[Ich bitte Sie|Bitte sorgen Sie dafür], dass [Bürger|alle Besucher] "
                "[respektvoll|freundlich] behandelt werden.",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        (
            "Lange Bearbeitungsdauer meines Antrags",
            "Sachstandsanfrage und Beschwerde",
            "Beschwerde über die Bearbeitungszeit",
        ),
        (
            (
                "[meinen Antrag|mein Antrag] vom {a} [ist bis heute nicht beschieden|liegt "
                "seit Monaten unbearbeitet bei Ihnen].",
                "[seit über drei Monaten|seit dem {a}] warte ich auf [eine Entscheidung|einen "
                "Bescheid] über meinen Antrag [auf Wohngeld|auf Elterngeld|auf "
                "Baugenehmigung].",
            ),
            (
                "[Auf meine Nachfragen|Auf zwei E-Mails] [habe ich keine Antwort erhalten|kam "
                "keine Reaktion], [telefonisch|am Telefon] [wurde ich immer wieder "
                "vertröstet|erreiche ich niemanden].",
                "[Ich bin auf die Leistung angewiesen|Ohne Bescheid kann ich nicht planen]; "
                "[die Miete|die laufenden Kosten] [muss ich dennoch zahlen|laufen weiter].",
            ),
            (
                "[Bitte teilen Sie mir mit|Ich bitte um Mitteilung], [bis wann mit einer "
                "Entscheidung zu rechnen ist|wie der Stand der Bearbeitung ist].",
                "[Andernfalls|Sonst] [sehe ich mich gezwungen|werde ich], [Untätigkeitsklage "
                "zu erheben|mich an den Landrat zu wenden].",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        (
            "Schulbus überfüllt",
            "Beschwerde Schülerbeförderung Linie {l}",
            "Schülerverkehr {t} – Beschwerde",
        ),
        (
            (
                "der Schulbus der Linie {l} [ist morgens|ist seit Schuljahresbeginn] [völlig "
                "überfüllt|so voll, dass Kinder stehen bleiben müssen].",
                "[mein Sohn|meine Tochter|unser Kind] [fährt|ist angewiesen auf] [mit der "
                "Linie {l}|den Bus ab {t}] [zur Schule|zur Realschule plus]; [am "
                "{d}|mehrmals] [fuhr der Bus einfach vorbei|kam der Bus nicht].",
            ),
            (
                "[Die Kinder|Viele Schüler] [kommen zu spät zum Unterricht|stehen bei Kälte "
                "an der Haltestelle].",
                "[Es ist gefährlich|Ich halte es für gefährlich], wenn [Grundschüler|kleine "
                "Kinder] [im Gang stehen müssen|sich nicht festhalten können].",
            ),
            (
                "[Ich bitte Sie|Bitte sorgen Sie dafür], [einen Verstärkerbus einzusetzen|die "
                "Kapazität zu erhöhen].",
                "[Ich bitte um Rückmeldung|Teilen Sie mir bitte mit], [welche Maßnahmen Sie "
                "ergreifen|wie es weitergehen soll].",
            ),
        ),
        "beschwerde",
    ),
    _Topic(
        ("Illegale Müllablagerung", "Beschwerde: wilde Müllkippe am {s}", "Müll im Wald bei {t}"),
        (
            (
                "[am Waldweg|am Feldweg] hinter [der {s}|dem Sportplatz] in {t} [werden seit "
                "Wochen|wird immer wieder] [Sperrmüll und Bauschutt|Autoreifen und Säcke] "
                "abgeladen.",
                "ich möchte [Ihnen|Ihnen hiermit] [eine wilde Müllablagerung|illegale "
                "Müllablagerungen] [melden|anzeigen] und mich über [die Untätigkeit|die "
                "fehlende Reaktion] beschweren.",
            ),
            (
                "[Ich habe das bereits am {a} gemeldet|Eine Meldung über die App am {a} blieb "
                "ohne Folgen], [passiert ist nichts|der Müll liegt noch immer dort].",
                "[Fotos|Bilder] [füge ich bei|habe ich gemacht]; [man erkennt|zu sehen sind] "
                "[Farbeimer|Asbestplatten|Elektroschrott].",
            ),
            (
                "[Bitte lassen Sie den Müll entfernen und die Stelle kontrollieren|Ich bitte "
                "Sie, die Ablagerung beseitigen zu lassen und Verursacher zu ermitteln].",
            ),
        ),
        "beschwerde",
    ),
)


def _beschwerde(rng: random.Random, ctx: _Ctx) -> _Letter:
    topic = rng.choice(_COMPLAINTS)
    me = _citizen(rng)
    values: dict[str, object] = {
        "d": _de(ctx.date - dt.timedelta(days=rng.randint(1, 20))),
        "f": _de(ctx.date + dt.timedelta(days=rng.randint(14, 28))),
        "a": _de(ctx.date - dt.timedelta(days=rng.randint(60, 200))),
        "k": rng.randint(1, 99),
        "t": rng.choice(_TOWNS)[1],
        "t2": rng.choice(_TOWNS)[1],
        "s": rng.choice(_STREETS),
        "l": rng.randint(100, 799),
        "eur": _eur(rng.randint(80, 900) * 100),
        "dep": rng.choice(("Soziales", "Ordnung", "Jugend und Familie", "Bauen")),
    }
    body: list[_Item] = [_one(rng, slot, **values) for slot in topic.slots]
    if rng.random() < 0.5:
        body[1] = f"{body[1]} " + _one(
            rng,
            (
                "[Das ist|Es ist] nicht [das erste Mal|der erste Vorfall dieser Art].",
                "[Andere Nachbarn|Bekannte] [haben Ähnliches erlebt|bestätigen das].",
                "[Ich bin|Wir sind] [sehr verärgert|enttäuscht].",
            ),
        )
    if ctx.extent > 1:
        body.insert(
            2,
            _Heading(
                rng.choice(("Zum Ablauf im Einzelnen:", "Chronologie", "Die Vorfälle im Einzelnen"))
            ),
        )
        day = ctx.date - dt.timedelta(days=rng.randint(60, 120))
        entries = []
        for _ in range(rng.randint(10, 16)):
            day += dt.timedelta(days=rng.randint(2, 7))
            event = _one(
                rng,
                (
                    "[erneuter Vorfall|wieder das gleiche Problem]; [ich habe "
                    "angerufen|Anruf bei der Hotline], [niemand erreichbar|keine "
                    "Rückmeldung].",
                    "[E-Mail an|Schreiben an] [die Abteilung|das Büro des Landrats], "
                    "[keine Antwort|nur eine automatische Eingangsbestätigung].",
                    "[Gespräch mit|Nachfrage bei] [einem Mitarbeiter|einer "
                    "Mitarbeiterin], [es wurde Abhilfe zugesagt|man versprach einen "
                    "Rückruf].",
                    "[die Situation|der Zustand] [hat sich verschlimmert|ist "
                    "unverändert]; [ich habe Fotos gemacht|Nachbarn bestätigen dies].",
                    "[zweite Beschwerde|weitere Meldung] [per Post|über das "
                    "Online-Formular] [abgeschickt|eingereicht].",
                ),
            )
            entries.append(f"Am {_de(day)}: {event}")
        # Running text, not one entry a line: a column of dates reads as a table to tesseract.
        while entries:
            cut = rng.randint(3, 5)
            body.insert(-1, " ".join(entries[:cut]))
            entries = entries[cut:]
    letter = _citizen_letter(
        rng, ctx, "beschwerde", me, topic.department, [_one(rng, topic.subjects, **values)], body
    )
    if rng.random() < 0.25:
        letter.aktenzeichen = _aktenzeichen(
            rng, rng.choice(("32", "36", "50", "70")), rng.choice(("BS", "OA", "AW")), ctx.year
        )
        letter.refs = [f"{_az_label(rng)} {letter.aktenzeichen}"]
    if rng.random() < 0.2:
        letter.body.append(
            _one(
                rng,
                (
                    "Eine Kopie dieses Schreibens [geht an|erhält] [den Landrat|die "
                    "Lokalzeitung|den Kreistag].",
                    "[Ich behalte mir vor|Gegebenenfalls werde ich], [mich an den "
                    "Petitionsausschuss zu wenden|die Presse zu informieren].",
                ),
            )
        )
    return letter


_POSITIONS = (
    ("Sachbearbeiterin/Sachbearbeiter Bauaufsicht", "63"),
    ("Verwaltungsfachangestellte/r im Bürgerbüro", "32"),
    ("Sozialarbeiterin/Sozialarbeiter im Allgemeinen Sozialen Dienst", "51"),
    ("IT-Administratorin/IT-Administrator", "10"),
    ("Ingenieurin/Ingenieur für Tiefbau", "66"),
    ("Sachbearbeitung Wohngeld", "50"),
    ("Auszubildende/r zur/zum Verwaltungsfachangestellten", "11"),
    ("Beamtin/Beamter im gehobenen Dienst (Bachelor of Arts)", "11"),
    ("Hausmeisterin/Hausmeister", "65"),
    ("Lebensmittelkontrolleurin/Lebensmittelkontrolleur", "39"),
)


def _bewerbung(rng: random.Random, ctx: _Ctx) -> _Letter:
    title, office = rng.choice(_POSITIONS)
    number = rng.choice(
        (
            f"{ctx.year}-{rng.randint(1, 80):03d}",
            f"{rng.randint(1, 40)}/{ctx.year}",
            f"{office}-{rng.randint(1, 20):02d}/{ctx.year % 100}",
        )
    )
    label = rng.choice(("Kennziffer", "Kennziffer:", "Stellen-Nr.", "Ausschreibungsnummer"))
    me = _citizen(rng)
    source = _one(
        rng,
        (
            "auf Ihrer Internetseite",
            "in der {p} vom {d}",
            "bei der Bundesagentur für Arbeit",
            "auf interamt.de",
            "im Amtsblatt",
        ),
        p=rng.choice(
            ("Lindenauer Zeitung", "Rhein-Aue-Zeitung", "Wochenspiegel", "Allgemeinen Zeitung")
        ),
        d=_de(ctx.date - dt.timedelta(days=rng.randint(5, 30))),
    )
    subject = [
        _one(
            rng,
            (
                "Bewerbung als {t}",
                "Bewerbung um die Stelle {t}",
                "Ihre Stellenausschreibung: {t}",
                "Bewerbung – {t}",
            ),
            t=title,
        ),
        f"{label} {number}",
    ]
    if rng.random() < 0.3:
        subject = [f"{subject[0]} ({label} {number})"]
    values: dict[str, object] = {
        "t": title,
        "src": source,
        "n": number,
        "start": _de(ctx.date + dt.timedelta(days=rng.randint(30, 120))),
        "years": rng.randint(2, 15),
        "emp": rng.choice(
            (
                "der Verbandsgemeindeverwaltung",
                "einem Ingenieurbüro",
                "der Stadtverwaltung",
                "einem mittelständischen Unternehmen",
                "einem Jugendhilfeträger",
                "der Kreisverwaltung {t2}",
            )
        ).format(t2=rng.choice(_TOWNS)[1]),
    }
    body: list[_Item] = [
        _one(
            rng,
            (
                "[mit großem Interesse|mit Interesse] habe ich Ihre Stellenausschreibung "
                "{src} gelesen und bewerbe mich [hiermit|gerne] um die Stelle als {t}.",
                "[hiermit bewerbe ich mich|ich bewerbe mich] um die [ausgeschriebene|] Stelle "
                "[{t}|als {t}], die ich {src} gefunden habe.",
                "die von Ihnen {src} ausgeschriebene Stelle als {t} [entspricht genau meinen "
                "Vorstellungen|hat sofort mein Interesse geweckt|passt sehr gut zu meinem "
                "Profil|reizt mich sehr]. [Daher sende ich Ihnen|Anbei erhalten Sie|Gern "
                "übersende ich Ihnen|Beigefügt finden Sie] meine [Bewerbungsunterlagen|"
                "vollständigen Unterlagen].",
            ),
            **values,
        ),
        _one(
            rng,
            (
                "Derzeit [bin ich|arbeite ich] [seit {years} Jahren|seit über {years} Jahren] "
                "bei {emp} [beschäftigt|tätig], wo ich [für die Sachbearbeitung|für "
                "Genehmigungsverfahren|für die Betreuung der Bürger] zuständig bin.",
                "Nach [meiner Ausbildung|meinem Studium] [habe ich {years} Jahre "
                "Berufserfahrung bei {emp} gesammelt|sammelte ich {years} Jahre Erfahrung bei "
                "{emp}]. [Dort|Hier|In dieser Zeit|Dabei] [habe ich gelernt|lernte ich], "
                "[komplexe Vorgänge selbstständig zu bearbeiten|mit Menschen in schwierigen "
                "Situationen umzugehen|Fristen sicher im Blick zu behalten|auch unter "
                "Zeitdruck sorgfältig zu arbeiten].",
                "[Mein Studium|Meine Ausbildung] habe ich [im Jahr {y}|vor {years} Jahren] "
                "[erfolgreich|mit gutem Ergebnis] abgeschlossen; seitdem bin ich bei {emp} "
                "tätig.",
            ),
            y=ctx.year - int(str(values["years"])),
            **values,
        ),
        _one(
            rng,
            (
                "[Zu meinen Stärken gehören|Ich zeichne mich aus durch|Besonders "
                "ausgeprägt sind bei mir|Mitbringen würde ich] [Zuverlässigkeit, "
                "Teamfähigkeit und eine strukturierte Arbeitsweise|Sorgfalt und Freude am "
                "Umgang mit Menschen|Belastbarkeit und Organisationstalent].",
                "[Besonders reizt mich|Mich reizt besonders] [die Vielfalt der Aufgaben|die "
                "Arbeit für das Gemeinwohl|die Möglichkeit, mich fachlich weiterzuentwickeln] "
                "in einer [modernen|bürgernahen] Kreisverwaltung.",
                "[Sicher im Umgang bin ich mit|Gut vertraut bin ich mit|Routiniert arbeite "
                "ich mit|Erfahrung habe ich mit] [MS Office und gängigen Fachverfahren|den "
                "üblichen Büroanwendungen|elektronischer Aktenführung|Fachsoftware der "
                "Verwaltung].",
                "[Sehr gute|Fundierte|Solide|Vertiefte] Kenntnisse [habe ich|besitze ich] [im "
                "Verwaltungsrecht|in der Bauleitplanung und im Baurecht|im Sozialrecht|im "
                "Haushaltsrecht].",
            ),
        ),
        _one(
            rng,
            (
                "[Ich könnte|Die Stelle könnte ich|Ich stehe Ihnen zur Verfügung und "
                "könnte|Die Tätigkeit könnte ich] [zum {start}|unter Einhaltung einer "
                "Kündigungsfrist von drei Monaten|ab sofort|nach kurzer Einarbeitungszeit] "
                "antreten.",
                "[Über eine Einladung zu einem Vorstellungsgespräch|Über die Gelegenheit zu "
                "einem persönlichen Gespräch|Über eine positive Rückmeldung|Über ein "
                "Kennenlernen] [freue ich mich sehr|würde ich mich sehr freuen|freue ich "
                "mich|würde ich mich freuen].",
                "[Meine Gehaltsvorstellung orientiert sich an|Angemessen wäre für mich eine "
                "Eingruppierung in|Ich gehe von einer Vergütung aus nach|Meine "
                "Gehaltsvorstellung liegt bei] Entgeltgruppe {eg} TVöD.",
            ),
            eg=rng.choice(("E 9a", "E 9b", "E 9c", "E 10", "E 11", "S 12")),
            **values,
        ),
    ]
    if rng.random() < 0.2:
        body.insert(
            -1,
            _one(
                rng,
                (
                    "Ich bin [schwerbehindert|einem schwerbehinderten Menschen "
                    "gleichgestellt]; [bitte berücksichtigen Sie dies|ich bitte um "
                    "Beteiligung der Schwerbehindertenvertretung].",
                ),
            ),
        )
    letter = _citizen_letter(rng, ctx, "bewerbung", me, "personal", subject, body)
    letter.enclosures = _enclosures(
        rng,
        (
            "Lebenslauf",
            "Zeugnisse",
            "Abschlusszeugnis",
            "Arbeitszeugnisse",
            "Nachweise über Fortbildungen",
        ),
        2,
        4,
    )
    if ctx.extent > 1:
        cv: list[_Item] = [_Break(), _Heading("Lebenslauf", centred=rng.random() < 0.5)]
        year = ctx.year - int(str(values["years"])) - rng.randint(20, 28)

        cv.append(
            _Lines(
                (
                    f"Name: {me.name}",
                    f"Anschrift: {me.street}, {me.zip_town}",
                    f"Geboren: {rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{year}",
                )
            )
        )
        cv.append(_Heading(rng.choice(("Werdegang", "Ausbildung und Beruf", "Berufserfahrung"))))
        start = year + rng.randint(16, 20)
        town = rng.choice(_TOWNS)[1]
        training = rng.choice(
            (
                f"Ausbildung zur/zum Verwaltungsfachangestellten, Verbandsgemeinde {town}",
                f"Studium Verwaltung (Bachelor of Arts), Hochschule {town}",
                f"Studium Bauingenieurwesen, Hochschule {town}",
                f"Studium Soziale Arbeit, Katholische Hochschule {town}",
                f"Ausbildung zur/zum Industriekauffrau/-mann, {rng.choice(_LAST)} GmbH",
            )
        )
        end = start + rng.randint(3, 4)
        rows: list[tuple[str, ...]] = [(f"{start} – {end}", training)]
        while end < ctx.year:
            job = rng.choice(
                (
                    "Sachbearbeitung {area}, {emp}",
                    "Fachkraft {area}, {emp}",
                    "Teamleitung {area}, {emp}",
                    "Elternzeit",
                    "Projektmitarbeit {area}, {emp}",
                )
            )
            span = rng.randint(1, 2) if job == "Elternzeit" else rng.randint(2, 7)
            start, end = end, min(ctx.year, end + span)

            area = rng.choice(("Bauaufsicht", "Bürgerservice", "Personal", "Finanzen", "Soziales"))
            emp = rng.choice(
                (
                    f"Stadtverwaltung {rng.choice(_TOWNS)[1]}",
                    f"Ingenieurbüro {rng.choice(_LAST)}",
                    "Jugendhilfe Westerwald e.V.",
                    f"Verbandsgemeinde {rng.choice(_TOWNS)[1]}",
                    f"{rng.choice(_LAST)} Logistik GmbH",
                )
            )
            rows.append(
                (f"{start} – {'heute' if end == ctx.year else end}", job.format(area=area, emp=emp))
            )
        # No column of years: tesseract would read it as a table column, apart from the text.
        if rng.random() < 0.5:
            cv.append(_Lines(tuple(f"{what}, {when}" for when, what in rows)))
        else:
            for when, what in rows:
                cv.append(_Lines((when, what)))
        cv.append(_Heading("Kenntnisse"))
        cv.append(
            _Lines(
                tuple(
                    _some(
                        rng,
                        (
                            "- Führerschein Klasse B",
                            "- Englisch fließend",
                            "- MS Office sehr gut",
                            "- Französisch Grundkenntnisse",
                            "- Erste-Hilfe-Ausbildung",
                            "- Verwaltungslehrgang II",
                            "- SAP-Grundkenntnisse",
                        ),
                        3,
                        6,
                    )
                )
            )
        )
        letter.appendix = cv
    return letter


# --------------------------------------------------------------------------------------------
# Courts

_MATTERS: dict[str, tuple[tuple[str, str], ...]] = {
    # court kind: (register letters, what the case is about)
    "Verwaltungsgericht": (
        ("K", "Wohngeld"),
        ("K", "Baugenehmigung"),
        ("K", "Abfallgebühren"),
        ("L", "Ausländerrecht"),
        ("K", "Waffenrecht"),
        ("L", "Fahrerlaubnis"),
        ("K", "Kostenerstattung (Abschleppen)"),
        ("L", "Gaststättenrecht"),
    ),
    "Sozialgericht": (
        ("SO", "Leistungen nach dem SGB XII"),
        ("AY", "Leistungen nach dem AsylbLG"),
        ("EG", "Elterngeld"),
        ("SB", "Schwerbehindertenrecht"),
        ("AS", "Grundsicherung für Arbeitsuchende"),
    ),
    "Amtsgericht": (
        ("C", "Schadensersatz aus einem Verkehrsunfall"),
        ("C", "Forderung"),
        ("M", "Zwangsvollstreckung"),
        ("IN", "Insolvenzverfahren"),
    ),
    "Landgericht": (
        ("O", "Amtshaftung"),
        ("O", "Schadensersatz"),
        ("S", "Berufung wegen Forderung"),
    ),
}
_PROCEEDINGS = {
    "Verwaltungsgericht": "Verwaltungsrechtsstreit",
    "Sozialgericht": "Rechtsstreit",
    "Amtsgericht": "Rechtsstreit",
    "Landgericht": "Rechtsstreit",
}


_LAWS: dict[str, dict[str, str]] = {
    "Verwaltungsgericht": {
        "eil": "§ 80 Abs. 5 VwGO",
        "kost": "§ 154 Abs. 1 VwGO",
        "gkg": "§§ 52, 53 GKG",
        "vz": "§ 80 Abs. 3 VwGO",
        "bez": "§ 117 Abs. 5 VwGO",
        "appeal": "an das Oberverwaltungsgericht",
    },
    "Sozialgericht": {
        "eil": "§ 86b Abs. 1 SGG",
        "kost": "§ 193 SGG",
        "gkg": "§ 197a SGG in Verbindung mit § 52 GKG",
        "vz": "§ 86a Abs. 2 Nr. 5 SGG",
        "bez": "§ 136 Abs. 3 SGG",
        "appeal": "an das Landessozialgericht",
    },
}


def _court_number(rng: random.Random, court: str, register: str, year: int) -> str:
    yy = f"{year % 100:02d}"
    if court == "Sozialgericht":
        return f"S {rng.randint(1, 30)} {register} {rng.randint(1, 999)}/{yy}"
    if court == "Amtsgericht" and register == "C":
        return f"{rng.randint(1, 40)} C {rng.randint(1, 1999)}/{yy}"
    return f"{rng.randint(1, 12)} {register} {rng.randint(1, 3999)}/{yy}"


def _gericht(rng: random.Random, ctx: _Ctx) -> _Letter:
    court = rng.choice(tuple(_MATTERS))
    register, matter = rng.choice(_MATTERS[court])
    kind = rng.choice(("ladung", "verfuegung", "beschluss", "eingang"))
    if register in ("M", "IN"):
        kind = "beschluss"
    elif kind == "beschluss" and court in ("Amtsgericht", "Landgericht"):
        kind = rng.choice(("ladung", "verfuegung", "eingang"))
    # Decisions here are on urgent applications: "L" (VG) or "ER" (SG) proceedings.
    urgent = kind == "beschluss" and court in ("Verwaltungsgericht", "Sozialgericht")
    if urgent and court == "Verwaltungsgericht":
        register = "L"
    zip_code, town = rng.choice(_TOWNS)
    number = _court_number(rng, court, register, ctx.year)
    if urgent and court == "Sozialgericht":
        number += " ER"
    urgent = urgent or register == "L"
    chamber = rng.randint(1, 9)
    unit = {
        "Verwaltungsgericht": "Kammer",
        "Sozialgericht": "Kammer",
        "Amtsgericht": "Abteilung",
        "Landgericht": "Zivilkammer",
    }[court]
    clerk = _person(rng)
    judge = _person(rng)
    recipient = _recipient(rng, "recht")
    authority = recipient.authority
    party = _citizen(rng)
    sender = _Party(
        f"{court} {town}",
        _street(rng),
        zip_code,
        town,
        _phone(rng),
        f"poststelle@{_ascii(court[:2] + town)}.justiz.de",
        None,
        clerk,
        rng.choice(
            ("Justizbeschäftigte", "Urkundsbeamtin der Geschäftsstelle", "Justizhauptsekretärin")
        )
        if clerk.female
        else rng.choice(
            ("Justizbeschäftigter", "Urkundsbeamter der Geschäftsstelle", "Justizobersekretär")
        ),
        False,
    )
    head = [
        sender.name,
        rng.choice(
            (
                f"Der Vorsitzende der {chamber}. {unit}",
                f"Geschäftsstelle der {chamber}. {unit}",
                f"{chamber}. {unit}",
                "Die Geschäftsstelle",
            )
        ),
        f"{sender.street}, {sender.zip_town}",
    ]
    if rng.random() < 0.6:
        head.append(
            f"Telefon {sender.phone} · Sprechzeiten Mo–Fr {rng.choice(('8:30', '9:00'))}–12:00 Uhr"
        )
    refs = [f"{rng.choice(('Aktenzeichen:', 'Az.:', 'Geschäftsnummer:', 'Aktenzeichen'))} {number}"]
    if rng.random() < 0.5:
        refs.append(
            rng.choice(
                (
                    "(Bitte bei allen Schreiben angeben)",
                    "(bei Antwort bitte angeben)",
                    "(Bitte stets angeben)",
                    "(Bei Schriftverkehr bitte angeben)",
                )
            )
        )
    if rng.random() < 0.4:
        refs.append(f"Ihr Zeichen: {_aktenzeichen(rng, '30', 'RA', ctx.year)}")
    if rng.random() < 0.3:
        refs.append(f"Durchwahl: {rng.randint(100, 999)}")
    if urgent:
        plaintiff_role = "Antragstellerin" if party.signer.female else "Antragsteller"
        defendant_role = "Antragsgegner"
    else:
        plaintiff_role = "Klägerin" if party.signer.female else "Kläger"
        defendant_role = "Beklagter"
    defendant = authority.replace("Kreisverwaltung", "Landkreis").replace(
        "Landratsamt", "Landkreis"
    )
    dash = rng.choice(("– {} –", "- {} -", "({})", "– {} –,"))
    caption = _Lines(
        (
            f"In dem {_PROCEEDINGS[court]}",
            f"{party.name}, {party.street}, {party.zip_town},",
            dash.format(plaintiff_role),
            rng.choice(("gegen", "g e g e n", "gegen:", "./.")),
            f"{defendant}, "
            + rng.choice(
                (
                    "vertreten durch den Landrat,",
                    "vertreten durch die Landrätin,",
                    "dieser vertreten durch den Landrat,",
                    "vertr. d. d. Landrat,",
                )
            ),
            dash.format(defendant_role),
            f"wegen {matter}",
        ),
        indent=rng.choice((0, 0, 10)),
    )
    values: dict[str, object] = {
        "n": number,
        "d": _de(_workday(ctx.date + dt.timedelta(days=rng.randint(21, 70)))),
        "h": f"{rng.randint(8, 14)}:{rng.choice(('00', '15', '30', '45'))}",
        "room": rng.choice(
            ("Saal 1", "Sitzungssaal 2", "Saal 104", "Saal E 12", "Sitzungssaal III")
        ),
        "w": rng.choice(("zwei", "drei", "vier", "sechs")),
        "k": f"{chamber}. {unit}",
        "m": matter,
        "eur": _eur(rng.randint(5, 200) * 50_000 // 100 * 100),
        "kd": _de(ctx.date - dt.timedelta(days=rng.randint(5, 30))),
        "p": party.name,
        "bekl": f"Der {defendant_role}",
        "bekl_acc": "Beklagten" if defendant_role == "Beklagter" else "Antragsgegner",
        "bekl_gen": "Beklagten" if defendant_role == "Beklagter" else "Antragsgegners",
        "schrift": "Klageschrift" if defendant_role == "Beklagter" else "Antragsschrift",
        "court": court,
        "addr": f"{sender.street}, {sender.zip_town}",
    }
    subject: list[str]
    body: list[_Item] = []
    salutation = rng.choice(("Sehr geehrte Damen und Herren,", None))
    closing = rng.choice(
        (
            ["Mit freundlichen Grüßen", "Auf Anordnung", "", clerk.name, sender.role or ""],
            [
                clerk.name,
                sender.role or "",
                "",
                rng.choice(
                    (
                        "Dieses Schreiben wurde maschinell erstellt und ist ohne Unterschrift "
                        "gültig.",
                        "Maschinell erstellt, daher ohne Unterschrift wirksam.",
                        "Dieses Schreiben ist ohne Unterschrift gültig.",
                        "Das Schreiben wurde elektronisch erstellt und trägt keine Unterschrift.",
                    )
                ),
            ],
            ["Mit freundlichen Grüßen", "", clerk.name, sender.role or ""],
        )
    )
    if kind == "ladung":
        subject = [
            _one(
                rng,
                (
                    "Ladung zur mündlichen Verhandlung",
                    "Terminsladung",
                    "Ladung zum Termin am {d}",
                    "Ladung",
                ),
                **values,
            )
        ]
        body = [
            caption,
            _one(
                rng,
                (
                    "[Sie werden|{bekl} wird] [hiermit|] [zur mündlichen "
                    "Verhandlung|zum Termin zur mündlichen Verhandlung] [auf|am] {d}, {h} "
                    "Uhr, [geladen|in das Gerichtsgebäude, {room}, geladen].",
                    "In [obiger Sache|der oben bezeichneten Sache] [ist|wurde] Termin zur "
                    "mündlichen Verhandlung [bestimmt|anberaumt] auf {d}, {h} Uhr, {room}, "
                    "{addr}.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Das persönliche Erscheinen|Ein persönliches Erscheinen|Die persönliche "
                    "Anwesenheit|Das Erscheinen] [eines Vertreters|eines informierten "
                    "Vertreters|einer sachkundigen Person|der Beteiligten] [ist nicht "
                    "angeordnet|wird angeordnet|ist nicht erforderlich|wird nicht verlangt].",
                    "Es wird [gebeten|ersucht], [eine Terminsvollmacht|die Vollmacht des "
                    "Terminsvertreters] [vorzulegen|mitzubringen].",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Beim Ausbleiben|Im Fall des Ausbleibens|Erscheint jemand nicht, so kann "
                    "bei Ausbleiben] eines Beteiligten [auch ohne ihn|in seiner Abwesenheit|"
                    "gleichwohl|dennoch] [verhandelt und entschieden|entschieden|verhandelt] "
                    "werden.",
                    "[Auf die Folgen des Ausbleibens|Auf {absent}] wird hingewiesen: Beim "
                    "Ausbleiben eines Beteiligten kann auch ohne ihn [verhandelt und "
                    "entschieden|entschieden] werden.",
                ),
                absent={
                    "Verwaltungsgericht": "§ 102 Abs. 2 VwGO",
                    "Sozialgericht": "§ 110 Abs. 1 SGG",
                }.get(court, "§ 330 ZPO"),
            ),
        ]
    elif kind == "verfuegung":
        subject = [
            _one(
                rng,
                (
                    "Verfügung",
                    "Verfügung vom {kd}",
                    "{schrift} vom {kd}",
                    "Aufforderung zur Stellungnahme",
                ),
                **values,
            )
        ]
        body = [
            caption,
            _one(
                rng,
                (
                    "[anliegend|in der Anlage] [erhalten Sie|wird Ihnen] [die "
                    "{schrift}|eine Abschrift der {schrift}] vom {kd} [zur Kenntnis und "
                    "Stellungnahme|übersandt].",
                    "[Die Vorsitzende|Der Vorsitzende|Die Berichterstatterin|Der "
                    "Berichterstatter] hat [verfügt|Folgendes verfügt]: "
                    "[Übersendung|Zustellung] der {schrift} an den {bekl_acc}.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Sie erhalten Gelegenheit|Es wird Gelegenheit gegeben], "
                    "[binnen|innerhalb von] {w} Wochen [Stellung zu nehmen|zur {schrift} Stellung "
                    "zu nehmen].",
                    "[Um Erwiderung|Um Stellungnahme|Um Äußerung|Um eine Antwort] wird "
                    "[binnen {w} Wochen|innerhalb einer Frist von {w} Wochen|innerhalb von {w} "
                    "Wochen|in den nächsten {w} Wochen] gebeten.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Bitte legen Sie|Es wird gebeten,] die [vollständigen|] "
                    "Verwaltungsvorgänge [vor|vorzulegen] [, nach Möglichkeit paginiert|].",
                    "[Gleichzeitig|Zugleich|Außerdem|Ferner] werden Sie gebeten, [die "
                    "Behördenakten|die Verwaltungsakten|die Akten|die einschlägigen Vorgänge] "
                    "[zu übersenden|vorzulegen|zu überlassen|einzureichen].",
                ),
                **values,
            ),
        ]
        if rng.random() < 0.4:
            body.append(
                _one(
                    rng,
                    (
                        "Es wird angefragt, ob [Einverständnis mit einer Entscheidung ohne "
                        "mündliche Verhandlung|Einverständnis mit einer Entscheidung durch "
                        "den Berichterstatter] besteht.",
                    ),
                )
            )
    elif kind == "eingang":
        subject = [
            _one(
                rng,
                (
                    "Eingangsbestätigung",
                    "Ihr Schriftsatz vom {kd}",
                    "Mitteilung der Geschäftsstelle",
                ),
                **values,
            )
        ]
        body = [
            caption,
            _one(
                rng,
                (
                    "[Ihr Schriftsatz|Der Schriftsatz des {bekl_gen}] vom {kd} ist [hier|bei "
                    "Gericht] [eingegangen|am {kd} eingegangen] und [der Gegenseite|dem "
                    "Kläger] [übersandt worden|zur Kenntnis gegeben worden].",
                    "[Es wird mitgeteilt|Hiermit wird bestätigt], dass [der Schriftsatz|Ihr "
                    "Schreiben] vom {kd} [eingegangen ist|vorliegt].",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Eine Entscheidung|Ein Termin] [ist derzeit nicht absehbar|wird "
                    "gesondert mitgeteilt].",
                    "[Weitere Verfügungen|Weitere Mitteilungen|Weitere Hinweise|Weitere "
                    "Anordnungen] [bleiben vorbehalten|ergehen gesondert|folgen gesondert|folgen "
                    "bei Bedarf].",
                ),
            ),
        ]
    elif register == "M":
        subject = ["Pfändungs- und Überweisungsbeschluss"]
        debtor = _citizen(rng)
        creditor = _org(
            rng, ("Inkasso {last} GmbH", "Autohaus {last} GmbH", "Versandhaus {last} KG"), ("",)
        )
        salutation = None
        body = [
            _Lines(
                (
                    "In der Zwangsvollstreckungssache",
                    creditor.name,
                    "– Gläubigerin –",
                    "gegen",
                    f"{debtor.name}, {debtor.street}, {debtor.zip_town}",
                    "– Schuldner –",
                )
            ),
            _one(
                rng,
                (
                    "[Der Landkreis|Die Kreisverwaltung] wird als Drittschuldner [in Anspruch "
                    "genommen|bezeichnet]. [Gepfändet wird|Die Pfändung umfasst] das "
                    "Arbeitseinkommen des Schuldners [in Höhe des pfändbaren Betrages|nach § "
                    "850c ZPO].",
                    "[Wegen einer Forderung|Wegen der Hauptforderung] von {eur} [nebst Zinsen "
                    "und Kosten|zuzüglich Zinsen] wird [die Forderung des Schuldners|der "
                    "Anspruch des Schuldners] gegen den Drittschuldner [auf Zahlung des "
                    "Arbeitseinkommens|aus dem Arbeitsverhältnis] gepfändet.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "Dem Drittschuldner wird verboten, an den Schuldner zu zahlen. [Die "
                    "gepfändete Forderung|Der gepfändete Betrag] wird der Gläubigerin zur "
                    "Einziehung überwiesen.",
                    "[Der Drittschuldner darf nicht mehr an den Schuldner leisten|Es ist dem "
                    "Drittschuldner untersagt, an den Schuldner zu zahlen]; [die "
                    "Forderung|der Anspruch] wird der Gläubigerin [zur Einziehung|] "
                    "überwiesen.",
                ),
            ),
            _one(
                rng,
                (
                    "[Der Drittschuldner hat binnen zwei Wochen die Erklärung nach § 840 ZPO "
                    "abzugeben|Sie werden aufgefordert, innerhalb von zwei Wochen zu "
                    "erklären, ob und inwieweit Sie die Forderung anerkennen].",
                ),
            ),
        ]
    elif register == "IN":
        subject = [
            _one(
                rng,
                (
                    "Eröffnung des Insolvenzverfahrens",
                    "Insolvenzverfahren – Aufforderung zur Forderungsanmeldung",
                    "Beschluss über die Eröffnung des Insolvenzverfahrens",
                ),
            )
        ]
        debtor_org = _org(
            rng,
            (
                "{last} Bau GmbH",
                "Transporte {last} e.K.",
                "{last} Gastronomie GmbH",
                "Holzbau {last} KG",
            ),
            ("",),
        )
        trustee = _person(rng)
        salutation = None
        body = [
            _one(
                rng,
                (
                    "Über das Vermögen der {o}, {a}, [wurde am {kd} um {h} Uhr das "
                    "Insolvenzverfahren eröffnet|ist am {kd} das Insolvenzverfahren eröffnet "
                    "worden].",
                    "Das Insolvenzverfahren über das Vermögen der {o}, {a}, [ist am {kd} "
                    "eröffnet worden|wurde am {kd} eröffnet].",
                ),
                o=debtor_org.name,
                a=f"{debtor_org.street}, {debtor_org.zip_town}",
                **values,
            ),
            _one(
                rng,
                (
                    "{zur} [bestellt|ernannt|bestimmt] wird {iv}, {street}, {town}.",
                    "{zur} wird {iv} [bestellt|ernannt].",
                ),
                zur=f"Zu{'r Insolvenzverwalterin' if trustee.female else 'm Insolvenzverwalter'}",
                iv=f"Rechtsanwält{'in' if trustee.female else ''} {trustee.name}",
                street=_street(rng),
                town=rng.choice(_TOWNS)[1],
            ),
            _one(
                rng,
                (
                    "Die Insolvenzgläubiger werden aufgefordert, ihre Forderungen [bis zum "
                    "{d}|innerhalb einer Frist bis {d}] [beim Insolvenzverwalter|schriftlich "
                    "beim Insolvenzverwalter] anzumelden.",
                    "Forderungen sind [bis zum {d}|spätestens am {d}] [unter Angabe von Grund "
                    "und Betrag|mit Belegen] beim Insolvenzverwalter anzumelden.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Der Berichtstermin|Die Gläubigerversammlung] findet am {d}, {h} Uhr, "
                    "{room} statt.",
                    "[Prüfungstermin|Der Prüfungstermin] ist am {d} um {h} Uhr [im "
                    "Gerichtsgebäude|in {room}].",
                ),
                **values,
            ),
        ]
    else:
        subject = [
            _one(
                rng,
                (
                    "Beschluss",
                    "Beschluss vom {kd}",
                    "Beschluss in dem Verfahren {n}",
                    "Ausfertigung eines Beschlusses",
                ),
                **values,
            )
        ]
        salutation = None
        body = [
            _Heading("BESCHLUSS", centred=True),
            caption,
            _one(
                rng,
                (
                    "hat die {k} des {court}s {town} [durch die Vorsitzende|durch den "
                    "Vorsitzenden|] am {kd} beschlossen:",
                    "[wird|hat das Gericht] [am {kd}|] [beschlossen|durch Beschluss entschieden]:",
                ),
                town=town,
                **values,
            ),
            _one(
                rng,
                (
                    "[Der Antrag|Der Antrag auf Gewährung vorläufigen Rechtsschutzes] wird "
                    "abgelehnt. [Der Antragsteller|Die Antragstellerin] trägt die Kosten des "
                    "Verfahrens.",
                    "Die aufschiebende Wirkung [des Widerspruchs|der Klage] wird "
                    "[wiederhergestellt|angeordnet]. Die Kosten des Verfahrens trägt der "
                    "Antragsgegner.",
                    "Das Verfahren wird eingestellt. [Die Kosten|Die Kosten des Verfahrens] "
                    "werden gegeneinander aufgehoben.",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "Der Streitwert wird auf {eur} festgesetzt.",
                    "Der Wert des Streitgegenstandes wird auf {eur} festgesetzt.",
                ),
                **values,
            ),
        ]
        reasons = [
            "[Der Antrag ist zulässig, aber unbegründet|Der Antrag hat keinen Erfolg|Der "
            "zulässige Antrag ist begründet]. [Die im Rahmen des {eil} "
            "vorzunehmende Interessenabwägung|Die gebotene Abwägung der Interessen] [fällt zu "
            "Lasten|fällt zugunsten] [des Antragstellers|der Antragstellerin] aus.",
            "[Nach summarischer Prüfung|Bei der im Eilverfahren nur möglichen summarischen "
            "Prüfung] [erweist sich der angefochtene Bescheid als rechtmäßig|bestehen "
            "ernstliche Zweifel an der Rechtmäßigkeit des Bescheides].",
            "[Die Behörde hat|Der Antragsgegner hat] [den Sachverhalt zutreffend "
            "ermittelt|das ihm eingeräumte Ermessen erkannt] und [ohne Rechtsfehler "
            "ausgeübt|die maßgeblichen Gesichtspunkte berücksichtigt].",
            "[Die Kostenentscheidung beruht auf|Die Entscheidung über die Kosten folgt aus] "
            "{kost}, [die Streitwertfestsetzung auf|die Festsetzung des Streitwerts auf] "
            "{gkg}.",
            "[Soweit|Sofern] [vorgetragen wird|geltend gemacht wird], [die Anhörung sei "
            "unterblieben|die Frist sei zu kurz bemessen], [greift dies nicht durch|ist dem "
            "nicht zu folgen], [da der Mangel im Widerspruchsverfahren geheilt werden "
            "kann|weil die Frist angemessen war].",
            "[Auch|Ferner] [ist|war] [ein besonderes öffentliches Interesse an der sofortigen "
            "Vollziehung|die Anordnung der sofortigen Vollziehung] [hinreichend "
            "begründet|ordnungsgemäß begründet] worden ({vz}).",
            "[Das Gericht|Die Kammer] [folgt|schließt sich] [insoweit|] [den Gründen des "
            "angefochtenen Bescheides|der Begründung des Widerspruchsbescheides] [an|] und "
            "[sieht von einer weiteren Darstellung ab|nimmt hierauf Bezug] ({bez}).",
            "[Bei der Bemessung des Streitwerts|Für den Streitwert] [hat die Kammer|hat das "
            "Gericht] [die Empfehlungen des Streitwertkatalogs|den Auffangwert] zugrunde "
            "gelegt [und diesen im Eilverfahren halbiert|].",
        ]
        body.append(_Heading("Gründe", centred=rng.random() < 0.5))
        laws = _LAWS[court]
        low, high = (2, 3) if ctx.extent == 1 else (6, 8)
        body.extend(_some(rng, reasons, low, high, **laws))
        body.append(_Heading("Rechtsmittelbelehrung"))
        body.append(
            _one(
                rng,
                (
                    "Gegen diesen Beschluss [steht den Beteiligten|steht] die Beschwerde "
                    "{appeal} zu. Sie ist "
                    "[innerhalb von zwei Wochen|binnen zwei Wochen] nach Bekanntgabe "
                    "[schriftlich|] beim {court} {town} einzulegen.",
                    "[Gegen die Festsetzung des Streitwerts|Gegen diese Entscheidung] [ist "
                    "die Beschwerde statthaft|kann Beschwerde eingelegt werden], wenn der "
                    "Wert des Beschwerdegegenstandes 200 Euro übersteigt.",
                ),
                town=town,
                **values,
                **laws,
            )
        )
        closing = [
            f"{'Dr. ' if rng.random() < 0.3 else ''}{judge.name}",
            rng.choice(
                (
                    "Vorsitzende Richterin" if judge.female else "Vorsitzender Richter",
                    "Richterin" if judge.female else "Richter",
                )
            ),
        ]
    if kind != "beschluss" or register in ("M", "IN"):
        body = [_cap(item) if isinstance(item, str) else item for item in body]
    return _Letter(
        doc_type="gericht",
        sender=sender,
        recipient=recipient,
        date=ctx.date,
        date_line=_date_line(rng, town, ctx.date, official=True),
        refs=refs,
        subject=subject,
        body=body,
        salutation=salutation,
        closing=closing,
        head=head,
        return_line=_return_line(rng, sender) if rng.random() < 0.7 else None,
        cont_header=rng.choice((None, f"{number}")),
        aktenzeichen=number,
    )


# --------------------------------------------------------------------------------------------
# Information requests, advertising and everything else

_IFG_TOPICS = (
    (
        "die Kosten der Sanierung des Kreishauses",
        "den Kosten der Sanierung des Kreishauses",
        (
            "die Gesamtkosten der Sanierung bis heute",
            "die beauftragten Firmen und die jeweiligen Auftragssummen",
            "die Kostenschätzung aus dem Jahr {py}",
            "die Gründe für Mehrkosten",
        ),
    ),
    (
        "die Bearbeitungsdauer von Wohngeldanträgen",
        "der Bearbeitungsdauer von Wohngeldanträgen",
        (
            "die durchschnittliche Bearbeitungsdauer im Jahr {py}",
            "die Zahl der unerledigten Anträge zum Stichtag {d}",
            "die Zahl der Stellen in der Wohngeldstelle",
            "die Zahl der Widersprüche",
        ),
    ),
    (
        "die Verträge über die Schülerbeförderung",
        "den Verträgen über die Schülerbeförderung",
        (
            "die aktuell geltenden Verträge mit den Busunternehmen",
            "die jährlichen Kosten je Linie",
            "die Beschwerden über Verspätungen im Jahr {py}",
            "die Vergabeunterlagen der letzten Ausschreibung",
        ),
    ),
    (
        "die Untersuchungen des Trinkwassers",
        "den Untersuchungen des Trinkwassers",
        (
            "die Messwerte für Nitrat der letzten drei Jahre",
            "die Prüfberichte des Gesundheitsamtes",
            "Überschreitungen von Grenzwerten",
            "die Maßnahmen nach Grenzwertüberschreitungen",
        ),
    ),
    (
        "das Gutachten zum Radweg an der K {k}",
        "dem Gutachten zum Radweg an der K {k}",
        (
            "das vollständige Gutachten",
            "die Kosten des Gutachtens",
            "den Schriftverkehr mit dem Landesbetrieb Mobilität",
            "den Zeitplan für den Bau",
        ),
    ),
    (
        "die Fahrzeugflotte der Kreisverwaltung",
        "der Fahrzeugflotte der Kreisverwaltung",
        (
            "die Zahl der Dienstfahrzeuge nach Antriebsart",
            "die Leasingkosten im Jahr {py}",
            "die geplanten Anschaffungen von Elektrofahrzeugen",
            "die Zahl der Ladepunkte",
        ),
    ),
    (
        "externe Beratungsleistungen",
        "externen Beratungsleistungen",
        (
            "alle Beraterverträge seit {py}",
            "die jeweiligen Auftragnehmer und Honorare",
            "die Ergebnisse der Beratungen",
            "die Vergabeart",
        ),
    ),
    (
        "die Kontrollen der Lebensmittelüberwachung",
        "den Kontrollen der Lebensmittelüberwachung",
        (
            "die Zahl der Kontrollen im Jahr {py}",
            "die Zahl der Beanstandungen",
            "die verhängten Bußgelder",
            "die Zahl der Kontrolleure",
        ),
    ),
)
_PAPERS = (
    "Lindenauer Tageblatt",
    "Rhein-Aue-Zeitung",
    "Westerhöhe Kurier",
    "Allgemeiner Anzeiger",
    "Radio Sonnenberg",
    "Eifel-Echo",
    "Wochenspiegel Nassental",
)


def _anfrage(rng: random.Random, ctx: _Ctx) -> _Letter:
    topic, topic_dative, questions = rng.choice(_IFG_TOPICS)
    road = rng.randint(1, 99)
    values: dict[str, object] = {
        "py": ctx.year - rng.randint(1, 3),
        "d": _de(ctx.date - dt.timedelta(days=rng.randint(10, 90))),
        "k": road,
        "f": _de(_workday(ctx.date + dt.timedelta(days=rng.randint(3, 10)))),
        "t": _say(rng, topic, k=road),
        "td": _say(rng, topic_dative, k=road),
    }
    asked = [
        _say(rng, q, **values) for q in rng.sample(list(questions), rng.randint(2, len(questions)))
    ]
    press = rng.random() < 0.45
    if press:
        paper = rng.choice(_PAPERS)
        sender = _org(
            rng,
            (paper + " – Lokalredaktion", paper, paper + " – Redaktion"),
            ("Redakteur{r}", "Lokalredaktion", "Reporter{r}", "Volontär{r}"),
            domain=_ascii(paper),
        )
        subject = [
            _one(
                rng,
                (
                    "Presseanfrage zu {td}",
                    "Anfrage der Redaktion: {t}",
                    "Presseanfrage",
                    "Bitte um Auskunft – {t}",
                ),
                **values,
            )
        ]
        body: list[_Item] = [
            _one(
                rng,
                (
                    "[für einen Bericht|für einen Artikel] [in unserer Ausgabe vom {f}|in der "
                    "kommenden Wochenendausgabe|auf unserem Nachrichtenportal] [recherchiere "
                    "ich|recherchieren wir] zu {td}.",
                    "[die Redaktion des {p}|unsere Redaktion] [beschäftigt sich|befasst sich] "
                    "[derzeit|aktuell] mit {td}. [Dazu|Hierzu] [bitte ich|bitten wir] um "
                    "[Auskunft|Beantwortung einiger Fragen].",
                ),
                p=paper,
                **values,
            ),
            _one(
                rng,
                (
                    "[Unter Berufung auf|Gestützt auf|Unter Hinweis auf|Mit Blick auf] den "
                    "[Auskunftsanspruch nach dem Landespressegesetz|presserechtlichen "
                    "Auskunftsanspruch] [bitte ich|bitten wir] um [Beantwortung folgender "
                    "Fragen|Auskunft zu folgenden Punkten|Antworten auf folgende Fragen|Auskunft "
                    "zu diesen Fragen]:",
                    "[Bitte beantworten Sie mir|Ich bitte Sie um Beantwortung der|Ich bitte "
                    "um Antworten auf die|Meine Anfrage betrifft die] [folgenden Fragen|"
                    "nachstehenden Fragen|folgenden Punkte|unten aufgeführten Fragen]:",
                ),
            ),
            _Lines(
                tuple(
                    f"{i}. {_cap(q)}?" if rng.random() < 0.5 else f"{i}. Bitte nennen Sie {q}."
                    for i, q in enumerate(asked, 1)
                ),
                indent=rng.choice((0, 5, 10)),
            ),
            _one(
                rng,
                (
                    "[Da unser Redaktionsschluss am {f} ist,|Wegen des Redaktionsschlusses] "
                    "[wäre ich für eine Antwort bis {f} dankbar|bitte ich um Antwort bis zum "
                    "{f}].",
                    "[Gerne|Auch] [können Sie mich|erreichen Sie mich] [telefonisch|für "
                    "Rückfragen] unter {ph} [erreichen|].",
                    "[Eine|Gern auch eine] [kurze|schriftliche|knappe|offizielle] "
                    "Stellungnahme [des Landrats|der Kreisverwaltung|der Pressestelle|der "
                    "Verwaltung] [würden wir gerne zitieren|nehmen wir gerne auf|fließt gern in "
                    "den Beitrag ein|würden wir gern berücksichtigen].",
                ),
                ph=sender.phone,
                **values,
            ),
        ]
        letter = _Letter(
            doc_type="anfrage",
            sender=sender,
            recipient=_recipient(rng, "presse"),
            date=ctx.date,
            date_line=_date_line(rng, sender.town, ctx.date, official=True),
            refs=[],
            subject=subject,
            body=body,
            closing=_closing(rng, sender),
            return_line=_return_line(rng, sender) if rng.random() < 0.6 else None,
            footer=[
                f"{sender.name} · {sender.street} · {sender.zip_town}",
                f"Telefon {sender.phone} · {sender.email}",
            ]
            if rng.random() < 0.5
            else [],
        )
        letter.salutation = _salutation(rng, letter.recipient)
    else:
        me = _citizen(rng)
        law, law_acc = rng.choice(
            (
                (
                    "dem Landestransparenzgesetz (LTranspG)",
                    "das Landestransparenzgesetz (LTranspG)",
                ),
                ("dem Informationsfreiheitsgesetz (IFG)", "das Informationsfreiheitsgesetz (IFG)"),
                ("dem Informationsfreiheitsgesetz", "das Informationsfreiheitsgesetz"),
                ("dem Umweltinformationsgesetz", "das Umweltinformationsgesetz"),
                ("§ 1 IFG", "§ 1 IFG"),
            )
        )
        subject = [
            _one(
                rng,
                (
                    "Antrag auf Informationszugang nach {law}",
                    "Anfrage nach {law}",
                    "Informationsfreiheitsanfrage: {t}",
                    "Antrag auf Akteneinsicht – {t}",
                ),
                law=law,
                **values,
            )
        ]
        body = [
            _one(
                rng,
                (
                    "[hiermit beantrage ich|ich beantrage hiermit] [nach|gemäß] "
                    "{law} [Zugang zu folgenden Informationen|Auskunft zu folgenden Punkten] "
                    "[zu {td}|betreffend {t}]:",
                    "[gestützt auf|unter Berufung auf] {law_acc} bitte ich um "
                    "[Übersendung|Herausgabe] [folgender Informationen|folgender Unterlagen] "
                    "über {t}:",
                ),
                law=law,
                law_acc=law_acc,
                **values,
            ),
            _Lines(
                tuple(f"{i}. {_cap(q)}" for i, q in enumerate(asked, 1)),
                indent=rng.choice((0, 5, 10)),
            ),
            _one(
                rng,
                (
                    "[Ich bitte um Übersendung|Bitte senden Sie mir die Informationen] [per "
                    "E-Mail|in elektronischer Form|als PDF] [an {mail}|].",
                    "[Sollte|Falls] [die Auskunft|der Antrag] [gebührenpflichtig sein|Kosten "
                    "verursachen], [bitte ich um vorherige Mitteilung|informieren Sie mich "
                    "bitte vorab], [sofern die Gebühren 50 Euro übersteigen|falls mehr als 30 "
                    "Euro anfallen|].",
                    "[Ich bitte um|Bitte bestätigen Sie den Eingang und] [eine Antwort "
                    "innerhalb der gesetzlichen Frist von einem Monat|eine Bearbeitung "
                    "innerhalb eines Monats].",
                ),
                mail=me.email or "meine E-Mail-Adresse",
                **values,
            ),
        ]
        if rng.random() < 0.5:
            body.append(
                _one(
                    rng,
                    (
                        "[Soweit|Sollten] [Teile der Unterlagen|einzelne Informationen] "
                        "[geschützt sind|Geheimhaltungsgründen unterliegen], [bitte ich um "
                        "Schwärzung statt vollständiger Ablehnung|beantrage ich die "
                        "Herausgabe der übrigen Teile].",
                        "[Vielen Dank|Ich danke Ihnen] [im Voraus|vorab] für [Ihre Mühe|die "
                        "Bearbeitung].",
                    ),
                )
            )
        letter = _citizen_letter(
            rng, ctx, "anfrage", me, "presse" if rng.random() < 0.3 else "allgemein", subject, body
        )
    if ctx.extent > 1:
        more = [
            "[Darüber hinaus|Zusätzlich] [bitte ich um|erbitte ich] [Auskunft, ob|Mitteilung, "
            "ob] [hierzu Beschlüsse des Kreistags vorliegen|der Kreisausschuss befasst war] "
            "[und wann|sowie wann] [diese gefasst wurden|das geschah].",
            "[Bitte teilen Sie außerdem mit|Teilen Sie bitte auch mit], [welche Stellen|welche "
            "Abteilungen] [an der Entscheidung beteiligt waren|Unterlagen dazu führen].",
            "[Zum Hintergrund|Zur Erläuterung]: [In der Öffentlichkeit|In den sozialen "
            "Medien] [wird seit Wochen|wurde mehrfach] [über {t} diskutiert|über {t} "
            "berichtet], [ohne dass belastbare Zahlen vorliegen|allerdings mit "
            "widersprüchlichen Angaben].",
            "[Sollten Sie|Falls Sie] [für einzelne Fragen nicht zuständig sein|einzelne "
            "Informationen nicht vorliegen haben], [bitte ich um Weiterleitung an die "
            "zuständige Stelle|bitte ich um einen Hinweis, wer zuständig ist] (§ 11 Abs. 2 "
            "LTranspG).",
            "[Ich weise vorsorglich darauf hin|Vorsorglich weise ich darauf hin], dass [eine "
            "Ablehnung|die Ablehnung des Antrags] [zu begründen ist|schriftlich zu begründen "
            "ist] und [mit einer Rechtsbehelfsbelehrung|mit einer Belehrung über "
            "Rechtsmittel] versehen sein muss.",
            "[Für|Bei] [Rückfragen|Unklarheiten] [stehe ich|bin ich] [gerne|jederzeit] [zur "
            "Verfügung|erreichbar].",
        ]
        extra_questions = [
            f"{i}. {_say(rng, q, **values)}"
            for i, q in enumerate(
                rng.sample(
                    [
                        "[Wie viele|Welche] [Mitarbeiter|Stellen] [sind|waren] mit {td} "
                        "[befasst|beschäftigt]?",
                        "[Welche Kosten|Welche Ausgaben] sind [seit {py}|im Jahr {py}] "
                        "[entstanden|angefallen]?",
                        "[Welche|Was für] [Gutachten|Stellungnahmen] [liegen vor|wurden "
                        "eingeholt]?",
                        "[Gab es Beschwerden dazu|Gingen Eingaben zu diesem Thema ein]?",
                        "Welche [Firmen|Auftragnehmer] [wurden beauftragt|waren beteiligt]?",
                        "[Wann|Bis wann] ist mit [Ergebnissen|einer Entscheidung] zu rechnen?",
                        "[Welche|Was für] [Zeitpläne|Fristen] [bestehen|gelten]?",
                        "[Welcher Haushaltsansatz ist|Welcher Betrag ist] dafür vorgesehen?",
                    ],
                    8,
                ),
                len(asked) + 1,
            )
        ]
        letter.body.extend(
            [
                _Heading("Weitere Fragen"),
                _Lines(tuple(extra_questions)),
                *_some(rng, more, 4, 6, **values),
            ]
        )
    return letter


@dataclass(frozen=True)
class _Offer:
    names: tuple[str, ...]
    subjects: tuple[str, ...]
    hooks: tuple[str, ...]
    features: tuple[str, ...]
    products: tuple[tuple[str, int, int], ...]  # name, lowest and highest price in cents


_OFFERS = (
    _Offer(
        ("Bürobedarf {last} GmbH", "Büro-Discount {town}", "OfficeDirekt {last} KG"),
        (
            "Sonderaktion: [20|25|30] % Rabatt auf Büromöbel",
            "Ihr persönliches Angebot für Büromaterial",
            "Jetzt Vorrat anlegen – Frühjahrsaktion {y}",
            "Neue Preise für Kommunen",
        ),
        (
            "[sparen Sie jetzt|profitieren Sie jetzt] [bei Kopierpapier, Ordnern und "
            "Toner|beim Büromaterial für Ihre Verwaltung] – [nur bis zum {f}|solange der "
            "Vorrat reicht].",
            "[als langjähriger Partner der Kommunalverwaltungen|als Fachhändler für Behörden] "
            "[haben wir|halten wir] [ein exklusives Angebot|besondere Konditionen] für Sie "
            "[bereit|zusammengestellt].",
        ),
        (
            "- Lieferung [innerhalb von 24 Stunden|am nächsten Werktag|frei Haus ab 50 Euro]",
            "- Kauf auf Rechnung [für Behörden|für öffentliche Auftraggeber]",
            "- [Rahmenvertrag|Sonderkonditionen] [ohne Mindestabnahme|für Kommunen]",
            "- [Persönlicher Ansprechpartner|Eigener Kundenberater] [für Ihre Verwaltung|vor Ort]",
            "- [Umweltfreundliche|Nachhaltige] Produkte mit dem Blauen Engel",
        ),
        (
            ("Kopierpapier A4, 5 Pakete", 1990, 2690),
            ("Bürostuhl ergonomisch", 19900, 39900),
            ("Schreibtisch elektrisch höhenverstellbar", 39900, 69900),
            ("Ordner, 10 Stück", 1490, 2490),
            ("Toner-Set", 8900, 19900),
            ("Aktenschrank abschließbar", 24900, 44900),
        ),
    ),
    _Offer(
        (
            "{last} Software GmbH",
            "KommunalSoft AG",
            "Verwaltung Digital {last} GmbH",
            "Civitas IT GmbH",
        ),
        (
            "Die E-Akte für Ihre Kreisverwaltung",
            "Einladung zur Online-Präsentation: [digitale "
            "Antragsverfahren|Ratsinformationssystem|E-Akte]",
            "Jetzt [30|60|90] Tage kostenlos testen",
            "Onlinezugangsgesetz: Sind Sie vorbereitet?",
        ),
        (
            "[die Digitalisierung|das Onlinezugangsgesetz] [stellt Verwaltungen vor große "
            "Aufgaben|verlangt schnelle Lösungen]. [Mit unserer Lösung|Mit {prod}|Mit unserer "
            "Unterstützung|Dank {prod}] [gelingt der Umstieg|digitalisieren Sie Ihre "
            "Abläufe|gelingt die Umstellung|laufen Ihre Verfahren digital] [in wenigen "
            "Wochen|ohne großen Aufwand|reibungslos|ohne Unterbrechung des Betriebs].",
            "[wussten Sie|ist Ihnen bekannt], dass [über 300 Kommunen|bereits zahlreiche "
            "Landkreise] [auf {prod} setzen|mit {prod} arbeiten]? [Überzeugen Sie sich "
            "selbst|Testen Sie unverbindlich].",
        ),
        (
            "- [Rechtssicher|Revisionssicher] nach [GoBD|TR-RESISCAN]",
            "- Schnittstellen zu [allen gängigen Fachverfahren|XÖV-Standards]",
            "- [Hosting|Betrieb] in einem deutschen Rechenzentrum",
            "- [Schulungen|Einführung] [vor Ort und online|inklusive]",
            "- [Barrierefrei|BITV-konform] [und mobil nutzbar|]",
        ),
        (
            ("{prod} Basislizenz je Arbeitsplatz", 9900, 24900),
            ("Einrichtung und Datenübernahme", 150000, 490000),
            ("Schulungstag vor Ort", 89000, 149000),
            ("Wartung und Support, jährlich", 120000, 390000),
            ("Modul Posteingang und Scannen", 49000, 129000),
        ),
    ),
    _Offer(
        (
            "Verwaltungsakademie {last}",
            "Kommunales Bildungswerk {town}",
            "Seminare für die Verwaltung {last} GmbH",
        ),
        (
            "Seminarprogramm {y} für Kommunalverwaltungen",
            "Einladung zum Fachseminar [Vergaberecht|Wohngeldrecht|Datenschutz]",
            "Noch Plätze frei: [Webinar|Seminar] am {f}",
            "Fortbildung [Baurecht|Verwaltungsrecht|Gebührenrecht] kompakt",
        ),
        (
            "[unser neues Seminarprogramm|unsere Fortbildungen] [richtet sich|richten sich] "
            "an [Beschäftigte in Kommunalverwaltungen|Sachbearbeiterinnen und "
            "Sachbearbeiter]. [Praxisnah|Kompakt] und [aktuell|von erfahrenen Referenten].",
            "[gesetzliche Änderungen|neue Vorschriften] [erfordern|verlangen] [ständige "
            "Weiterbildung|aktuelles Wissen]. [Wir bieten|Unsere Akademie bietet|Im "
            "Programm finden Sie|Bei uns gibt es] [Seminare|Schulungen|Kurse|Workshops] [in "
            "Präsenz und online|an vielen Standorten|auch als Inhouse-Format|in kleinen "
            "Gruppen].",
        ),
        (
            "- [Erfahrene Referenten|Referenten aus der Praxis]",
            "- [Teilnahmebescheinigung|Zertifikat] inklusive",
            "- [Inhouse-Schulungen|Schulungen in Ihrem Haus] möglich",
            "- [Frühbucherrabatt|Rabatt] von 10 % bis {f}",
            "- [Kleine Gruppen|Maximal 15 Teilnehmende]",
        ),
        (
            ("Seminar Vergaberecht kompakt", 29000, 49000),
            ("Webinar Datenschutz in der Verwaltung", 14900, 24900),
            ("Wohngeld aktuell", 24900, 39000),
            ("Bescheidtechnik und Widerspruchsverfahren", 29000, 45000),
            ("Gebührenrecht für Praktiker", 24900, 39900),
            ("Führen in der Verwaltung", 59000, 89000),
        ),
    ),
    _Offer(
        ("Autohaus {last} GmbH", "{last} Fahrzeugleasing GmbH", "Flottenservice {town}"),
        (
            "Elektromobilität für Ihre Verwaltung",
            "Behördenleasing: Sonderkonditionen {y}",
            "Ihr neuer Dienstwagen – jetzt elektrisch",
        ),
        (
            "[stellen Sie Ihre Dienstwagenflotte|stellen Sie Ihren Fuhrpark] [jetzt|noch in "
            "diesem Jahr] auf [Elektrofahrzeuge|E-Mobilität] um – [mit attraktiven "
            "Leasingraten|zu Sonderkonditionen für Behörden].",
            "[der Klimaschutz|die Verkehrswende] [beginnt|fängt] [im eigenen Fuhrpark an|vor "
            "der eigenen Tür]. [Wir beraten Sie|Wir unterstützen Sie] [gern|unverbindlich].",
        ),
        (
            "- [Wartung und Reifen|Service und Versicherung] inklusive",
            "- [Ladeinfrastruktur|Wallboxen] aus einer Hand",
            "- [Probefahrt|Testwochen] für Ihre Mitarbeitenden",
            "- [Laufzeiten|Vertragslaufzeiten] von 24 bis 60 Monaten",
        ),
        (
            ("Kleinwagen elektrisch, Leasingrate monatlich", 19900, 32900),
            ("Kompaktklasse elektrisch, monatlich", 29900, 44900),
            ("Transporter elektrisch, monatlich", 39900, 59900),
            ("Wallbox inklusive Installation", 149000, 249000),
        ),
    ),
)


def _werbung(rng: random.Random, ctx: _Ctx) -> _Letter:
    offer = rng.choice(_OFFERS)
    sender = _org(
        rng,
        offer.names,
        (
            "Vertrieb",
            "Kundenberater{r}",
            "Key Account Manager{r}",
            "Geschäftsführer{r}",
            "Ihr Vertriebsteam",
        ),
    )
    product = rng.choice(("eAkte Pro", "CivitasDoc", "KommunalPortal", "AktenWerk", "DigiAmt"))
    values: dict[str, object] = {
        "f": _de(ctx.date + dt.timedelta(days=rng.randint(14, 45))),
        "y": ctx.year,
        "prod": product,
    }
    subject = [_one(rng, offer.subjects, **values)]
    body: list[_Item] = [_one(rng, offer.hooks, **values)]
    body.append(_Lines(tuple(_some(rng, offer.features, 3, 5, **values))))
    unit = rng.choice(("€", "EUR"))
    if rng.random() < 0.6 or ctx.extent > 1:
        if ctx.extent == 1:
            picks = rng.sample(list(offer.products), min(len(offer.products), rng.randint(2, 4)))
        else:
            picks = [rng.choice(offer.products) for _ in range(rng.randint(14, 26))]
        rows: list[tuple[str, ...]] = []
        for name, low, high in picks:
            name = _say(rng, name, **values)
            if ctx.extent > 1:
                when = _de(ctx.date + dt.timedelta(days=rng.randint(10, 300)))
                name = f"{name}, {rng.choice(('Termin', 'ab', 'Start'))} {when}"
            price = rng.randint(low, high) // 100 * 100 - rng.choice((0, 10, 100))
            rows.append((name, _eur(price, unit)))
        body.append(
            _one(
                rng,
                (
                    "[Unsere Angebote|Unser Angebot] [im Überblick|für Sie]:",
                    "[Auszug aus unserem Programm|Beispiele aus unserem Sortiment]:",
                    "Preise [zzgl. MwSt.|netto|inkl. MwSt.]:",
                ),
            )
        )
        # Name and price on one run: a lone column of prices reads apart from the names.
        join = rng.choice((": ", " – ", " für "))
        body.append(_Lines(tuple(f"- {name}{join}{price}" for name, price in rows)))

    body.extend(
        _some(
            rng,
            (
                "[Bestellen Sie|Melden Sie sich] [bis zum {f}|noch heute] [unter|auf] {web} "
                "[oder telefonisch unter {ph}|].",
                "Ihr [Gutscheincode|Aktionscode]: {code} [– einfach bei der Bestellung angeben|].",
                "[Wir freuen uns auf Ihre Anfrage|Wir beraten Sie gerne persönlich|Rufen Sie "
                "uns an – wir freuen uns auf Sie]!",
                "[Sie möchten keine Werbung mehr erhalten?|Keine weiteren Angebote "
                "gewünscht?|Kein Interesse an Post von uns?|Genug von unseren Angeboten?] [Dann "
                "genügt eine kurze Nachricht an|Schreiben Sie einfach an|Eine E-Mail an {mail} "
                "genügt:|Ein kurzer Hinweis an {mail} reicht:] {mail}.",
            ),
            2,
            4,
            web=sender.web or sender.email,
            ph=sender.phone,
            mail=sender.email,
            code=f"{rng.choice(('KOMMUNE', 'AMT', 'KREIS'))}{ctx.year % 100}{rng.randint(10, 99)}",
            **values,
        )
    )
    recipient = _recipient(rng, "zentral")
    letter = _Letter(
        doc_type="werbung",
        sender=sender,
        recipient=recipient,
        date=ctx.date,
        date_line=rng.choice(
            (
                _de_long(ctx.date),
                f"{sender.town}, im {_MONTHS[ctx.date.month - 1]} {ctx.year}",
                _de(ctx.date),
            )
        ),
        refs=[],
        subject=subject,
        body=body,
        salutation=rng.choice(
            ("Sehr geehrte Damen und Herren,", "Guten Tag,", "Liebe Kundinnen und Kunden,", None)
        ),
        closing=_closing(rng, sender),
        footer=_org_footer(rng, sender, None, "", "")[:2] if rng.random() < 0.7 else [],
        return_line=_return_line(rng, sender) if rng.random() < 0.8 else None,
    )
    return letter


def _sonstiges(rng: random.Random, ctx: _Ctx) -> _Letter:
    kind = rng.choice(("einladung", "dank", "umzug", "vorstand"))
    values: dict[str, object] = {
        "d": _de_long(_workday(ctx.date + dt.timedelta(days=rng.randint(20, 60)))),
        "h": f"{rng.randint(10, 19)}:{rng.choice(('00', '30'))}",
        "n": rng.choice((10, 25, 40, 50, 75, 100, 125)),
        "f": _de(ctx.date + dt.timedelta(days=rng.randint(10, 30))),
        "t": rng.choice(_TOWNS)[1],
        "past": _de(ctx.date - dt.timedelta(days=rng.randint(7, 60))),
    }
    appendix: list[_Item] = []
    iban = None
    person = rng.random() < 0.35 and kind in ("dank", "umzug")
    if person:
        sender = _citizen(rng)
    else:
        sender = _org(
            rng,
            (
                "Sportverein {town} 1921 e.V.",
                "Förderverein der Grundschule {town} e.V.",
                "Freiwillige Feuerwehr {town} – Förderverein",
                "Heimatverein {town} e.V.",
                "{last} Bauunternehmung GmbH",
                "Partnerschaftskomitee {town} e.V.",
                "Musikverein Harmonie {town} e.V.",
                "Tafel {town} e.V.",
            ),
            (
                "Vorsitzende{e}",
                "1. Vorsitzende{e}",
                "Schriftführer{r}",
                "Geschäftsführer{r}",
                "Kassierer{r}",
            ),
        )
    if kind == "einladung":
        event, event_acc = rng.choice(
            (
                (
                    f"unserem {values['n']}-jährigen Jubiläum",
                    f"unser {values['n']}-jähriges Jubiläum",
                ),
                ("unserem Sommerfest", "unser Sommerfest"),
                (
                    "der Einweihung unseres neuen Vereinsheims",
                    "die Einweihung unseres neuen Vereinsheims",
                ),
                ("unserem Neujahrsempfang", "unseren Neujahrsempfang"),
                ("unserer Jahreshauptversammlung", "unsere Jahreshauptversammlung"),
            )
        )
        subject = [
            _one(rng, ("Einladung zu {e}", "Einladung", "Herzliche Einladung zu {e}"), e=event)
        ]
        body: list[_Item] = [
            _one(
                rng,
                (
                    "[wir laden Sie|hiermit laden wir Sie] [herzlich|sehr herzlich] zu {e} am "
                    "{d} um {h} Uhr [ein|in {t} ein].",
                    "am {d} [feiern wir|begehen wir|veranstalten wir] {e2}. [Dazu|Hierzu] "
                    "[möchten wir Sie herzlich einladen|laden wir Sie herzlich ein].",
                ),
                e=event,
                e2=event_acc,
                **values,
            ),
            _one(
                rng,
                (
                    "[Wir würden uns freuen|Es wäre uns eine Ehre|Wir fänden es schön|Es "
                    "würde uns sehr freuen], [wenn der Landrat ein Grußwort sprechen "
                    "würde|wenn Sie oder eine Vertretung der Kreisverwaltung ein kurzes Grußwort "
                    "halten könnten|wenn die Kreisverwaltung einige Worte an die Gäste "
                    "richten würde|wenn jemand aus dem Kreishaus ein paar Worte sagen könnte].",
                    "[Neben einem kleinen Imbiss|Bei Musik und Imbiss|Bei Kaffee und "
                    "Kuchen|Neben Getränken und Snacks] [erwartet Sie ein buntes "
                    "Programm|bieten wir Einblicke in unsere Arbeit|gibt es Führungen und "
                    "Gespräche|stellen wir unsere Projekte vor].",
                ),
            ),
            _one(
                rng,
                (
                    "[Bitte geben Sie uns bis zum {f} Bescheid|Wir bitten bis {f} um eine "
                    "kurze Rückmeldung], [ob Sie teilnehmen können|mit wie vielen Personen "
                    "Sie kommen].",
                ),
                **values,
            ),
        ]
        if ctx.extent > 1:
            appendix = [_Break(), _Heading("Programm", centred=True)]
            hour = 10
            rows = []
            events = [
                "Begrüßung durch den Vorsitzenden",
                "Grußworte der Gäste",
                "Festvortrag",
                "Ehrungen langjähriger Mitglieder",
                "Musikalischer Beitrag",
                "Mittagessen",
                "Kinderprogramm",
                "Führung über das Gelände",
                "Podiumsdiskussion",
                "Kaffee und Kuchen",
                "Tombola",
                "Ausklang",
            ]
            for item in sorted(rng.sample(events, rng.randint(8, 12)), key=events.index):
                rows.append(f"{item} ({hour}:{rng.choice(('00', '15', '30', '45'))} Uhr)")
                hour += 1
            appendix.append(_Lines(tuple(rows)))
    elif kind == "dank":
        subject = [
            _one(
                rng,
                (
                    "Vielen Dank",
                    "Dankschreiben",
                    "Ein herzliches Dankeschön",
                    "Dank für Ihre Unterstützung",
                ),
            )
        ]
        body = [
            _one(
                rng,
                (
                    "[ich möchte mich|wir möchten uns] [auf diesem Weg|herzlich] bei Ihnen "
                    "[und Ihrem Team|und den Mitarbeitenden der {dep}] bedanken.",
                    "[mit diesem Schreiben|heute] [möchte ich|möchten wir] [Danke "
                    "sagen|einmal Danke sagen] für [die schnelle Hilfe|die Unterstützung] am "
                    "{past}.",
                ),
                dep=rng.choice(
                    (
                        "Zulassungsstelle",
                        "Wohngeldstelle",
                        "Bauaufsicht",
                        "Ausländerbehörde",
                        "Straßenmeisterei",
                    )
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Ihre Mitarbeiterin|Ihr Mitarbeiter] [hat sich sehr viel Zeit "
                    "genommen|war ausgesprochen freundlich] und [alle Fragen geduldig "
                    "beantwortet|uns unbürokratisch geholfen].",
                    "[Dank Ihrer Unterstützung|Mit Ihrer Hilfe] [konnte unser Projekt|konnten "
                    "wir das Fest] [erfolgreich umgesetzt werden|wie geplant stattfinden].",
                    "[Der Zuschuss|Die Förderung] von {eur} hat [sehr geholfen|den Kauf neuer "
                    "Trikots ermöglicht|die Renovierung erst möglich gemacht].",
                ),
                eur=_eur(rng.randint(5, 50) * 10_000),
            ),
            _one(
                rng,
                (
                    "[Das ist|So etwas ist|Diese Hilfsbereitschaft ist|Ein solcher Einsatz ist] "
                    "[nicht selbstverständlich|heute leider nicht selbstverständlich|keineswegs "
                    "alltäglich|bemerkenswert].",
                    "[Bitte geben Sie|Geben Sie bitte] [unseren Dank|diesen Dank] [an alle "
                    "Beteiligten|an die Kolleginnen und Kollegen] weiter.",
                ),
            ),
        ]
    elif kind == "umzug":
        new_street = _street(rng)
        zip_code, town = rng.choice(_TOWNS)
        subject = [
            _one(
                rng,
                (
                    "Mitteilung über neue Anschrift",
                    "Adressänderung",
                    "Wir sind umgezogen",
                    "Änderung unserer Anschrift ab {f}",
                ),
                **values,
            )
        ]
        body = [
            _one(
                rng,
                (
                    "[bitte beachten Sie|wir möchten Ihnen mitteilen], dass [sich unsere "
                    "Anschrift|sich meine Anschrift|unsere Geschäftsräume] [ab dem {f}|zum "
                    "{f}] [ändert|ändern].",
                    "[ab dem {f}|seit dem {f}] [sind wir|bin ich] unter [einer neuen "
                    "Anschrift|folgender Adresse] erreichbar:",
                ),
                **values,
            ),
            _Lines((new_street, f"{zip_code} {town}"), indent=10),
            _one(
                rng,
                (
                    "[Bitte passen Sie die Anschrift|Bitte passen Sie die Adresse] [in Ihren "
                    "Unterlagen|in Ihrem System] [entsprechend|] an.",
                    "[Wir bitten Sie,|Bitte denken Sie daran,] die Anschrift [in Ihren "
                    "Unterlagen|in Ihrem System] [zu aktualisieren|zu ändern].",
                    "[Telefonnummer und E-Mail-Adresse|Alle anderen Kontaktdaten] [bleiben "
                    "unverändert|ändern sich nicht].",
                ),
            ),
        ]
        if rng.random() < 0.3:
            iban = _iban(rng)
            body.append(
                _one(
                    rng,
                    (
                        "[Gleichzeitig|Außerdem] [hat sich unsere Bankverbindung "
                        "geändert|gilt eine neue Bankverbindung]: IBAN {i}.",
                    ),
                    i=_grouped(iban),
                )
            )
    else:
        chair = _person(rng)
        subject = [
            _one(
                rng,
                (
                    "Neuer Vorstand",
                    "Mitteilung über den Wechsel im Vorstand",
                    "Neue Ansprechpartner",
                ),
            )
        ]
        body = [
            _one(
                rng,
                (
                    "[in der Mitgliederversammlung|bei der Jahreshauptversammlung] am {past} "
                    "[wurde ein neuer Vorstand gewählt|haben sich Änderungen im Vorstand "
                    "ergeben].",
                ),
                **values,
            ),
            _one(
                rng,
                (
                    "[Neue|Neuer] [Vorsitzende|Vorsitzender] ist {c}, "
                    "[Stellvertretung|stellvertretend] {c2}.",
                    "[Zum Vorsitz gewählt wurde|Den Vorsitz übernimmt] {c}; [die Kasse "
                    "führt|Kassenwart ist] {c2}.",
                ),
                c=chair.name,
                c2=_person(rng).name,
            ),
            _one(
                rng,
                (
                    "[Bitte richten Sie|Richten Sie bitte] [künftige Schreiben|Ihre Post] an "
                    "[die neue Vorsitzende|den neuen Vorstand|die oben genannte Adresse].",
                    "[Wir freuen uns|Der neue Vorstand freut sich|Wir setzen|Der Vorstand setzt] "
                    "auf [die weitere Zusammenarbeit|eine gute Zusammenarbeit|ein gutes "
                    "Miteinander|den weiteren Austausch].",
                ),
            ),
        ]
    recipient = _recipient(rng, "allgemein")
    salutation = _salutation(rng, recipient)
    letter = _Letter(
        doc_type="sonstiges",
        sender=sender,
        recipient=recipient,
        date=ctx.date,
        date_line=_date_line(rng, sender.town, ctx.date, official=not sender.person),
        refs=[],
        subject=subject,
        body=body,
        salutation=salutation,
        closing=_closing(rng, sender, formal=False),
        appendix=appendix,
        return_line=_return_line(rng, sender) if rng.random() < 0.5 else None,
        footer=[]
        if sender.person or rng.random() < 0.5
        else [f"{sender.name} · {sender.street} · {sender.zip_town}", f"{sender.email}"],
        iban=iban,
    )
    if rng.random() < 0.1:
        letter.aktenzeichen = _aktenzeichen(rng, rng.choice(("10", "12", "15")), "AL", ctx.year)
        letter.refs = [f"{_az_label(rng)} {letter.aktenzeichen}"]
    return letter


_COMPOSERS: dict[str, Callable[[random.Random, _Ctx], _Letter]] = {
    "rechnung": _rechnung,
    "mahnung": _mahnung,
    "antrag": _antrag,
    "widerspruch": _widerspruch,
    "beschwerde": _beschwerde,
    "bewerbung": _bewerbung,
    "gericht": _gericht,
    "anfrage": _anfrage,
    "werbung": _werbung,
    "sonstiges": _sonstiges,
}


# --------------------------------------------------------------------------------------------
# Layout: where each line goes, decided at compose time so the ground truth is exact


def _mm(value: float) -> int:
    return round(value * DPI / 25.4)


@dataclass(frozen=True)
class _Style:
    family: str
    head_family: str
    size: int  # body font size in px (10-12 pt at 300 dpi)
    leading: float
    left: int
    right: int  # x of the right text edge
    top: int  # top of the body area on following pages
    bottom: int  # lowest y of the footer
    head_align: Literal["l", "r", "m"]
    head_top: int
    head_rule: bool
    addr_x: int
    addr_y: int
    info_column: bool  # references and date at info_x, else at the left margin
    info_x: int
    info_small: bool
    sep: str  # between the parts of a letterhead or footer line
    justify: bool
    fold_marks: bool
    subject_label: bool
    para_gap: float  # in lines
    small: int
    page_number: str  # "Seite {p} von {n}", "Seite {p}/{n}" or "- {p} -" (the latter on top)
    footer_centred: bool

    @property
    def width(self) -> int:
        return self.right - self.left


def _choose_style(rng: random.Random, letter: _Letter) -> _Style:
    family = rng.choice(FAMILIES)
    size = round(rng.choice((10, 10.5, 11, 11, 11.5, 12)) * DPI / 72)
    org = not letter.sender.person
    left = _mm(rng.uniform(20, 27))
    form_a = rng.random() < 0.4
    return _Style(
        family=family,
        head_family=rng.choice((family, family, *FAMILIES)),
        size=size,
        leading=rng.uniform(1.18, 1.38),
        left=left,
        right=PAGE_SIZE[0] - _mm(rng.uniform(15, 22)),
        top=_mm(rng.uniform(18, 25)),
        bottom=PAGE_SIZE[1] - _mm(rng.uniform(10, 16)),
        head_align=rng.choice(("l", "r", "m")) if org else rng.choice(("l", "r")),
        head_top=_mm(rng.uniform(10, 16)),
        head_rule=org and rng.random() < 0.4,
        addr_x=max(left, _mm(rng.uniform(20, 25))),
        addr_y=_mm(rng.uniform(29, 34) if form_a else rng.uniform(47, 52)),
        info_column=rng.random() < 0.25,
        info_x=_mm(rng.uniform(110, 130)),
        info_small=rng.random() < 0.5,
        sep=rng.choice((" · ", " | ", " | ", " - ", " - ", ", ", ", ")),
        justify=rng.random() < 0.35,
        fold_marks=rng.random() < (0.5 if org else 0.1),
        subject_label=rng.random() < 0.2,
        para_gap=rng.choice((0.5, 0.7, 1.0, 1.0)),
        small=max(_mm(2.9), round(size * rng.uniform(0.78, 0.86))),
        page_number=rng.choice(
            ("Seite {p} von {n}", "Seite {p} von {n}", "Seite {p}/{n}", "- {p} -")
        ),
        footer_centred=rng.random() < 0.5,
    )


@dataclass(frozen=True)
class _Run:
    text: str
    x: int
    y: int  # baseline
    family: str
    bold: bool
    size: int
    anchor: str = "ls"  # left, right ("rs") or centre ("ms") on the baseline
    underline: bool = False


@dataclass
class _Page:
    blocks: list[list[list[_Run]]] = field(default_factory=list)
    rules: list[tuple[int, int, int]] = field(default_factory=list)  # x0, y, x1
    marks: tuple[int, ...] = ()  # y of the fold and punch marks

    def text(self) -> str:
        return "\n\n".join(
            "\n".join(" ".join(run.text for run in line) for line in block)
            for block in self.blocks
            if block
        )


@dataclass(frozen=True)
class _Ln:
    """One line before placement: its runs (y is set on placement) and its height."""

    runs: tuple[_Run, ...]
    height: int
    ascent: int
    rule_above: tuple[int, int] | None = None
    rule_below: tuple[int, int] | None = None

    @property
    def total(self) -> int:
        """Height including the room its rules take."""
        return self.height + _RULE_PAD * (
            (self.rule_above is not None) + (self.rule_below is not None)
        )


_RULE_PAD = 20  # px kept free on the side of a line that carries a rule


class _Pager:
    """Flow a letter's blocks onto pages, the first with letterhead and address window."""

    def __init__(self, style: _Style, letter: _Letter) -> None:
        self.s = style
        self.letter = letter
        self.pages: list[_Page] = []
        footer_height = len(letter.footer) * self._lh(style.small) + (
            _mm(4) if letter.footer else 0
        )
        self.footer_top = style.bottom - footer_height
        self.limit = self.footer_top - self._lh(style.small) - _mm(4)
        self.y = 0
        self.fresh = True

    # -- lines ---------------------------------------------------------------------------
    def _lh(self, size: int) -> int:
        return round(size * self.s.leading)

    def _run(
        self,
        text: str,
        x: int,
        *,
        size: int | None = None,
        bold: bool = False,
        family: str | None = None,
        anchor: str = "ls",
        underline: bool = False,
    ) -> _Run:
        return _Run(
            text, x, 0, family or self.s.family, bold, size or self.s.size, anchor, underline
        )

    def _line(
        self, runs: Sequence[_Run], size: int | None = None, **rules: tuple[int, int] | None
    ) -> _Ln:
        size = size or max((run.size for run in runs), default=self.s.size)
        return _Ln(tuple(runs), self._lh(size), round(size * 0.82), **rules)

    def _blank(self, lines: float = 1.0) -> _Ln:
        return _Ln((), round(self._lh(self.s.size) * lines), 0)

    def _text(
        self,
        text: str,
        x: int,
        width: int,
        *,
        size: int | None = None,
        bold: bool = False,
        justify: bool = False,
        family: str | None = None,
    ) -> list[_Ln]:
        size = size or self.s.size
        family = family or self.s.family
        wrapped = _wrap(text, family, bold, size, width)
        lines = []
        for index, line in enumerate(wrapped):
            words = line.split(" ")
            if justify and index < len(wrapped) - 1 and len(words) > 1:
                natural = sum(_width(word, family, bold, size) for word in words)
                space = (width - natural) / (len(words) - 1)
                runs, cursor = [], float(x)
                for word in words:
                    runs.append(self._run(word, round(cursor), size=size, bold=bold, family=family))
                    cursor += _width(word, family, bold, size) + space
                lines.append(self._line(runs, size))
            else:
                lines.append(
                    self._line([self._run(line, x, size=size, bold=bold, family=family)], size)
                )
        return lines

    # -- placement -----------------------------------------------------------------------
    def _new_page(self) -> None:
        page = _Page()
        self.pages.append(page)
        self.y = self.s.top
        self.fresh = True
        if len(self.pages) == 1:
            return
        header: list[_Ln] = []
        if self.s.page_number.startswith("-"):
            text = self.s.page_number.format(p=len(self.pages), n="")
            run = self._run(text, PAGE_SIZE[0] // 2, anchor="ms")
            header.append(self._line([run]))
        if self.letter.cont_header:
            header.append(
                self._line(
                    [self._run(self.letter.cont_header, self.s.left, size=self.s.small)],
                    self.s.small,
                    rule_below=(self.s.left, self.s.right),
                )
            )
        if header:
            self._put(header)
            self.y += _mm(6)
        self.fresh = True

    def _put(self, lines: Sequence[_Ln], block: list[list[_Run]] | None = None) -> list[list[_Run]]:
        """Place lines at the cursor without page breaks, as one block."""
        page = self.pages[-1]
        if block is None:
            block = []
            page.blocks.append(block)
        for line in lines:
            top = self.y + (_RULE_PAD if line.rule_above else 0)
            baseline = top + line.ascent
            block.append([dataclasses.replace(run, y=baseline) for run in line.runs])
            if line.rule_above:
                page.rules.append((line.rule_above[0], self.y + _RULE_PAD // 3, line.rule_above[1]))
            if line.rule_below:
                below = baseline + round(line.ascent * 0.28) + _RULE_PAD // 2
                page.rules.append((line.rule_below[0], below, line.rule_below[1]))
            self.y += line.total

        return block

    def _flow(
        self, lines: Sequence[_Ln], *, keep: bool = False, header: Sequence[_Ln] = ()
    ) -> None:
        """Place lines in the body area, breaking pages where it is full."""
        if keep and not self.fresh and self.y + sum(line.total for line in lines) > self.limit:
            self._new_page()
        block: list[list[_Run]] | None = None
        for line in lines:
            if self.y + line.total > self.limit and not self.fresh:
                self._new_page()
                block = self._put(header) if header else None
            if not line.runs and self.fresh:
                continue  # no blank lines at the top of a page
            block = self._put([line], block)
            self.fresh = False

    def _gap(self, lines: float) -> None:
        if not self.fresh:
            self.y += round(self._lh(self.s.size) * lines)

    # -- the letter ----------------------------------------------------------------------
    def layout(self) -> list[_Page]:
        """Lay the whole letter out and return its pages."""
        self._new_page()
        self._first_page_head()
        s, letter = self.s, self.letter
        for item in letter.body:
            self._item(item)
        if letter.closing:
            self._gap(s.para_gap + 0.3)
            closing: list[_Ln] = []
            for text in letter.closing:
                if text:
                    closing.extend(self._text(text, s.left, s.width))
                else:
                    closing.append(self._blank(1.8))
            self._flow(closing, keep=True)
        if letter.enclosures:
            self._gap(1.0)
            lines = [ln for text in letter.enclosures for ln in self._text(text, s.left, s.width)]
            self._flow(lines, keep=True)
        for item in letter.appendix:
            self._item(item)
        self._finish()
        return self.pages

    def _first_page_head(self) -> None:
        s, letter, sender = self.s, self.letter, self.letter.sender
        # Letterhead (or the private sender's address block).
        if letter.head is not None:
            head = letter.head
        elif sender.person:
            head = [sender.name, sender.street, sender.zip_town]
            head += [
                x for x in (f"Tel. {sender.phone}" if sender.phone else None, sender.email) if x
            ]
        else:
            contact = " · ".join(x for x in (f"Tel. {sender.phone}", sender.email) if x)
            head = [sender.name, f"{sender.street} · {sender.zip_town}", contact]
            if sender.web:
                head.append(sender.web)
        x, anchor = {"l": (s.left, "ls"), "r": (s.right, "rs"), "m": (PAGE_SIZE[0] // 2, "ms")}[
            s.head_align
        ]
        self.y = s.head_top
        lines: list[_Ln] = []
        head = [text.replace(" · ", s.sep) for text in head]
        for index, text in enumerate(head):
            if sender.person:
                size, bold, family = s.size, index == 0, s.family
            elif index == 0:
                size, bold, family = round(s.size * 1.5), True, s.head_family
                while _width(text, family, True, size) > s.width and size > s.size:
                    size -= 2
            else:
                size, bold, family = s.small, False, s.head_family
            lines.append(
                self._line(
                    [self._run(text, x, size=size, bold=bold, family=family, anchor=anchor)], size
                )
            )
        if s.head_rule:
            last = lines[-1]
            lines[-1] = dataclasses.replace(last, rule_below=(s.left, s.right))
        self._put(lines)
        head_bottom = self.y
        # Address window: return line, then the recipient.
        self.y = max(s.addr_y, head_bottom + _mm(6))
        window = _mm(85)
        address: list[_Ln] = []
        if letter.return_line:
            size = s.small
            back = letter.return_line.replace(" · ", s.sep)
            while _width(back, s.family, False, size) > window and size > _mm(2.6):
                size -= 1
            address.append(self._line([self._run(back, s.addr_x, size=size, underline=True)], size))
            address.append(_Ln((), _mm(2), 0))
        recipient_size = s.size
        for text in letter.recipient.lines:
            address.append(
                self._line([self._run(text, s.addr_x, size=recipient_size)], recipient_size)
            )
        self._put(address)
        # Nothing stands beside the address or alone at the right: tesseract reads such
        # text now across, now as a column, now after the subject, so no truth fits.
        self.y += _mm(8)
        info_size = s.small if s.info_small else s.size
        info = [*letter.refs, letter.date_line]
        info_width = max(_width(text, s.family, False, info_size) for text in info)
        x = s.info_x if s.info_column and s.info_x + info_width <= s.right else s.left
        self._put([self._line([self._run(t, x, size=info_size)], info_size) for t in info])
        self.y += _mm(10)
        self.fresh = False
        # Subject line(s), bold.
        subject = list(letter.subject)
        if s.subject_label:
            subject[0] = f"Betreff: {subject[0]}"
        lines = [ln for text in subject for ln in self._text(text, s.left, s.width, bold=True)]
        self._flow(lines)
        self._gap(1.0)
        if letter.salutation:
            self._flow(self._text(letter.salutation, s.left, s.width))
            self._gap(s.para_gap)

    def _item(self, item: _Item) -> None:
        s = self.s
        if isinstance(item, str):
            self._flow(self._text(item, s.left, s.width, justify=s.justify))
            self._gap(s.para_gap)
        elif isinstance(item, _Lines):
            x = s.left + _mm(item.indent)
            lines = [
                ln for text in item.lines for ln in self._text(text, x, s.right - x, bold=item.bold)
            ]
            self._flow(lines, keep=len(lines) <= 8)
            self._gap(s.para_gap)
        elif isinstance(item, _Heading):
            self._gap(0.5)
            size = round(s.size * 1.1)
            x, anchor = (PAGE_SIZE[0] // 2, "ms") if item.centred else (s.left, "ls")
            run = self._run(item.text, x, size=size, bold=True, anchor=anchor)
            self._flow([self._line([run], size)], keep=True)
            self._gap(0.4)
        elif isinstance(item, _Break):
            if not self.fresh:
                self._new_page()
        else:
            self._table(item)
            self._gap(s.para_gap)

    def _table(self, table: _Table) -> None:
        s = self.s
        size = s.size if s.size <= _mm(3.9) else s.size - 2
        gap = _mm(4)
        cells = [table.header, *table.rows] if table.header else list(table.rows)
        widths: list[float] = []
        for index, kind in enumerate(table.columns):
            texts = [row[index] for row in cells if index < len(row)]
            if index == len(table.columns) - 1:
                texts += [amount for _, amount, _ in table.totals]
            bold_width = max((_width(t, s.family, True, size) for t in texts), default=0.0)
            widths.append(0.0 if kind == "w" else bold_width)
        fixed = sum(widths) + gap * (len(widths) - 1)
        widths[table.columns.index("w")] = max(_mm(30), s.width - fixed)
        starts = []
        cursor = float(s.left)
        for width in widths:
            starts.append(cursor)
            cursor += width + gap
        wrap_index = table.columns.index("w")

        def row_lines(row: Sequence[str], bold: bool) -> list[_Ln]:
            wrapped = _wrap(row[wrap_index], s.family, bold, size, widths[wrap_index]) or [""]
            runs = []
            for index, kind in enumerate(table.columns):
                text = wrapped[0] if index == wrap_index else row[index]
                if not text:
                    continue
                if kind == "r":
                    runs.append(
                        self._run(
                            text,
                            round(starts[index] + widths[index]),
                            size=size,
                            bold=bold,
                            anchor="rs",
                        )
                    )
                else:
                    runs.append(self._run(text, round(starts[index]), size=size, bold=bold))
            lines = [self._line(runs, size)]
            for more in wrapped[1:]:
                lines.append(
                    self._line(
                        [self._run(more, round(starts[wrap_index]), size=size, bold=bold)], size
                    )
                )
            return lines

        header: list[_Ln] = []
        if table.header:
            header = row_lines(table.header, True)
            header[-1] = dataclasses.replace(header[-1], rule_below=(s.left, s.right))
        rows = [row_lines(row, False) for row in table.rows]
        totals: list[_Ln] = []
        for index, (label, amount, bold) in enumerate(table.totals):
            amount_run = self._run(amount, s.right, size=size, bold=bold, anchor="rs")
            if table.rows:
                label_run = self._run(
                    label, round(starts[-2] + widths[-2]), size=size, bold=bold, anchor="rs"
                )
            else:
                label_run = self._run(label, s.left, size=size, bold=bold)
            rule = (round(starts[-2] - widths[-2] * 0.2) if table.rows else s.left, s.right)
            totals.append(
                self._line(
                    [label_run, amount_run],
                    size,
                    rule_above=rule
                    if (index == 0 and table.rows) or (bold and not table.rows)
                    else None,
                )
            )
        # A table starts on a new page rather than leave its header and a row alone.
        lead = sum(line.total for line in [*header, *(ln for row in rows[:2] for ln in row)])
        if not self.fresh and self.y + lead > self.limit:
            self._new_page()
        block = self._put(header) if header else None
        for row in rows:
            if self.y + sum(line.total for line in row) > self.limit:
                self._new_page()
                block = self._put(header) if header else None
            block = self._put(row, block)
        self.fresh = False
        self._flow(totals, keep=True)

    def _finish(self) -> None:
        s = self.s
        count = len(self.pages)
        small_lh = self._lh(s.small)
        for number, page in enumerate(self.pages, 1):
            if count > 1 and not s.page_number.startswith("-"):
                text = s.page_number.format(p=number, n=count)
                run = dataclasses.replace(
                    self._run(text, s.right, size=s.small, anchor="rs"), y=self.footer_top - _mm(3)
                )
                page.blocks.append([[run]])
            if self.letter.footer:
                x, anchor = (PAGE_SIZE[0] // 2, "ms") if s.footer_centred else (s.left, "ls")
                block = []
                for index, line in enumerate(self.letter.footer):
                    text = line.replace(" · ", s.sep)
                    size = s.small
                    while _width(text, s.family, False, size) > s.width and size > _mm(2.4):
                        size -= 1
                    y = self.footer_top + _mm(4) + index * small_lh + round(s.small * 0.82)
                    block.append(
                        [dataclasses.replace(self._run(text, x, size=size, anchor=anchor), y=y)]
                    )
                page.blocks.append(block)
                page.rules.append((s.left, self.footer_top + _mm(1), s.right))
        if s.fold_marks and self.pages:
            form_a = s.addr_y < _mm(40)
            self.pages[0].marks = (
                (_mm(87), _mm(148.5), _mm(192)) if form_a else (_mm(105), _mm(148.5), _mm(210))
            )


# --------------------------------------------------------------------------------------------
# Composing: wording, fields and layout for one seed


@dataclass(frozen=True)
class _Draft:
    truth: GroundTruth
    pages: tuple[_Page, ...]


def _draft(doc_type: str, seed: int, subject: str | None, split: Split | None = None) -> _Draft:
    if doc_type not in _COMPOSERS:
        raise ValueError(
            f"unknown document type {doc_type!r}; expected one of {', '.join(DOC_TYPES)}"
        )
    if subject is not None and (doc_type != "antrag" or subject not in ANTRAG_SUBJECTS):
        raise ValueError(
            f"subject {subject!r} needs doc_type 'antrag' and one of {', '.join(ANTRAG_SUBJECTS)}"
        )
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    # A string seed is hashed with SHA-512 by random, so it is stable across runs and machines.
    key = f"postroom-samples:{doc_type}:{seed}"
    rng = random.Random(key) if split is None else _SplitRandom(key, split)
    day = _workday(dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 320)))
    roll = rng.random()
    extent = 1 if roll < 0.74 else 2 if roll < 0.93 else 3
    letter = _COMPOSERS[doc_type](rng, _Ctx(day, extent, subject))
    if letter.salutation is None and letter.body and isinstance(letter.body[0], str):
        # Openings are written to follow "Sehr geehrte …," and start in lower case.
        letter.body[0] = _cap(letter.body[0])
    style = _choose_style(rng, letter)
    pages = tuple(_Pager(style, letter).layout())
    formats = (
        FORMATS if len(pages) == 1 else tuple(f for f in FORMATS if f not in SINGLE_PAGE_FORMATS)
    )
    fmt = _unsplit_choice(rng, formats)
    truth = GroundTruth(
        name=f"{doc_type}-{seed}{SUFFIXES[fmt]}",
        doc_type=doc_type,
        subject=letter.topic,
        format=fmt,
        pages=tuple(page.text() for page in pages),
        sender=letter.sender.name,
        date=letter.date.isoformat(),
        aktenzeichen=letter.aktenzeichen,
        iban=letter.iban,
        amount_total=None if letter.amount_cents is None else letter.amount_cents / 100,
        invoice_number=letter.invoice_number,
        customer_number=letter.customer_number,
        split=split,
    )
    return _Draft(truth, pages)


def compose(
    doc_type: str, seed: int, subject: str | None = None, split: Split | None = None
) -> GroundTruth:
    """Compose one letter's text, fields and page breaks for a seed, without rendering it.

    ``split`` (``train`` or ``test``) draws wording and layout from that half only; None
    draws from all of it.
    """
    return _draft(doc_type, seed, subject, split).truth


# --------------------------------------------------------------------------------------------
# Rendering: draw the pages, then make them look scanned


def _plain_pages(truth: GroundTruth, seed: int) -> tuple[_Page, ...]:
    """Set a ground truth not composed from this seed as plain left-aligned lines."""
    rng = random.Random(f"postroom-plain:{seed}")
    family = rng.choice(FAMILIES)
    left, top = _mm(25), _mm(20)
    width, height = PAGE_SIZE[0] - left - _mm(20), PAGE_SIZE[1] - top - _mm(20)
    pages = []
    for text in truth.pages:
        lines = text.split("\n")
        size = round(11 * DPI / 72)
        while size > 24 and (
            max(_width(line, family, False, size) for line in lines) > width
            or len(lines) * size * 1.25 > height
        ):
            size -= 1
        page = _Page()
        block: list[list[_Run]] = []
        y = top
        for line in lines:
            y += round(size * 1.25)
            block.append([_Run(line, left, y, family, False, size)] if line else [])
        page.blocks.append(block)
        pages.append(page)
    return tuple(pages)


def _draw(page: _Page) -> Image.Image:
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    for block in page.blocks:
        for line in block:
            for run in line:
                font = _font(run.family, run.bold, run.size)
                draw.text((run.x, run.y), run.text, font=font, fill=0, anchor=run.anchor)
                if run.underline:
                    x0, _, x1, _ = draw.textbbox(
                        (run.x, run.y), run.text, font=font, anchor=run.anchor
                    )
                    draw.line((x0, run.y + 6, x1, run.y + 6), fill=0, width=2)
    for x0, y, x1 in page.rules:
        draw.line((x0, y, x1, y), fill=0, width=3)
    for y in page.marks:
        draw.line((_mm(4), y, _mm(9), y), fill=0, width=3)
    return image


def _scan(image: Image.Image, rng: random.Random) -> Image.Image:
    """Make a clean page look scanned: paper tone, dust, skew and a little blur."""
    paper = rng.randint(234, 250)
    ink = rng.randint(8, 45)
    scanned = image.point([round(ink + (paper - ink) * v / 255) for v in range(256)])
    draw = ImageDraw.Draw(scanned)
    width, height = scanned.size
    # Dust stays sparse and light: darker specks between lines make tesseract misread words.
    for _ in range(rng.randint(15, 90)):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.choice((1, 1, 1, 2))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randint(120, paper - 50))
    if rng.random() < 0.4:
        # A faint shadow along one edge, where the lid of a flatbed scanner leaves one.
        band = rng.randint(6, 24)
        box = rng.choice(
            ((0, 0, width, band), (0, 0, band, height), (width - band, 0, width, height))
        )
        draw.rectangle(box, fill=rng.randint(150, 215))
    angle = rng.uniform(-1.0, 1.0)
    scanned = scanned.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=paper)
    return scanned.filter(ImageFilter.GaussianBlur(rng.uniform(0.35, 0.8)))


_TRANSPOSE = {
    90: Image.Transpose.ROTATE_270,  # PIL turns counter-clockwise; the truth counts clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}


def render_pages(truth: GroundTruth, seed: int, rotation: int = 0) -> list[Image.Image]:
    """Render a letter's pages as 300 dpi grayscale scans, rotated clockwise by ``rotation``.

    The layout is the one composed from ``truth.doc_type``, ``seed`` and ``truth.split``; a
    truth these do not reproduce (edited, or composed from another seed) is set as plain lines.
    """
    if rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be 0, 90, 180 or 270, not {rotation}")
    pages: tuple[_Page, ...]
    if truth.doc_type in _COMPOSERS:
        draft = _draft(truth.doc_type, seed, truth.subject, truth.split)
        pages = draft.pages if draft.truth.pages == truth.pages else _plain_pages(truth, seed)
    else:
        pages = _plain_pages(truth, seed)
    images = []
    for number, page in enumerate(pages, 1):
        rng = random.Random(f"postroom-scan:{truth.doc_type}:{seed}:{number}")
        image = _scan(_draw(page), rng)
        if rotation:
            image = image.transpose(_TRANSPOSE[rotation])
        image.info["dpi"] = (DPI, DPI)
        images.append(image)
    return images


# --------------------------------------------------------------------------------------------
# Writing files


def _bilevel(image: Image.Image) -> Image.Image:
    return image.point([255 if v > 160 else 0 for v in range(256)], mode="1")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(DPI, DPI))
    return buffer.getvalue()


def _g4(image: Image.Image) -> bytes:
    bilevel = _bilevel(image)
    buffer = io.BytesIO()
    # img2pdf passes a G4 TIFF through untouched only if it holds one strip.
    strip = (bilevel.width + 7) // 8 * bilevel.height
    bilevel.save(buffer, "TIFF", compression="group4", dpi=(DPI, DPI), strip_size=strip)
    return buffer.getvalue()


def _pdf(images: Sequence[bytes], truth: GroundTruth) -> bytes:
    # Fixed dates (the letter's own) and img2pdf's own writer keep the bytes reproducible.
    day = dt.date.fromisoformat(truth.date) if truth.date else dt.date(2026, 1, 1)
    stamp = dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.UTC)
    data = img2pdf.convert(
        list(images),
        layout_fun=img2pdf.get_fixed_dpi_layout_fun((DPI, DPI)),
        creationdate=stamp,
        moddate=stamp,
        engine=img2pdf.Engine.internal,
    )
    return bytes(data)


def _tiff(images: Sequence[Image.Image], compression: str) -> bytes:
    frames = [_bilevel(image) for image in images] if compression == "group4" else list(images)
    buffer = io.BytesIO()
    frames[0].save(
        buffer,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression=compression,
        dpi=(DPI, DPI),
    )
    return buffer.getvalue()


def _single(image: Image.Image, fmt: str, quality: int) -> bytes:
    if fmt == "jpeg":
        return _jpeg(image, quality)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def write_letter(
    truth: GroundTruth,
    pages: list[Image.Image],
    path: Path,
    *,
    tiff_compression: str | None = None,
) -> Path:
    """Write rendered pages to ``path`` in ``truth.format``, atomically, and return the path.

    ``tiff_compression`` is ``group4`` (bilevel) or ``tiff_lzw`` (grayscale); by default it
    follows the file name, so a run alternates between both.
    """
    fmt = truth.format
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not pages:
        raise ValueError(f"{truth.name}: no pages to write")
    if fmt in SINGLE_PAGE_FORMATS and len(pages) != 1:
        raise ValueError(f"{truth.name}: {fmt} holds one page, the letter has {len(pages)}")
    checksum = zlib.crc32(truth.name.encode())
    quality = 75 + checksum % 11
    if fmt == "pdf":
        data = _pdf([_jpeg(page, quality) for page in pages], truth)
    elif fmt == "pdf-g4":
        data = _pdf([_g4(page) for page in pages], truth)
    elif fmt == "tiff":
        compression = tiff_compression or ("group4" if checksum % 2 == 0 else "tiff_lzw")
        if compression not in ("group4", "tiff_lzw"):
            raise ValueError(f"tiff_compression must be group4 or tiff_lzw, not {compression!r}")
        data = _tiff(pages, compression)
    else:
        data = _single(pages[0], fmt, quality)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data)
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        # mkstemp makes the file private; sample letters are meant to be read by others.
        Path(temp).chmod(0o644)
        Path(temp).replace(path)

    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------
# A whole batch


def _rotations(count: int, share: float) -> list[int]:
    """Spread ``share`` of ``count`` letters evenly, turning them by 90, 180 and 270 in turn."""
    angles = []
    turned = 0
    for index in range(count):
        if int((index + 1) * share) > int(index * share):
            angles.append((90, 180, 270)[turned % 3])
            turned += 1
        else:
            angles.append(0)
    return angles


def _compose_fitting(
    doc_type: str, seed: int, fmt: str, fallback: Sequence[str], split: Split | None = None
) -> tuple[GroundTruth, int, str]:
    """Compose a letter for a format, switching format or seed when a single image can't hold it."""
    truth = compose(doc_type, seed, split=split)
    if fmt not in SINGLE_PAGE_FORMATS or len(truth.pages) == 1:
        return truth, seed, fmt
    if fallback:
        return truth, seed, fallback[seed % len(fallback)]
    # The caller asked only for single-image formats: draw one-page letters from a separate
    # seed space, so they never repeat another letter of the batch.
    for attempt in range(1, 1000):
        other = -(seed * 1000 + attempt)
        truth = compose(doc_type, other, split=split)
        if len(truth.pages) == 1:
            return truth, other, fmt
    raise RuntimeError(f"no one-page {doc_type} letter found near seed {seed}")


def generate(
    out_dir: Path,
    count: int,
    seed: int = 1,
    formats: Sequence[str] | None = None,
    doc_types: Sequence[str] | None = None,
    rotated_share: float = 0.0,
    split: Split | None = None,
) -> list[GroundTruth]:
    """Write ``count`` sample letters and their ``truth.jsonl`` to ``out_dir``; return the truths.

    Letters cycle through ``doc_types`` (default all, so any ten consecutive letters cover
    every type) and through ``formats``, shifted by one each round so that type and format
    do not pair up. ``split`` draws wording and layout from the train or test half only. The
    same arguments give byte-identical files.
    """
    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    types = tuple(doc_types) if doc_types else DOC_TYPES
    fmts = tuple(formats) if formats else FORMATS
    for doc_type in types:
        if doc_type not in DOC_TYPES:
            raise ValueError(
                f"unknown document type {doc_type!r}; expected one of {', '.join(DOC_TYPES)}"
            )
    for fmt in fmts:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not 0.0 <= rotated_share <= 1.0:
        raise ValueError(f"rotated_share must lie between 0 and 1, not {rotated_share}")
    multi = [fmt for fmt in fmts if fmt not in SINGLE_PAGE_FORMATS]
    rotations = _rotations(count, rotated_share)
    out_dir.mkdir(parents=True, exist_ok=True)
    truths: list[GroundTruth] = []
    tiffs = 0
    for index in range(count):
        doc_type = types[index % len(types)]
        wanted = fmts[(index + index // len(types)) % len(fmts)]
        truth, letter_seed, fmt = _compose_fitting(
            doc_type, seed * 1_000_003 + index, wanted, multi, split
        )
        name = f"{index + 1:04d}-{doc_type}{SUFFIXES[fmt]}"
        truth = dataclasses.replace(truth, name=name, format=fmt, rotation=rotations[index])
        pages = render_pages(truth, letter_seed, truth.rotation)
        compression = None
        if fmt == "tiff":
            compression = ("group4", "tiff_lzw")[tiffs % 2]
            tiffs += 1
        write_letter(truth, pages, out_dir / name, tiff_compression=compression)
        truths.append(truth)
    lines = "".join(json.dumps(t.to_json(), ensure_ascii=False) + "\n" for t in truths)
    _atomic_write(out_dir / TRUTH_FILE, lines.encode())
    return truths


def main(argv: list[str] | None = None) -> int:
    """Generate sample letters from the command line; print one line per file."""
    parser = argparse.ArgumentParser(
        prog="python -m flows.samples",
        description="Render German sample letters as scans, with truth.jsonl beside them.",
    )
    parser.add_argument("out_dir", type=Path, help="directory for the letters and truth.jsonl")
    parser.add_argument("--count", type=int, default=12, help="number of letters (default 12)")
    parser.add_argument(
        "--seed", type=int, default=1, help="seed; the same seed gives the same files"
    )
    parser.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=FORMATS,
        help="file format; repeat to cycle through several (default: all)",
    )
    parser.add_argument(
        "--type",
        dest="doc_types",
        action="append",
        choices=DOC_TYPES,
        help="document type; repeat for several (default: all ten)",
    )
    parser.add_argument(
        "--rotated-share",
        type=float,
        default=0.0,
        help="fraction of letters turned by 90, 180 or 270 degrees",
    )
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default=None,
        help="draw wording and layout from the train or the test half only (default: all)",
    )
    args = parser.parse_args(argv)
    try:
        truths = generate(
            args.out_dir,
            args.count,
            args.seed,
            args.formats,
            args.doc_types,
            args.rotated_share,
            args.split,
        )
    except (FontNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for truth in truths:
        kind = f"{truth.doc_type}/{truth.subject}" if truth.subject else truth.doc_type
        pages = len(truth.pages)
        print(
            f"{args.out_dir / truth.name}\t{kind}\t{truth.format}\t{pages} "
            f"page{'s' if pages > 1 else ''}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
