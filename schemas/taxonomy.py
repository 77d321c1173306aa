"""The taxonomy: document types with their rules, routing, retention, priority and deadlines.

The data is one versioned YAML file, ``schemas/taxonomy.yaml``, which an administrator edits.
:func:`load_taxonomy` validates it at start-up against the frozen models below and raises
:class:`TaxonomyError` with messages that name the line, e.g.::

    taxonomy.yaml line 42: types.rechnung.rules[1].kind: must be one of any, all, literal, ...

The line comes from the YAML node tree (``yaml.SafeLoader.get_single_node``): a pydantic error's
location is followed through the mapping and sequence nodes down to the deepest node that exists.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from schemas.letter import Fields, Frozen

DEFAULT_PATH = Path(__file__).with_name("taxonomy.yaml")

RuleKind = Literal["any", "all", "literal", "regex", "fuzzy"]
Priority = Literal["normal", "high", "urgent"]
Scope = Literal["text", "betreff"]

_WORD_KINDS = frozenset({"any", "all", "fuzzy"})
_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")


class TaxonomyError(ValueError):
    """The taxonomy file is unreadable or invalid; the message names the file and line."""


def _known_field(name: str) -> str:
    """Check that ``name`` is a field of :class:`schemas.letter.Fields`."""
    if name not in Fields.names():
        raise ValueError(f"unknown field {name!r}; known: {', '.join(Fields.names())}")
    return name


def _iso_duration(value: str) -> str:
    """Check that ``value`` is an ISO 8601 duration such as ``P1M`` or ``P14D``."""
    if not _DURATION.fullmatch(value):
        raise ValueError(f"must be an ISO 8601 duration such as P1M or P14D, not {value!r}")
    return value


def _type_name(name: str) -> str:
    """Check that a type name is a lower-case identifier (it ends up in paths and reports)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError(f"type name {name!r} must be lower-case letters, digits and _")
    return name


NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
FieldName = Annotated[str, AfterValidator(_known_field)]
Duration = Annotated[str, AfterValidator(_iso_duration)]
TypeName = Annotated[str, AfterValidator(_type_name)]


