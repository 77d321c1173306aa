"""The records' full-text index: what a search asks and answers, and how words are folded.

**Folding** (one function for the index and the query, on both databases): a word is lowered
(NFKC first, so ligatures and composed umlauts compare equal) and written in two forms,

- *transliterated*: ä→ae, ö→oe, ü→ue, ß→ss, every other diacritic dropped (é→e);
- *plain*: every diacritic dropped (ä→a, ö→o, ü→u), and ß, ss and s all one s.

Every letter is indexed in both forms, and a query word matches a letter when either of its own
forms occurs there. So "Müller", "Mueller" and "Muller" all find a letter that says "Müller"
(and "Müller"/"Mueller" find "Mueller"); "Straße", "Strasse" and "Strase" find both "Straße" and
"Strasse"; "Grüßen", "Gruessen", "Grussen" and "Grusen" find "Grüßen". "Muller" does not find
"Mueller": that is another spelling, not a folding, and there is no fuzzy matching. The price of
the plain form: words that differ only in s/ss/ß or in umlaut dots meet ("Masse" finds "Maße",
"Kasse" finds "Käse"), which ranking puts up with. Words are runs of letters and digits; anything
else separates them ("32.1-2019/0815" is the four words 32 1 2019 0815, found as a phrase).

**Query**: words are ANDed; a double-quoted part is a phrase, and so is a word with inner
punctuation; there are no operators. The query is folded as above, so both databases answer the
same question, except that PostgreSQL's ``german`` configuration also matches inflected forms
("Widerspruchs" for "Widerspruch") and ignores stop words ("und", "die"), which SQLite matches
as they are.

**Index**:

- SQLite: the FTS5 table ``letters_fts`` (``rowid`` = ``letters.seq``; tokenizer ``unicode61
  remove_diacritics 2``, which sees only folded words) with the columns ``fields`` (sender,
  Aktenzeichen, type, subject, department, source key, both forms), ``body`` (the text,
  transliterated) and ``body_plain`` (the text, plain); ranked by ``bm25`` with ``fields``
  weighted 4.
- PostgreSQL: the column ``letters.search_vector`` (``tsvector``, GIN index ``ix_letters_search``)
  built with the ``german`` configuration (stemming, German stop words) from the same folded
  words: fields with weight A, text with weight B; ranked by ``ts_rank``. No extension is needed:
  ``unaccent`` would fold ä→a only, which the Python folding already does, and for both forms.

Filters read plain columns of ``letters`` that the index writer keeps in step:
``letter_date`` (the letter's own date, else the receipt date), ``sender_norm`` and
``aktenzeichen_norm``. A destroyed letter leaves the index; its tombstone keeps its letter date,
while sender and Aktenzeichen go with its fields.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import Field, field_validator
from sqlalchemy.engine import Connection

from schemas.letter import Frozen, State

# The first 1,000 hits of a query are reachable, and its total is counted up to there.
MAX_HITS = 1000
MAX_PAGE_SIZE = 100
MAX_QUERY_TERMS = 32
# A tsvector holds at most 1 MiB; ~400 pages of text stay well under it, the rest is not indexed.
MAX_INDEXED_CHARS = 1_000_000
FTS_TABLE = "letters_fts"
PG_CONFIG = "german"
MATCH_START, MATCH_END = "\x02", "\x03"

_WORD = re.compile(r"[^\W_]+")
_QUERY_PART = re.compile(r'"([^"]*)"?|(\S+)')
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_PLAIN = str.maketrans({"ß": "s"})
_ESSES = re.compile("s+")

# The columns of ``letters`` the index writer and the search use (three added by migration 0003),
# as a lightweight table: they work whether or not the ORM model maps the new ones.
letters = sa.table(
    "letters",
    sa.column("seq", sa.Integer),
    sa.column("id", sa.String),
    sa.column("source_key", sa.Text),
    sa.column("received_at", sa.DateTime(timezone=True)),
    sa.column("status", sa.String),
    sa.column("doc_type", sa.String),
    sa.column("subject", sa.String),
    sa.column("department", sa.String),
    sa.column("fields", sa.JSON),
    sa.column("text", sa.Text),
    sa.column("letter_date", sa.Date),
    sa.column("sender_norm", sa.Text),
    sa.column("aktenzeichen_norm", sa.String),
)
pg_letters = sa.table("letters", sa.column("seq", sa.Integer), sa.column("search_vector"))
fts_letters = sa.table(
    FTS_TABLE,
    sa.column("rowid", sa.Integer),
    sa.column("fields", sa.Text),
    sa.column("body", sa.Text),
    sa.column("body_plain", sa.Text),
)


class SearchQuery(Frozen):
    """What an archivist asks: words and filters, and which page of the answer."""

    text: str = Field(default="", max_length=1000)
    doc_type: str | None = None
    department: str | None = None
    sender: str | None = None
    aktenzeichen: str | None = None
    date_from: dt.date | None = None  # the letter date, falling back to the receipt date
    date_to: dt.date | None = None
    status: str | None = None
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("doc_type", "department", "sender", "aktenzeichen", "status", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """Read an empty form field as no filter."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        """Refuse a status no letter can have."""
        if value is not None and value not in {state.value for state in State}:
            raise ValueError(f"unknown status {value!r}; one of {', '.join(State)}")
        return value


class SearchHit(Frozen):
    """One letter found, with a snippet whose matches sit between MATCH_START and MATCH_END."""

    id: str
    source_key: str
    received_at: dt.datetime
    status: str
    doc_type: str | None
    department: str | None
    sender: str | None
    aktenzeichen: str | None
    letter_date: dt.date | None
    snippet: str
    rank: float  # higher is better; comparable within one answer only


class SearchPage(Frozen):
    """One page of an answer, and how many letters matched (counted up to MAX_HITS)."""

    hits: tuple[SearchHit, ...]
    total: int
    total_capped: bool
    page: int
    page_size: int


class Term(Frozen):
    """One ANDed part of a query: a word or a phrase, in both folded forms."""

    translit: tuple[str, ...]
    plain: tuple[str, ...]


class SearchDocument(Frozen):
    """What the index holds for one letter: the folded words and the filter columns."""

    seq: int
    fields: str
    body: str
    body_plain: str
    letter_date: dt.date | None
    sender_norm: str | None
    aktenzeichen_norm: str | None


# --- folding ------------------------------------------------------------------------------------


def _strip_marks(word: str) -> str:
    """Drop combining marks (diacritics) from a word."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def fold(word: str) -> tuple[str, str]:
    """Return a lowered word's transliterated and plain forms (Straße → strasse, strase)."""
    plain = _ESSES.sub("s", _strip_marks(word.translate(_PLAIN)))
    return _strip_marks(word.translate(_TRANSLIT)), plain


