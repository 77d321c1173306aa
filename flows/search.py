"""Search the records: ranked full-text and field search, and a letter's event history.

Plain functions over an engine, shared by the CLI (``postroom records search``) and the web page.
Both only read, in a read-only transaction (``SET TRANSACTION READ ONLY`` on PostgreSQL,
``PRAGMA query_only`` on SQLite); nothing here changes a record or an event.

How text is folded and what the index holds: ``schemas/search.py``. A query's words are ANDed, a
quoted part is a phrase. Hits are ranked (bm25 on SQLite, ts_rank on PostgreSQL), best first;
without words they come newest letter date first. Only ``MAX_HITS`` (1,000) hits are counted and
reachable: a query matching more is answered from its 1,000 most recently received matches,
ranked. Ranking reads each candidate's whole index entry: ranking all 77,000 of 100,000 letters
that say "Kreisverwaltung" took 170-240 ms on SQLite and 110 ms on PostgreSQL already with
20,000 letters; ranking the newest 1,000 takes 12-28 ms (``bench/search.py``). ``total_capped``
tells the page to ask for more words.

Destroyed letters are never found, except by asking for ``status="destroyed"`` without words
(their tombstones). On SQLite words match exactly (after folding); on PostgreSQL the ``german``
stemmer also matches inflected forms ("Widerspruchs" for "Widerspruch") and ignores stop words.

A snippet marks each match as ``MATCH_START`` word ``MATCH_END`` (control characters that are
removed from the letter's text first): escape the snippet, then turn the markers into
highlighting. On PostgreSQL a word is also highlighted when it shares a stem-like prefix with a
query word, so inflected matches light up too.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from flows.records import event_dicts
from schemas.export import as_utc
from schemas.letter import State
from schemas.search import (
    FTS_TABLE,
    MATCH_END,
    MATCH_START,
    MAX_HITS,
    PG_CONFIG,
    SearchHit,
    SearchPage,
    SearchQuery,
    Term,
    aktenzeichen_key,
    fold,
    letters,
    parse_query,
    words,
)

SNIPPET_CHARS = 240
SNIPPET_SCAN = 100_000  # characters of a letter searched for the snippet
_WORD = re.compile(r"[^\W_]+")
fts = sa.table(FTS_TABLE, sa.column("rowid", sa.Integer), sa.column("rank", sa.Float))
search_vector: sa.ColumnClause[Any] = sa.column("search_vector")


@contextmanager
def read_only(engine: Engine) -> Iterator[Connection]:
    """Yield a connection whose transaction refuses every write; roll it back afterwards."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA query_only = ON")
            connection.commit()
        else:
            connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield connection
        finally:
            connection.rollback()
            if sqlite:  # the pooled connection goes back to writers
                connection.exec_driver_sql("PRAGMA query_only = OFF")
                connection.commit()


def search(engine: Engine, query: SearchQuery) -> SearchPage:
    """Return one page of the letters that match a query, best first."""
    terms = parse_query(query.text)
    offset = (query.page - 1) * query.page_size
    limit = max(0, min(query.page_size, MAX_HITS - offset))
    with read_only(engine) as connection:
        matching, best_first = plan(connection.dialect.name, terms, query)
        total: int = connection.execute(capped_count(matching)).scalar_one()
        page = connection.execute(best_first.limit(limit).offset(offset)).all() if limit else []
        rows = details(connection, [row.seq for row in page])
    stemmed = bool(terms) and engine.dialect.name == "postgresql"
    hits = tuple(
        hit(rows[row.seq], terms, float(row.rank), stemmed=stemmed)
        for row in page
        if row.seq in rows
    )
    return SearchPage(
        hits=hits,
        total=min(total, MAX_HITS),
        total_capped=total > MAX_HITS,
        page=query.page,
        page_size=query.page_size,
    )


def history(engine: Engine, letter_id: str) -> list[dict[str, Any]]:
    """Return a letter's event log, oldest first, as new dicts (an empty list for no letter)."""
    with read_only(engine) as connection, Session(bind=connection) as session:
        return event_dicts(session, letter_id)


# --- the queries --------------------------------------------------------------------------------