class Rule(Frozen):
    """One classification rule; matched rules add their weight to their type's score.

    A negative weight is counter-evidence (a reminder cites its invoice, so "Mahnung" counts
    against `rechnung`); zero would be a rule that can never matter.
    """

    kind: RuleKind
    words: tuple[NonEmpty, ...] = ()
    pattern: NonEmpty | None = None
    weight: float = 1.0
    scope: Scope = "text"
    first_chars: int | None = Field(default=None, gt=0)
    threshold: float = Field(default=0.85, ge=0.5, le=1.0)

    @field_validator("pattern")
    @classmethod
    def _regex_compiles(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Check that a regex rule's pattern compiles."""
        if value is not None and info.data.get("kind") == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @field_validator("weight")
    @classmethod
    def _weight_matters(cls, value: float) -> float:
        """Refuse a weight of zero, which no match could ever change."""
        if value == 0:
            raise ValueError("weight must not be 0 (negative weights are counter-evidence)")
        return value

    @model_validator(mode="after")
    def _operand_matches_kind(self) -> Rule:
        """Check that word kinds have words and phrase kinds a pattern, not both."""
        if self.kind in _WORD_KINDS and (not self.words or self.pattern is not None):
            raise ValueError(f"rule kind {self.kind!r} needs `words` (a list), not `pattern`")
        if self.kind not in _WORD_KINDS and (self.pattern is None or self.words):
            raise ValueError(f"rule kind {self.kind!r} needs `pattern` (a string), not `words`")
        return self


class Subject(Frozen):
    """A subject within a type (e.g. antrag/Wohngeld) with its own department and rules."""

    department: NonEmpty
    aliases: tuple[NonEmpty, ...] = ()
    retention_years: int | None = Field(default=None, ge=0)
    rules: tuple[Rule, ...] = Field(min_length=1)


class Routing(Frozen):
    """Where a type goes: one department, or by subject with ``department`` as the default."""

    department: NonEmpty
    subjects: dict[NonEmpty, Subject] = Field(default_factory=dict)


class DocType(Frozen):
    """One document type: what it is, where it goes, how long it is kept, how it is recognised."""

    description: NonEmpty
    routing: Routing
    retention_years: int = Field(ge=0)
    priority: Priority = "normal"
    deadline: Duration | None = None
    required_fields: tuple[FieldName, ...] = ()
    rules: tuple[Rule, ...] = ()


class RuleCalibration(Frozen):
    """A logistic calibration of the rules' confidence, fitted on letters whose type is known.

    ``P(the top type is right) = 1 / (1 + exp(-(intercept + score_weight * best + lead_weight *
    (best - runner_up))))``, at most ``ceiling`` (see ``tasks/classify.py``). The weights may not
    be negative: more evidence for the winner, or a clearer lead, never lowers its confidence.
    ``ceiling`` is Laplace's (right + 1) / (decided + 2) over the fitting letters' decisions: no
    record of that many letters justifies more. ``bench/classify.py --fit-calibration`` re-fits
    the block and prints it.
    """

    intercept: float
    score_weight: float = Field(ge=0)
    lead_weight: float = Field(ge=0)
    ceiling: float = Field(gt=0, le=1)
    letters: int = Field(gt=0, description="letters the calibration was fitted on")
    fitted_on: NonEmpty = Field(description="where those letters came from")


class Scoring(Frozen):
    """Knobs of the rules classifier; see the confidence in ``tasks/classify.py``.

    Without ``calibration`` the confidence is the hand-made formula with ``saturation``.
    ``fallback_confidence`` is the confidence of the fallback type when no type scored
    ``min_score``: with a calibration, the share of such letters that were the fallback type.
    """

    min_score: float = Field(default=2.0, ge=0)
    saturation: float = Field(default=3.0, gt=0)
    fallback_confidence: float = Field(default=0.3, ge=0, le=1)
    calibration: RuleCalibration | None = None


class Taxonomy(Frozen):
    """The whole taxonomy file."""

    version: Literal[1]
    types: dict[TypeName, DocType] = Field(min_length=1)
    fallback: NonEmpty
    scoring: Scoring = Scoring()

    @field_validator("fallback")
    @classmethod
    def _fallback_is_a_type(cls, value: str, info: ValidationInfo) -> str:
        """Check that the fallback type is one of the types."""
        types = info.data.get("types")
        if types is not None and value not in types:
            raise ValueError(f"fallback type {value!r} is not defined under `types`")
        return value

    def doc_type(self, name: str) -> DocType:
        """Return the type called ``name``; raise KeyError naming the known types."""
        try:
            return self.types[name]
        except KeyError:
            known = ", ".join(self.types)
            raise KeyError(f"unknown document type {name!r}; known: {known}") from None

    def subject(self, doc_type: str, subject: str | None) -> tuple[str, Subject] | None:
        """Return the canonical name and entry of ``subject`` (or an alias) within a type."""
        if subject is None:
            return None
        wanted = subject.strip().casefold()
        for name, entry in self.doc_type(doc_type).routing.subjects.items():
            if wanted in {name.casefold(), *(alias.casefold() for alias in entry.aliases)}:
                return name, entry
        return None

    def department_for(self, doc_type: str, subject: str | None = None) -> tuple[str, str]:
        """Return the department for a type and subject, and the routing rule that chose it."""
        routing = self.doc_type(doc_type).routing
        found = self.subject(doc_type, subject)
        if found is not None:
            name, entry = found
            return entry.department, f"{doc_type}/{name} → {entry.department}"
        if routing.subjects:
            return routing.department, f"{doc_type} (default) → {routing.department}"
        return routing.department, f"{doc_type} → {routing.department}"

    def retention_years(self, doc_type: str, subject: str | None = None) -> int:
        """Return how many years a letter of this type and subject is kept."""
        found = self.subject(doc_type, subject)
        if found is not None and found[1].retention_years is not None:
            return found[1].retention_years
        return self.doc_type(doc_type).retention_years

    def missing_fields(self, doc_type: str, fields: Fields) -> tuple[str, ...]:
        """Return the type's required fields that ``fields`` lacks."""
        required = self.doc_type(doc_type).required_fields
        return tuple(name for name in required if getattr(fields, name) is None)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file (default: the packaged ``schemas/taxonomy.yaml``).

    A file read before is parsed again only when its content changed: parsing and validating
    costs ~0.1 CPU-s, once per flow run otherwise (the taxonomy is frozen, so it is shared).
    """
    path = path or DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"{path}: cannot read the taxonomy: {exc}") from exc
    return _validated(text, path.name)


@lru_cache(maxsize=4)
def _validated(text: str, name: str) -> Taxonomy:
    """Parse and validate a taxonomy's text (``name`` is the file's, for messages)."""
    root, data = _parse(text, name)
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        raise TaxonomyError(_describe(exc, root, name)) from exc


def _parse(text: str, name: str) -> tuple[yaml.Node, Any]:
    """Return the YAML node tree and the plain data built from it."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise TaxonomyError(f"{name}: the file is empty")
        _check_duplicate_keys(root, name)
        return root, loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        raise TaxonomyError(_syntax_message(exc, name)) from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"{name}: {exc}") from exc
    finally:
        loader.dispose()