def words(text: str) -> list[str]:
    """Return the lowered words of a text, as the index and the query both split it."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def folded(text: str) -> tuple[str, str]:
    """Return a text's words in their transliterated and in their plain forms."""
    pairs = [fold(word) for word in words(text)]
    return " ".join(p[0] for p in pairs if p[0]), " ".join(p[1] for p in pairs if p[1])


def both_forms(text: str) -> str:
    """Return a short text's words in both forms (the plain ones only where they differ)."""
    translit, plain = folded(text)
    return translit if translit == plain else f"{translit} {plain}"


def parse_query(text: str) -> tuple[Term, ...]:
    """Split a query into ANDed terms: quoted phrases, words, and words with inner punctuation."""
    terms: list[Term] = []
    for match in _QUERY_PART.finditer(text):
        part = match.group(1) if match.group(1) is not None else match.group(2)
        pairs = [fold(word) for word in words(part)]
        pairs = [pair for pair in pairs if pair[0] and pair[1]]
        if pairs:
            terms.append(
                Term(translit=tuple(p[0] for p in pairs), plain=tuple(p[1] for p in pairs))
            )
    return tuple(dict.fromkeys(terms))[:MAX_QUERY_TERMS]


def aktenzeichen_key(aktenzeichen: str) -> str:
    """Return an Aktenzeichen as compared: case folded, without any whitespace."""
    return "".join(unicodedata.normalize("NFKC", aktenzeichen).casefold().split())


def sender_key(sender: str) -> str:
    """Return a sender as a filter compares it: its words in both forms."""
    return both_forms(sender)


def letter_date_of(fields: Mapping[str, Any] | None, received_at: dt.datetime | None) -> dt.date:
    """Return the letter's own date from its fields, else its receipt date."""
    value = (fields or {}).get("date")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    return (received_at or dt.datetime.now(dt.UTC)).date()


# --- the index writer ---------------------------------------------------------------------------


def search_document(row: Mapping[str, Any]) -> SearchDocument:
    """Return what the index holds for a ``letters`` row (a mapping of its columns)."""
    fields: Mapping[str, Any] = row.get("fields") or {}
    sender = fields.get("sender")
    aktenzeichen = fields.get("aktenzeichen")
    described = [
        sender,
        aktenzeichen,
        row.get("doc_type"),
        row.get("subject"),
        row.get("department"),
        row.get("source_key"),
    ]
    body, body_plain = folded((row.get("text") or "")[:MAX_INDEXED_CHARS])
    return SearchDocument(
        seq=row["seq"],
        fields=both_forms(" ".join(str(value) for value in described if value)),
        body=body,
        body_plain=body_plain,
        letter_date=letter_date_of(fields, row.get("received_at")),
        sender_norm=sender_key(sender) if isinstance(sender, str) and sender else None,
        aktenzeichen_norm=(
            aktenzeichen_key(aktenzeichen)
            if isinstance(aktenzeichen, str) and aktenzeichen
            else None
        ),
    )