def filters(query: SearchQuery) -> list[sa.ColumnElement[bool]]:
    """Return the conditions of a query's field filters on ``letters``."""
    conditions: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (letters.c.doc_type, query.doc_type),
        (letters.c.department, query.department),
        (letters.c.status, query.status),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.sender:
        for word in words(query.sender):
            translit, plain = fold(word)
            conditions.append(
                sa.or_(
                    letters.c.sender_norm.contains(translit, autoescape=True),
                    letters.c.sender_norm.contains(plain, autoescape=True),
                )
            )
    if query.aktenzeichen:
        conditions.append(letters.c.aktenzeichen_norm == aktenzeichen_key(query.aktenzeichen))
    if query.date_from is not None:
        conditions.append(letters.c.letter_date >= query.date_from)
    if query.date_to is not None:
        conditions.append(letters.c.letter_date <= query.date_to)
    return conditions


def fts_match(terms: Sequence[Term]) -> str:
    """Return the FTS5 query of ANDed terms, each matching in either folded form."""

    def phrase(parts: tuple[str, ...]) -> str:
        return '"' + " ".join(parts).replace('"', '""') + '"'

    clauses = []
    for term in terms:
        if term.translit == term.plain:
            clauses.append(phrase(term.translit))
        else:
            clauses.append(f"({phrase(term.translit)} OR {phrase(term.plain)})")
    return " AND ".join(clauses)


def pg_tsquery(terms: Sequence[Term]) -> sa.ColumnElement[Any]:
    """Return the PostgreSQL tsquery of ANDed terms, each matching in either folded form."""
    config: sa.ColumnClause[Any] = sa.literal_column(f"'{PG_CONFIG}'")
    combined: sa.ColumnElement[Any] | None = None
    for term in terms:
        one: sa.ColumnElement[Any] = sa.func.phraseto_tsquery(config, " ".join(term.translit))
        if term.plain != term.translit:
            one = one.op("||")(sa.func.phraseto_tsquery(config, " ".join(term.plain)))
        combined = one if combined is None else combined.op("&&")(one)
    assert combined is not None
    return combined


def plan(
    dialect: str, terms: Sequence[Term], query: SearchQuery
) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """Return a query's two statements: the matching letters, and them best first.

    Ranking a letter costs reading its whole index entry, so a query matching more than
    ``MAX_HITS`` letters ranks only its ``MAX_HITS`` most recently received matches: exactly
    the hits that can be paged through. Without words, letters come newest letter date first.
    """
    conditions = filters(query)
    if not terms:
        if query.status is None:
            conditions.append(letters.c.status != State.DESTROYED.value)
        matching = sa.select(letters.c.seq).select_from(letters).where(*conditions)
        best_first = (
            sa.select(letters.c.seq, sa.literal(0.0, sa.Float).label("rank"))
            .select_from(letters)
            .where(*conditions)
            .order_by(letters.c.letter_date.desc(), letters.c.seq.desc())
        )
        return matching, best_first
    if dialect == "postgresql":
        tsquery = pg_tsquery(terms)
        matches = search_vector.op("@@")(tsquery)
        matching = sa.select(letters.c.seq).select_from(letters).where(matches, *conditions)
        recent = (
            matching.add_columns(search_vector.label("vector"))
            .order_by(letters.c.seq.desc())
            .limit(MAX_HITS)
            .subquery("recent")
        )
        rank: sa.ColumnElement[float] = sa.func.ts_rank(recent.c.vector, tsquery, 1)
        best_first = sa.select(recent.c.seq, rank.label("rank")).order_by(
            rank.desc(), recent.c.seq.desc()
        )
        return matching, best_first
    matches = sa.literal_column(FTS_TABLE).op("MATCH")(fts_match(terms))
    matching = sa.select(fts.c.rowid.label("seq")).select_from(fts).where(matches)
    if conditions:  # the index alone knows no fields: join the rows only when filtering
        matching = matching.join_from(fts, letters, letters.c.seq == fts.c.rowid).where(*conditions)
    recent = (
        matching.add_columns((-fts.c.rank).label("rank"))  # bm25: lower is better
        .order_by(fts.c.rowid.desc())
        .limit(MAX_HITS)
        .subquery("recent")
    )
    best_first = sa.select(recent.c.seq, recent.c.rank).order_by(
        recent.c.rank.desc(), recent.c.seq.desc()
    )
    return matching, best_first