def _syntax_message(exc: yaml.MarkedYAMLError, name: str) -> str:
    """Return a YAML syntax error as ``<file> line N: <problem> (<context> at line M)``."""
    mark = exc.problem_mark or exc.context_mark
    where = f" line {mark.line + 1}" if mark else ""
    message = f"{name}{where}: {exc.problem or exc.context}"
    if exc.context and exc.context_mark and exc.problem:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    return message


def _check_duplicate_keys(node: yaml.Node, name: str) -> None:
    """Reject a mapping that repeats a key (PyYAML would silently keep the last one)."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    line = key.start_mark.line + 1
                    raise TaxonomyError(f"{name} line {line}: duplicate key {key.value!r}")
                seen.add(key.value)
            _check_duplicate_keys(value, name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, name)


def _describe(exc: ValidationError, root: yaml.Node, name: str) -> str:
    """Return one ``<file> line N: <path>: <message>`` line per validation error, by line."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _node_at(root, loc).start_mark.line + 1
        loc = tuple(part for part in loc if part != "[key]")
        where = f"{_dotted(loc)}: " if loc else ""
        lines.append((line, f"{name} line {line}: {where}{_message(error)}"))
    return "\n".join(text for _, text in sorted(lines))


def _node_at(root: yaml.Node, loc: tuple[int | str, ...]) -> yaml.Node:
    """Return the deepest node along ``loc`` (a missing key stops at its parent mapping)."""
    node = root
    for index, part in enumerate(loc):
        # pydantic locates an invalid mapping key as (..., key, "[key]"): point at the key itself
        want_key = loc[index + 1 : index + 2] == ("[key]",)
        child = _child(node, part, want_key=want_key)
        if child is None or want_key:
            return child or node
        node = child
    return node


def _child(node: yaml.Node, part: int | str, *, want_key: bool = False) -> yaml.Node | None:
    """Return the value (or key) under a mapping key, or the item at a sequence index."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                chosen: yaml.Node = key if want_key else value
                return chosen
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item: yaml.Node = node.value[part]
        return item
    return None


def _dotted(loc: tuple[int | str, ...]) -> str:
    """Return a location as ``types.rechnung.rules[1].kind``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _message(error: ErrorDetails) -> str:
    """Return a short, lower-case message for one pydantic error."""
    ctx = error.get("ctx") or {}
    if error["type"] == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if choices:
            return "must be one of " + ", ".join(choices)
    if error["type"] == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    if error["type"] == "missing":
        return "required but missing"
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].lower() + message[1:]