def pg_vector(fields: Any, body: Any, body_plain: Any) -> sa.ColumnElement[Any]:
    """Return the SQL expression of a letter's tsvector from its folded words."""

    def weighted(value: Any, weight: str) -> sa.ColumnElement[Any]:
        return sa.func.setweight(
            sa.func.to_tsvector(sa.literal_column(f"'{PG_CONFIG}'"), value),
            sa.literal_column(f"'{weight}'"),
        )

    return weighted(fields, "A").op("||")(weighted(body, "B")).op("||")(weighted(body_plain, "B"))


def write_filters(connection: Connection, documents: Sequence[SearchDocument]) -> None:
    """Write letters' filter columns (letter date, sender and Aktenzeichen as compared)."""
    if not documents:
        return
    connection.execute(
        letters.update()
        .where(letters.c.seq == sa.bindparam("b_seq"))
        .values(
            letter_date=sa.bindparam("b_letter_date"),
            sender_norm=sa.bindparam("b_sender_norm"),
            aktenzeichen_norm=sa.bindparam("b_aktenzeichen_norm"),
        ),
        [
            {
                "b_seq": d.seq,
                "b_letter_date": d.letter_date,
                "b_sender_norm": d.sender_norm,
                "b_aktenzeichen_norm": d.aktenzeichen_norm,
            }
            for d in documents
        ],
    )


def write_entries(connection: Connection, documents: Sequence[SearchDocument]) -> None:
    """Write letters' full-text index entries, replacing any earlier ones."""
    if not documents:
        return
    if connection.dialect.name == "postgresql":
        vector = pg_vector(
            sa.bindparam("fields", type_=sa.Text),
            sa.bindparam("body", type_=sa.Text),
            sa.bindparam("body_plain", type_=sa.Text),
        )
        connection.execute(
            pg_letters.update()
            .where(pg_letters.c.seq == sa.bindparam("b_seq"))
            .values(search_vector=vector),
            [
                {"b_seq": d.seq, "fields": d.fields, "body": d.body, "body_plain": d.body_plain}
                for d in documents
            ],
        )
        return
    drop_from_index(connection, [d.seq for d in documents])
    connection.execute(
        fts_letters.insert(),
        [
            {"rowid": d.seq, "fields": d.fields, "body": d.body, "body_plain": d.body_plain}
            for d in documents
        ],
    )


def drop_from_index(connection: Connection, seqs: Iterable[int]) -> None:
    """Remove letters' full-text index entries; their rows stay."""
    params = [{"b_seq": seq} for seq in seqs]
    if not params:
        return
    if connection.dialect.name == "postgresql":
        statement: sa.Executable = (
            pg_letters.update()
            .where(pg_letters.c.seq == sa.bindparam("b_seq"))
            .values(search_vector=None)
        )
    else:
        statement = fts_letters.delete().where(fts_letters.c.rowid == sa.bindparam("b_seq"))
    connection.execute(statement, params)


def index_letters(connection: Connection, seqs: Iterable[int]) -> int:
    """Bring letters' filter columns and index entries in step with their rows.

    A destroyed letter keeps filter columns (recomputed from its tombstone) but leaves the
    index. Return how many rows were read.
    """
    rows = list(
        connection.execute(
            sa.select(
                letters.c.seq,
                letters.c.status,
                letters.c.source_key,
                letters.c.received_at,
                letters.c.doc_type,
                letters.c.subject,
                letters.c.department,
                letters.c.fields,
                letters.c.text,
            ).where(letters.c.seq.in_(list(seqs)))
        ).mappings()
    )
    documents = [search_document(dict(row)) for row in rows]
    destroyed = {row["seq"] for row in rows if row["status"] == State.DESTROYED}
    write_filters(connection, documents)
    write_entries(connection, [d for d in documents if d.seq not in destroyed])
    drop_from_index(connection, destroyed)
    return len(rows)


def include_name(name: str | None, type_: str, _parent_names: Mapping[str, Any]) -> bool:
    """Leave the full-text index out of Alembic's model comparison (it is not an ORM model)."""
    if type_ == "table" and name is not None and name.startswith(FTS_TABLE):
        return False
    if type_ == "index" and name == "ix_letters_search":
        return False
    return not (type_ == "column" and name == "search_vector")
