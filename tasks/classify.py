"""The classify step's logic: rules from the taxonomy decide the type, heuristics extract fields.

Plain functions; the Prefect task wrapper at the end does the I/O.

Text is compared in a normalised form on both sides (see :func:`normalise` and :func:`fold`):
lower case, ä/ö/ü/ß as ae/oe/ue/ss, words broken by a hyphen at a line end joined again; words,
phrases and fuzzy rules additionally fold ae/oe/ue to a/o/u, because OCR drops umlaut dots.

Each type's score is the sum of the weights of its matched rules; every match is recorded as a
reason (``rechnung: literal "rechnungsnummer" (+3.0)``). With ``best`` the winning score and
``runner_up`` the second best, the confidence is a calibrated probability that the winner is
right, from the taxonomy's ``scoring.calibration`` (fitted on letters of known type by
``bench/classify.py --fit-calibration``)::

    lead       = best - runner_up
    z          = intercept + score_weight * best + lead_weight * lead
    confidence = min(ceiling, 1 / (1 + exp(-z)))

The weights are never negative, so the confidence never falls as the evidence or the lead grows.
A best score below ``min_score`` (or no match at all) gives the fallback type with
``fallback_confidence``: calibrated, the share of such letters that were the fallback type.
A taxonomy without a calibration keeps the old hand-made formula::

    confidence = (1 - exp(-best / saturation)) * (0.5 + 0.5 * lead / best)
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import TYPE_CHECKING

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from schemas.letter import Classification, Fields, Intake, OcrResult, State
from schemas.taxonomy import DocType, Rule, Scoring, Taxonomy
from tasks.edges import Edges
from tasks.record import advance, classification_columns

if TYPE_CHECKING:
    from tasks.model import Decision

# --- normalisation -----------------------------------------------------------------------------

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_PATTERN_UMLAUTS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
)
_FOLD = re.compile(r"(?<=[aou])e")
_LINE_END_HYPHEN = re.compile(r"(?<=\w)-[ \t]*\r?\n[ \t]*(?=[a-zäöüß])")
_TOKEN = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Return ``text`` lower-cased with umlauts spelt out and hyphenated line breaks joined."""
    text = _LINE_END_HYPHEN.sub("", unicodedata.normalize("NFC", text))
    text = text.casefold().translate(_UMLAUTS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(normal: str) -> str:
    """Return normalised text with ae/oe/ue folded to a/o/u, so a lost umlaut dot still matches."""
    return _FOLD.sub("", normal)


def _folded(text: str) -> str:
    """Return ``text`` normalised and folded."""
    return fold(normalise(text))


# --- the letter's text, per rule scope ---------------------------------------------------------

_BETREFF = re.compile(
    r"^[ \t]*(?:betreff|betrifft|betr\.|gegenstand)[ \t]*:?[ \t]*(.*)$", re.IGNORECASE | re.M
)


@dataclass(frozen=True)
class _View:
    """One scope of the letter prepared for matching."""

    normal: str  # regexes run here
    folded: str  # words and phrases run here
    tokens: tuple[str, ...]  # fuzzy matching runs here


@dataclass
class LetterText:
    """A letter's text with its scoped views, each built on first use."""

    text: str
    _views: dict[tuple[str, int | None], _View] = field(default_factory=dict, init=False)

    def view(self, scope: str, first_chars: int | None) -> _View:
        """Return the view of a rule's scope (``text`` or ``betreff``), cut to ``first_chars``."""
        key = (scope, first_chars)
        if key not in self._views:
            raw = betreff_lines(self.text) if scope == "betreff" else self.text
            normal = normalise(raw[:first_chars] if first_chars else raw)
            folded = fold(normal)
            self._views[key] = _View(normal, folded, tuple(_TOKEN.findall(folded)))
        return self._views[key]


def betreff_lines(text: str) -> str:
    """Return the lines labelled Betreff/Betr./Betrifft (or the line after an empty label)."""
    found = []
    for match in _BETREFF.finditer(text):
        rest = match.group(1).strip()
        if not rest:
            following = text[match.end() :].lstrip("\r\n").split("\n", 1)[0]
            rest = following.strip()
        found.append(rest)
    return "\n".join(found)


# --- matching one rule -------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _word_regex(word: str) -> re.Pattern[str]:
    """Return the regex for a word or phrase; ``*`` at an end matches the rest of a compound."""
    tokens = _TOKEN.findall(_folded(word.strip("*")))
    head = r"\w*" if word.startswith("*") else ""
    tail = r"\w*" if word.endswith("*") else ""
    body = r"[\W_]+".join(map(re.escape, tokens))
    return re.compile(rf"\b{head}{body}{tail}\b")


@lru_cache(maxsize=1024)
def _rule_regex(pattern: str) -> re.Pattern[str]:
    """Return a taxonomy regex compiled for normalised text (umlauts in it spelt out)."""
    return re.compile(pattern.translate(_PATTERN_UMLAUTS), re.IGNORECASE | re.MULTILINE)


def _match_words(rule: Rule, view: _View) -> str | None:
    """Match an ``any`` or ``all`` rule; the evidence shows what a ``*`` word matched."""
    hits = []
    for word in rule.words:
        found = _word_regex(word).search(view.folded)
        if found is not None:
            hits.append(f'"{word}" = "{found.group(0)}"' if "*" in word else f'"{word}"')
    if not hits or (rule.kind == "all" and len(hits) < len(rule.words)):
        return None
    return ", ".join(hits)


def _match_literal(rule: Rule, view: _View) -> str | None:
    """Match a ``literal`` rule: the phrase, tolerant of whitespace and hyphens between words."""
    phrase = rule.pattern or ""  # the schema guarantees a pattern
    return f'"{phrase}"' if _word_regex(phrase).search(view.folded) else None


def _match_regex(rule: Rule, view: _View) -> str | None:
    """Match a ``regex`` rule; the evidence shows what it matched."""
    pattern = rule.pattern or ""  # the schema guarantees a pattern
    found = _rule_regex(pattern).search(view.normal)
    if found is None:
        return None
    matched = " ".join(found.group(0).split())
    return f'matched "{matched[:60]}"'


def fuzzy_find(word: str, tokens: Sequence[str], threshold: float) -> tuple[str, float] | None:
    """Return the token sequence most similar to ``word`` with its ratio, if ≥ ``threshold``."""
    target = " ".join(_TOKEN.findall(_folded(word.strip("*"))))
    size = target.count(" ") + 1
    matcher = SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    best: tuple[str, float] | None = None
    for candidate in {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
            continue
        ratio = matcher.ratio()
        if ratio >= threshold and (best is None or ratio > best[1]):
            best = (candidate, ratio)
    return best


def _match_fuzzy(rule: Rule, view: _View) -> str | None:
    """Match a ``fuzzy`` rule; the evidence names the OCR'd token and its similarity."""
    hits = []
    for word in rule.words:
        found = fuzzy_find(word, view.tokens, rule.threshold)
        if found is not None:
            token, ratio = found
            hits.append(f'"{word}"' if ratio == 1.0 else f'"{word}" ~ "{token}" ({ratio:.2f})')
    return ", ".join(hits) if hits else None


_MATCHERS = {
    "any": _match_words,
    "all": _match_words,
    "literal": _match_literal,
    "regex": _match_regex,
    "fuzzy": _match_fuzzy,
}


def match_rule(rule: Rule, letter: LetterText) -> str | None:
    """Return why ``rule`` matches the letter (its evidence), or None when it does not."""
    return _MATCHERS[rule.kind](rule, letter.view(rule.scope, rule.first_chars))


# --- scoring and deciding ----------------------------------------------------------------------


def _where(rule: Rule) -> str:
    """Return the scope note of a reason, e.g. `` in betreff`` or `` in first 600 chars``."""
    note = " in betreff" if rule.scope == "betreff" else ""
    return f"{note} in first {rule.first_chars} chars" if rule.first_chars else note


def score_rules(label: str, rules: Sequence[Rule], letter: LetterText) -> tuple[float, list[str]]:
    """Return the summed weight of the matching rules and one reason per match."""
    score, reasons = 0.0, []
    for rule in rules:
        evidence = match_rule(rule, letter)
        if evidence is not None:
            score += rule.weight
            reasons.append(f"{label}: {rule.kind} {evidence}{_where(rule)} (+{rule.weight:.1f})")
    return score, reasons


def rule_confidence(best: float, runner_up: float, scoring: Scoring) -> float:
    """Return the confidence of a rules decision (formulas in the module docstring)."""
    if best <= 0:
        return scoring.fallback_confidence
    lead = max(0.0, best - runner_up)
    calibration = scoring.calibration
    if calibration is None:
        strength = 1.0 - math.exp(-best / scoring.saturation)
        return round(strength * (0.5 + 0.5 * lead / best), 3)
    z = calibration.intercept + calibration.score_weight * best + calibration.lead_weight * lead
    return min(calibration.ceiling, round(_sigmoid(z), 3))


def _sigmoid(z: float) -> float:
    """Return the logistic function of ``z``, without overflow for large ``|z|``."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def detect_subject(
    doc_type: DocType, label: str, letter: LetterText
) -> tuple[str | None, list[str]]:
    """Return the best-scoring subject of a type with subject routing, and why."""
    best: tuple[float, str, list[str]] | None = None
    for name, subject in doc_type.routing.subjects.items():
        score, reasons = score_rules(f"{label}/{name}", subject.rules, letter)
        if score > 0 and (best is None or score > best[0]):
            best = (score, name, reasons)
    if best is not None:
        return best[1], best[2]
    if doc_type.routing.subjects:
        return None, [f"{label}: no subject matched (default routing)"]
    return None, []


def classify_text(text: str, taxonomy: Taxonomy) -> Classification:
    """Classify a letter's text by the taxonomy's rules, with reasons, confidence and fields."""
    letter = LetterText(text)
    scored = {name: score_rules(name, kind.rules, letter) for name, kind in taxonomy.types.items()}
    ranking = sorted(scored, key=lambda name: -scored[name][0])  # stable: file order breaks ties
    best, best_score = ranking[0], scored[ranking[0]][0]
    runner_up = scored[ranking[1]][0] if len(ranking) > 1 else 0.0
    others = [reason for name in ranking[1:] for reason in scored[name][1]]
    summary = "scores: " + ", ".join(f"{n} {scored[n][0]:.1f}" for n in ranking if scored[n][0])
    if best_score <= 0 or best_score < taxonomy.scoring.min_score:
        return _fallback(text, taxonomy, best, best_score, [*scored[best][1], *others])
    subject, subject_reasons = detect_subject(taxonomy.types[best], best, letter)
    return Classification(
        doc_type=best,
        subject=subject,
        confidence=rule_confidence(best_score, runner_up, taxonomy.scoring),
        classified_by="rule",
        reasons=(*scored[best][1], *subject_reasons, *others, summary),
        fields=extract_fields(text),
    )


def _fallback(
    text: str, taxonomy: Taxonomy, best: str, best_score: float, matched: list[str]
) -> Classification:
    """Return the fallback classification when no type scored enough."""
    name, minimum = taxonomy.fallback, taxonomy.scoring.min_score
    why = (
        f"{name}: best score {best_score:.1f} ({best}) below min_score {minimum:.1f} (fallback)"
        if best_score > 0
        else f"{name}: no rule matched (fallback)"
    )
    return Classification(
        doc_type=name,
        confidence=taxonomy.scoring.fallback_confidence,
        classified_by="rule",
        reasons=(why, *matched),
        fields=extract_fields(text),
    )


# --- fields ------------------------------------------------------------------------------------
#
# Each field has a ``find_*`` function that returns the value with a confidence in [0, 1] saying
# how it was found: a labelled value (``IBAN:``, ``Datum:``, ``Rechnungsnummer``) scores higher
# than a bare pattern, a checksum-valid IBAN higher than one repaired from OCR, and a value with
# distinct rivals of the same standing lower (see :func:`_rivalled`). ``extract_*`` returns the
# value alone.


def _rivalled(confidence: float, rivals: int) -> float:
    """Return ``confidence`` lowered for other distinct candidates found just as well."""
    return round(confidence * (1.0 if rivals == 0 else 0.85 if rivals == 1 else 0.7), 3)


def extract_fields(text: str) -> Fields:
    """Extract sender, date, Aktenzeichen, IBAN, total, invoice and customer number."""
    sender, date, aktenzeichen = find_sender(text), find_date(text), find_aktenzeichen(text)
    iban, amount = find_iban(text), find_amount(text)
    invoice, customer = find_invoice_number(text), find_customer_number(text)
    found: dict[str, tuple[object, float] | None] = {
        "sender": sender,
        "date": date,
        "aktenzeichen": aktenzeichen,
        "iban": iban,
        "amount_total": amount,
        "invoice_number": invoice,
        "customer_number": customer,
    }
    return Fields(
        sender=sender[0] if sender else None,
        date=date[0] if date else None,
        aktenzeichen=aktenzeichen[0] if aktenzeichen else None,
        iban=iban[0] if iban else None,
        amount_total=amount[0] if amount else None,
        invoice_number=invoice[0] if invoice else None,
        customer_number=customer[0] if customer else None,
        confidence={name: hit[1] for name, hit in found.items() if hit is not None},
    )


# --- sender --

_ABSENDER = re.compile(r"^[ \t]*(?:absender|abs\.)[ \t]*:?[ \t]*(.*)$", re.IGNORECASE | re.M)
_POSTCODE_LINE = re.compile(r"(?<!\d)\d{5}[ \t]+[A-ZÄÖÜ][\wÄÖÜäöüß.\- ()/]*")
_SEGMENTS = re.compile(r"[ \t]*[·•|∙][ \t]*|,[ \t]*|[ \t]+[-–][ \t]+|[ \t]{3,}")
_STREET = re.compile(
    r"^[A-ZÄÖÜ][\wäöüß.\-]*(?:[ \t]+[\wäöüß.\-]+){0,4}[ \t]+\d{1,4}[ \t]?[a-zA-Z]?"
    r"(?:[ \t]?[-–/][ \t]?\d{1,4}[a-zA-Z]?)?$"
    r"|^(?:Postfach|Pf\.)[ \t]+[\d ]+$"
)
_ORGANISATION = re.compile(
    r"\b(?:(?-i:GmbH|AG|KG|OHG|GbR|UG|SE|mbH|eG|PartG)|e\.[ ]?V\.|Co\.|Stadtwerke|Verlag|Redaktion|"
    r"Zeitung|Kanzlei|Rechtsanw\w+|Notar\w*|Versicherung\w*|Bank|Sparkasse|Verband|Verein|"
    r"Stiftung|Universität|Hochschule|Institut|Agentur|Jobcenter|Krankenkasse|AOK|Inkasso|"
    r"Ministerium|Bezirksregierung|Landesamt|Bundesamt|\w*[Gg]ericht|Stadt|Gemeinde|Kreis|"
    r"Landkreis|Amt|\w+amt|Architekt\w*|Ingenieur\w*|Büro|\w+büro|Partner|Kollegen|Autohaus)\b",
    re.IGNORECASE,
)
_PERSON = re.compile(
    r"^(?:(?:Herr|Frau|Dr\.|Prof\.|Dipl\.-\w+\.?)[ \t]+)*[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?"
    r"(?:[ \t]+(?:von|van|de|zu)?[ \t]*[A-ZÄÖÜ][a-zäöüß]+(?:-[A-ZÄÖÜ][a-zäöüß]+)?){1,3}$"
)
_RECIPIENT_MARK = re.compile(r"^(?:an|an den|an die|an das|z\.[ ]?hd\.?.*)$", re.IGNORECASE)
_HEAD_END = re.compile(r"^(?:sehr geehrte|guten tag|hallo|betreff|betr\.)", re.IGNORECASE)


def _head_lines(text: str, limit: int = 20) -> list[str]:
    """Return the first non-empty lines up to the salutation or subject line."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if _HEAD_END.match(line) or len(lines) >= limit:
            break
        if line:
            lines.append(line)
    return lines


def _clean_sender(value: str) -> str | None:
    """Return a plausible sender name, or None."""
    value = value.strip(" \t,;:·•|-–")
    if not re.search(r"[A-Za-zÄÖÜäöü]{2}", value) or _POSTCODE_LINE.search(value):
        return None
    return value[:120] if not _STREET.match(value) else None


def _sender_from_label(text: str) -> str | None:
    """Return the sender from an ``Absender:`` / ``Abs.:`` line."""
    found = _ABSENDER.search(text)
    if found is None:
        return None
    return _clean_sender(_SEGMENTS.split(found.group(1))[0])


_STRONG_SEGMENTS = re.compile(r"[ \t]*[·•|∙][ \t]*")


def _sender_from_return_line(lines: Sequence[str]) -> str | None:
    """Return the first segment of a one-line return address (``Name · Straße 1 · 12345 Ort``)."""
    for line in lines:
        # With dots or bars between the parts, a dash belongs to the name ("Zeitung – Redaktion").
        splitter = _STRONG_SEGMENTS if _STRONG_SEGMENTS.search(line) else _SEGMENTS
        segments = [part for part in splitter.split(line) if part.strip()]
        if len(segments) >= 3 and _POSTCODE_LINE.search(line):
            name = _clean_sender(segments[0])
            if name is not None:
                return name
    return None


def _is_address_block(lines: Sequence[str], index: int) -> bool:
    """Return whether lines[index] is the name line of a name / street / postcode block."""
    following = lines[index + 1 : index + 4]
    return (
        len(following) >= 2
        and bool(_STREET.match(following[0]))
        and any(_POSTCODE_LINE.match(line) for line in following[1:])
    )


def _sender_from_head(lines: Sequence[str]) -> tuple[str, float] | None:
    """Return the letterhead organisation or the name heading the first address block."""
    for index, line in enumerate(lines):
        if _RECIPIENT_MARK.match(line):
            break  # what follows is the recipient: the administration itself
        candidate = _clean_sender(line)
        if candidate is None:
            continue
        if _is_address_block(lines, index):
            return candidate, 0.8
        if _ORGANISATION.search(line):
            return candidate, 0.75
        if index == 0 and _PERSON.match(line):
            return candidate, 0.6
    return None


def find_sender(text: str) -> tuple[str, float] | None:
    """Return the sender and a confidence: Absender label, return line, letterhead, address."""
    head = _head_lines(text)
    labelled = _sender_from_label(text)
    if labelled is not None:
        return labelled, 0.9
    returned = _sender_from_return_line(head)
    if returned is not None:
        return returned, 0.85
    return _sender_from_head(head)


def extract_sender(text: str) -> str | None:
    """Return the sender: Absender label, return-address line, letterhead or first address block."""
    found = find_sender(text)
    return found[0] if found else None


# --- date --

_MONTHS = {
    "januar": 1, "jan": 1, "jaenner": 1, "februar": 2, "feb": 2, "maerz": 3, "marz": 3,
    "mrz": 3, "april": 4, "apr": 4, "mai": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    r"(?<![\d.])(?P<d>\d{1,2})\.[ \t]?(?P<m>\d{1,2})\.[ \t]?(?P<y>\d{4}|\d{2})(?![\d])"
    rf"|(?<!\d)(?P<d2>\d{{1,2}})\.?[ \t]*(?P<mn>{_MONTH_NAMES})\.?[ \t]+(?P<y2>\d{{4}})(?!\d)"
    r"|(?<!\d)(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})(?!\d)"
)
# Dates that are not the letter's own: due dates, periods, birthdays, appointments, and the
# dates of other letters ("Bescheid vom ...").
_NOT_LETTER_DATE = re.compile(
    r"(?:zahlbar|faellig\w*|frist\w*|spaetestens|\bbis|\bvom|zahlungsziel|geboren|\bgeb|"
    r"geburtsdatum|\w*zeitraum|lieferdatum|leistungsdatum|gueltig\w*|termin\w*|verhandlung|"
    r"ablauf\w*|[-–])[\s.:]*(?:am|zum|den|ab|bis|vom)?[\s.:]*$"
)
_LETTER_DATE_LABEL = re.compile(
    r"(?:datum|(?:^|\s{2,}|,)\s*[a-z][\w.\-]*(?:[ /][\w.\-]+){0,3},)\s*:?\s*(?:den\s*)?$|\bden\s*$"
)


def _to_date(match: re.Match[str]) -> dt.date | None:
    """Return the date a :data:`_DATE` match denotes, or None when it is no calendar date."""
    if match["d"]:
        day, month, year = int(match["d"]), int(match["m"]), int(match["y"])
    elif match["d2"]:
        day, month, year = int(match["d2"]), _MONTHS[match["mn"]], int(match["y2"])
    else:
        day, month, year = int(match["d3"]), int(match["m3"]), int(match["y3"])
    if year < 100:  # as strptime's %y: 00-68 → 20xx, 69-99 → 19xx
        year += 2000 if year < 69 else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_score(
    lines: Sequence[str], index: int, match: re.Match[str]
) -> tuple[float, float] | None:
    """Score how likely a date is the letter's own, with the confidence its context gives.

    None for due dates, periods and birthdays. A label (``Datum:``, ``Ort, den``) gives 0.95,
    a date alone on its line 0.85, any other date 0.5.
    """
    line = lines[index]
    before, after = line[: match.start()], line[match.end() :]
    context = f"{lines[index - 1] if index else ''} {before}"[-40:]  # "geboren am\n14.01.2026"
    if _NOT_LETTER_DATE.search(context) or re.match(r"\s*(?:[-–]|bis\b)", after):
        return None
    score = 1.5 * max(0.0, 1.0 - index / 25)  # the letter's date stands near the top
    if _LETTER_DATE_LABEL.search(before[-40:]):
        return score + 3.0, 0.95
    if not before.strip() and not after.strip(" \t."):
        return score + 2.0, 0.85
    return score, 0.5


def _date_candidates(text: str) -> Iterator[tuple[float, int, dt.date, float]]:
    """Yield (score, -line number, date, confidence) for every plausible date in the letter."""
    lines = normalise(text).splitlines()
    for index, line in enumerate(lines):
        for match in _DATE.finditer(line):
            found = _to_date(match)
            scored = _date_score(lines, index, match)
            if found is not None and scored is not None and 1900 <= found.year <= 2100:
                short_year = bool(match["y"]) and len(match["y"]) == 2
                yield scored[0], -index, found, scored[1] * (0.95 if short_year else 1.0)


def find_date(text: str) -> tuple[dt.date, float] | None:
    """Return the letter's date and a confidence; rival dates scored nearly as high lower it."""
    candidates = sorted(_date_candidates(text), reverse=True)
    if not candidates:
        return None
    score, _, best, confidence = candidates[0]
    rivals = {day for near, _, day, _ in candidates[1:] if day != best and near > score - 1.0}
    return best, _rivalled(confidence, len(rivals))


def extract_date(text: str) -> dt.date | None:
    """Return the letter's date: near the top or after a place name, never a due date."""
    found = find_date(text)
    return found[0] if found else None


# --- Aktenzeichen --

_AZ_LABEL = re.compile(
    r"(?P<who>\b(?:ihr|ihre|unser|unsere|mein|meine)[ \t]+)?"
    r"\b(?P<label>aktenzeichen|gesch(?:ä|ae|a)fts(?:zeichen|nummer)|"
    r"gesch\.[ \t]?-?[ \t]?z(?:eichen)?|zeichen|az|gz|bestellung|bestellnummer|auftrag|"
    r"auftragsnummer|vergabenummer)(?![a-zäöüß])"
    r"\.?[ \t]*:?[ \t]*(?:\r?\n[ \t]*)?",
    re.IGNORECASE,
)
_COURT_AZ = (
    r"(?:[A-Z]{1,2}[ \t]{1,3})?(?:\d{1,3}|[IVX]{1,5})[ \t]{1,3}[A-Z][A-Za-z]{0,3}"
    r"(?:[ \t]{1,3}[A-Z]{1,3})?[ \t]{1,3}\d{1,6}/\d{2}(?:\d{2})?(?:[ \t](?:ER|EA))?"
)
_COURT_AZ_VALUE = re.compile(_COURT_AZ + r"(?![\w/])")
_COURT_AZ_ANYWHERE = re.compile(r"(?<![\w/.])" + _COURT_AZ + r"(?![\w/])")
_ADMIN_AZ_VALUE = re.compile(r"[A-Za-zÄÖÜäöü0-9]+(?:[.\-/][A-Za-zÄÖÜäöü0-9]+)*")
_BARE_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.\d{2,4}")


def _az_value(text: str, start: int) -> str | None:
    """Return the file number that starts at ``start``: a court's, else an administration's."""
    court = _COURT_AZ_VALUE.match(text, start)
    if court:
        return " ".join(court.group(0).split())
    admin = _ADMIN_AZ_VALUE.match(text, start)
    if admin is None:
        return None
    value = admin.group(0)
    if not re.search(r"\d", value) or len(value) < 3 or _BARE_DATE.fullmatch(value):
        return None
    return value


_ORDER_LABELS = frozenset(
    {"bestellung", "bestellnummer", "auftrag", "auftragsnummer", "vergabenummer"}
)


def _az_rank(match: re.Match[str]) -> int | None:
    """Rank a label: the administration's own number (Ihr Zeichen) first, the sender's last."""
    who = (match["who"] or "").strip().casefold()
    label = match["label"].casefold()
    if label == "zeichen" and not who:
        return None  # "Zeichen" alone is too vague
    if label in _ORDER_LABELS and not who.startswith("ihr"):
        return None  # only the administration's own order ("Ihre Bestellung") is its file
    if who.startswith("ihr"):
        return 0
    return 2 if who else 1


_AZ_CONFIDENCE = (0.95, 0.9, 0.9, 0.75, 0.6)  # by rank, see find_aktenzeichen


def find_aktenzeichen(text: str) -> tuple[str, float] | None:
    """Return the Aktenzeichen and a confidence.

    Ranked: a court's file number after a label (0.95), Ihr Zeichen (0.9), Az./Aktenzeichen
    (0.9), a court's number without a label (0.75), Unser Zeichen (0.6); within a rank the
    first. A court writes its own number first and the administration's as Ihr Zeichen: the
    court's is the one the letter is filed under.
    """
    found: list[tuple[int, int, str]] = []
    for match in _AZ_LABEL.finditer(text):
        rank = _az_rank(match)
        value = _az_value(text, match.end()) if rank is not None else None
        if rank is not None and value is not None:
            court = _COURT_AZ_VALUE.fullmatch(value) is not None and rank < 2
            found.append((0 if court else (1, 2, 4)[rank], match.start(), value))
    court_anywhere = _COURT_AZ_ANYWHERE.search(text)
    if court_anywhere:
        found.append((3, court_anywhere.start(), " ".join(court_anywhere.group(0).split())))
    if not found:
        return None
    rank, _, value = min(found)
    rivals = {other for level, _, other in found if level == rank and other != value}
    return value, _rivalled(_AZ_CONFIDENCE[rank], len(rivals))


def extract_aktenzeichen(text: str) -> str | None:
    """Return the Aktenzeichen: a court's, Ihr Zeichen, Az., else Unser Zeichen."""
    found = find_aktenzeichen(text)
    return found[0] if found else None


# --- IBAN --

_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28,
    "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "VA": 22,
}  # fmt: skip
_NUMERIC_BBAN = frozenset(
    {"AT", "BE", "CZ", "DE", "DK", "EE", "ES", "FI", "HR", "HU", "LT", "NO", "PL", "PT", "SE",
     "SI", "SK"}
)  # fmt: skip
_IBAN_START = re.compile(r"(?<![A-Z0-9])[A-Z]{2}[ ]?[0-9O]{2}")


def iban_is_valid(iban: str) -> bool:
    """Return whether a compact, upper-case IBAN has its country's length and mod-97 checksum."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", iban):
        return False
    if _IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    if iban[:2] in _NUMERIC_BBAN and not iban[4:].isdigit():
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def normalise_iban(candidate: str) -> str | None:
    """Return the compact IBAN; an OCR'd O counts as zero only if the checksum then holds."""
    compact = re.sub(r"\s+", "", candidate).upper()
    if iban_is_valid(compact):
        return compact
    repaired = compact[:2] + compact[2:].replace("O", "0")
    return repaired if repaired != compact and iban_is_valid(repaired) else None


def _take_iban_chars(text: str, start: int, length: int) -> str | None:
    """Return ``length`` alphanumerics from ``start``, skipping single spaces, up to a boundary."""
    chars: list[str] = []
    index = start
    while index < len(text) and len(chars) < length:
        char = text[index]
        if char.isascii() and char.isalnum():
            chars.append(char)
        elif char == "\n" and chars and len(chars) % 4 == 0:
            pass  # a line break between two groups of four, where a paragraph wraps
        elif not (char == " " and chars and text[index + 1 : index + 2].isalnum()):
            break
        index += 1
    ends_cleanly = index >= len(text) or not text[index].isalnum()
    return "".join(chars) if len(chars) == length and ends_cleanly else None


_IBAN_LABEL = re.compile(r"iban[ \t]*:?[ \t(]*$", re.IGNORECASE)


def _iban_candidates(text: str) -> Iterator[tuple[str, float]]:
    """Yield every checksum-valid IBAN in the letter with the confidence of how it was found."""
    upper = text.upper()
    for match in _IBAN_START.finditer(upper):
        length = _IBAN_LENGTHS.get(upper[match.start() : match.start() + 2])
        chars = _take_iban_chars(upper, match.start(), length) if length else None
        iban = normalise_iban(chars) if chars else None
        if iban is not None and chars is not None:
            labelled = _IBAN_LABEL.search(upper[max(0, match.start() - 12) : match.start()])
            repaired = iban != re.sub(r"\s+", "", chars)
            yield iban, (0.99 if labelled else 0.9) * (0.9 if repaired else 1.0)


def find_iban(text: str) -> tuple[str, float] | None:
    """Return the first valid IBAN and a confidence (checksum, label, other IBANs)."""
    candidates = list(_iban_candidates(text))
    if not candidates:
        return None
    iban, confidence = candidates[0]
    rivals = {other for other, _ in candidates if other != iban}
    return iban, _rivalled(confidence, len(rivals))


def extract_iban(text: str) -> str | None:
    """Return the first IBAN in the letter whose checksum is valid."""
    found = find_iban(text)
    return found[0] if found else None


# --- amount --

_AMOUNT = re.compile(
    r"(?<![\d.,])(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<cents>\d{2}|--?))?(?![\d,]|\.\d)"
)
_CURRENCY = re.compile(r"€|\beur\b|\beuro\b", re.IGNORECASE)
_TOTAL_STRONG = re.compile(
    r"gesamtbetrag|rechnungsbetrag|endbetrag|gesamtsumme|zahlbetrag|zu zahlen|gesamtforderung|"
    r"forderungsbetrag|offener betrag|offene forderung|ausstehender betrag|bruttobetrag|"
    r"summe brutto|gesamt brutto|restbetrag"
)
_TOTAL_WEAK = re.compile(r"summe|betrag|total|gesamt")
_NOT_TOTAL = re.compile(r"netto|zwischensumme|mwst|ust\b|umsatzsteuer|skonto|rabatt|gebuehr")


def _amounts(line: str) -> list[float]:
    """Return the amounts on a line: with cents, or whole euros next to a currency sign."""
    values = []
    for match in _AMOUNT.finditer(line):
        near = line[max(0, match.start() - 5) : match.end() + 6]
        if match["cents"] is None and not _CURRENCY.search(near):
            continue
        cents = match["cents"] if match["cents"] and match["cents"].isdigit() else "00"
        values.append(float(f"{match['int'].replace('.', '')}.{cents}"))
    return values


def _total_rank(line: str) -> int:
    """Rank a line as the total's: 0 a clear total label, 1 a weak one, 2 none."""
    if _TOTAL_STRONG.search(line) and not re.search(r"netto|zwischen", line):
        return 0
    return 1 if _TOTAL_WEAK.search(line) and not _NOT_TOTAL.search(line) else 2


def find_amount(text: str) -> tuple[float, float] | None:
    """Return the total and a confidence: a total label 0.95, a weak one 0.75, none 0.4.

    The total is the last amount on the last line with the best label (the final total
    follows the subtotals), else the largest euro amount.
    """
    lines = [line for line in normalise(text).splitlines() if line.strip()]
    totals: list[tuple[int, int, float]] = []
    for index, line in enumerate(lines):
        rank = _total_rank(line)
        values = _amounts(line)
        if rank < 2 and not values and index + 1 < len(lines):
            values = _amounts(lines[index + 1])[:1]  # the amount in the next row of a table
        if rank < 2 and values:
            totals.append((rank, -index, values[-1]))
    if totals:
        rank, _, value = min(totals)
        rivals = {other for level, _, other in totals if level == rank and other != value}
        return value, _rivalled(0.95 if rank == 0 else 0.75, len(rivals))
    priced = [v for line in lines if _CURRENCY.search(line) for v in _amounts(line)]
    return (max(priced), 0.4) if priced else None


def extract_amount(text: str) -> float | None:
    """Return the total: the last amount on the best total line, else the largest euro amount."""
    found = find_amount(text)
    return found[0] if found else None


# --- invoice and customer numbers --

_NUMBER_VALUE = (
    r"[ \t]*[.:#]?[ \t]*:?[ \t]*"
    r"(?P<value>(?-i:[A-Z]{1,4})[ ](?=\d)[0-9][A-Z0-9\-/._]*[A-Z0-9]"  # "RG 2026/0815"
    r"|[A-Z0-9][A-Z0-9\-/._]*[A-Z0-9]|\d)"
)
_INVOICE = re.compile(
    r"\b(?:rechnungs?[ \t]*-?[ \t]*(?:nummer|nurnmer|numrner|nr|no)|rg\.?[ \t]*-?[ \t]*nr)\b\.?"
    + _NUMBER_VALUE,
    re.IGNORECASE,
)
_CUSTOMER = re.compile(
    r"\b(?:kunden[ \t]*-?[ \t]*(?:nummer|nurnmer|numrner|nr|no)|kd\.?[ \t]*-?[ \t]*nr)\b\.?"
    + _NUMBER_VALUE,
    re.IGNORECASE,
)


# "Rechnung R2606-2430" in a subject line: a number right after the word, with no label.
_INVOICE_BARE = re.compile(
    r"\brechnung[ \t]+(?P<value>(?-i:[A-Z]{1,4})[ -]?\d[A-Z0-9\-/._]*[A-Z0-9]"
    r"|\d[0-9\-/._]*\d)(?![,\w])",
    re.IGNORECASE,
)


def _numbers(pattern: re.Pattern[str], text: str) -> list[str]:
    """Return the values after a label that contain a digit and are no date, in text order."""
    return [
        match["value"]
        for match in pattern.finditer(text)
        if re.search(r"\d", match["value"]) and not _BARE_DATE.fullmatch(match["value"])
    ]


def _first_number(labelled: Sequence[str], bare: Sequence[str] = ()) -> tuple[str, float] | None:
    """Return the first labelled value (0.9), else the first bare one (0.7), with rivals."""
    for values, confidence in ((labelled, 0.9), (bare, 0.7)):
        if values:
            rivals = {value for value in values if value != values[0]}
            return values[0], _rivalled(confidence, len(rivals))
    return None


def find_invoice_number(text: str) -> tuple[str, float] | None:
    """Return the invoice number and a confidence: labelled, else right after "Rechnung"."""
    return _first_number(_numbers(_INVOICE, text), _numbers(_INVOICE_BARE, text))


def extract_invoice_number(text: str) -> str | None:
    """Return the invoice number after Rechnungsnummer / Rechnungs-Nr. / Rechnung Nr."""
    found = find_invoice_number(text)
    return found[0] if found else None


def find_customer_number(text: str) -> tuple[str, float] | None:
    """Return the customer number after its label, and a confidence."""
    return _first_number(_numbers(_CUSTOMER, text))


def extract_customer_number(text: str) -> str | None:
    """Return the customer number after Kundennummer / Kunden-Nr. / Kd.-Nr."""
    found = find_customer_number(text)
    return found[0] if found else None


# --- the Prefect task --------------------------------------------------------------------------


@task(cache_policy=NO_CACHE)
def classify(edges: Edges, intake: Intake, ocr: OcrResult, actor: str) -> Decision:
    """Decide the letter's type and fields by rules and model; record it, and whether to ask.

    Without a trained model in the system bucket the rules decide alone. Pages OCR could not
    read always send the letter to a person.
    """
    from tasks.model import ModelError, combine, load_current  # scikit-learn loads only here

    rules = classify_text(ocr.text, edges.taxonomy)
    try:
        model = load_current(edges.s3, edges.settings.buckets.system)
    except ModelError as exc:  # a damaged model must not fail letters: the rules still decide
        get_run_logger().warning("classifier model unusable, rules decide alone: %s", exc)
        model = None
    decision = combine(
        rules,
        model.predict(ocr.text) if model is not None else None,
        edges.taxonomy,
        threshold=edges.settings.review.threshold,
        text=ocr.text,
    )
    if ocr.unreadable_pages:
        pages = ", ".join(str(number) for number in ocr.unreadable_pages)
        unread = f"page(s) {pages} could not be read"
        decision = decision.model_copy(
            update={"review_reasons": (*decision.review_reasons, unread)}
        )
    decided = decision.classification
    advance(
        edges.engine,
        intake.letter.letter_id,
        State.CLASSIFIED,
        step="classify",
        actor=actor,
        detail={
            "doc_type": decided.doc_type,
            "confidence": decided.confidence,
            "classified_by": decided.classified_by,
            "reasons": list(decided.reasons[:5]),
            "model": model.info.version if model is not None else None,
            "review": list(decision.review_reasons),
        },
        **classification_columns(decided),
    )
    return decision