def capped_count(matches: sa.Select[Any]) -> sa.Select[Any]:
    """Return a count of a query's rows that stops one past ``MAX_HITS``."""
    return sa.select(sa.func.count()).select_from(matches.limit(MAX_HITS + 1).subquery())


def details(connection: Connection, seqs: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Return what a hit shows of each letter, by ``seq``."""
    if not seqs:
        return {}
    result = connection.execute(
        sa.select(
            letters.c.seq,
            letters.c.id,
            letters.c.source_key,
            letters.c.received_at,
            letters.c.status,
            letters.c.doc_type,
            letters.c.department,
            letters.c.fields,
            letters.c.text,
            letters.c.letter_date,
        ).where(letters.c.seq.in_(list(seqs)))
    )
    return {row["seq"]: dict(row) for row in result.mappings()}


def hit(row: dict[str, Any], terms: Sequence[Term], rank: float, *, stemmed: bool) -> SearchHit:
    """Return one hit with its snippet."""
    fields = row["fields"] or {}
    return SearchHit(
        id=row["id"],
        source_key=row["source_key"],
        received_at=as_utc(row["received_at"]),
        status=row["status"],
        doc_type=row["doc_type"],
        department=row["department"],
        sender=fields.get("sender"),
        aktenzeichen=fields.get("aktenzeichen"),
        letter_date=row["letter_date"] if isinstance(row["letter_date"], dt.date) else None,
        snippet=snippet(row["text"] or "", terms, stemmed=stemmed),
        rank=rank,
    )


# --- snippets -----------------------------------------------------------------------------------


def _shares_stem(word: str, wanted: str) -> bool:
    """Return whether two folded words plausibly share a German stem (for highlighting only)."""
    shorter = min(len(word), len(wanted))
    common = 0
    for a, b in zip(word, wanted, strict=False):
        if a != b:
            break
        common += 1
    return common >= max(4, shorter - 2)


def matching(word: str, wanted: frozenset[str], *, stemmed: bool) -> bool:
    """Return whether a word of the text matches a query word in either folded form."""
    forms = fold(unicodedata.normalize("NFKC", word).lower())
    if forms[0] in wanted or forms[1] in wanted:
        return True
    return stemmed and any(_shares_stem(form, w) for form in forms for w in wanted)


def snippet(text: str, terms: Sequence[Term], *, stemmed: bool = False) -> str:
    """Return the part of a text with the most query words, each between the match markers."""
    clean = " ".join(
        unicodedata.normalize("NFC", text[:SNIPPET_SCAN])
        .replace(MATCH_START, "")
        .replace(MATCH_END, "")
        .split()
    )
    wanted = frozenset(w for term in terms for w in term.translit + term.plain)
    initials = {w[0] for w in wanted}  # both folded forms of a word begin alike
    spans = [
        m.span()
        for m in _WORD.finditer(clean)
        if fold(m.group()[0].lower())[1][:1] in initials
        and matching(m.group(), wanted, stemmed=stemmed)
    ][:200]
    start = 0
    if spans:
        best = max(
            spans,
            key=lambda span: len(
                {clean[s:e].lower() for s, e in spans if span[0] - 60 <= s and e <= span[0] + 180}
            ),
        )
        start = max(0, min(best[0] - 60, len(clean) - SNIPPET_CHARS))  # fill the window
        start = clean.rfind(" ", 0, start) + 1 if start else 0
    end = min(len(clean), start + SNIPPET_CHARS)
    if end < len(clean):
        cut = clean.rfind(" ", start, end)
        end = cut if cut > start else end
    pieces, at = [], start
    for s, e in spans:
        if s >= start and e <= end:
            pieces += [clean[at:s], MATCH_START, clean[s:e], MATCH_END]
            at = e
    pieces.append(clean[at:end])
    return ("…" if start else "") + "".join(pieces) + ("…" if end < len(clean) else "")
