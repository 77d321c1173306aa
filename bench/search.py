"""Benchmark the records search on SQLite and PostgreSQL with 100,000 generated letters.

    .venv/bin/python bench/search.py [--records 100000] [--runs 30] [--seed 1]

Composes 2,000 letters with ``flows/samples.py::compose`` (text and fields, no rendering, no OCR)
and builds the records from their paragraphs, recombined per record (1-3 pages, ~2,000
characters a page, varied sender, letter date, Aktenzeichen), seeded, so every run measures the
same data. Each database is filled in one transaction through the index writer's own functions
(``schemas/search.py``), then every query runs ``--runs`` times after three warm-up runs through
``flows.search.search`` (count capped at 1,000, page size 20, snippets included): the printed
p50/p95 are the wall time of that call. PostgreSQL is a throwaway cluster of Debian's binaries
(``tests/postgres.py``), started and stopped here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from flows.samples import DOC_TYPES, compose
from flows.search import search
from schemas.db import engine_for, migrate
from schemas.search import SearchQuery, fts_letters, pg_vector, search_document
from tests.postgres import throwaway_cluster

TARGET_MS = 200.0
COMPOSED_PER_TYPE = 200
BATCH = 2000
DEPARTMENTS = {
    "rechnung": "Kämmerei",
    "mahnung": "Kämmerei",
    "antrag": "Sozialamt",
    "widerspruch": "Rechtsamt",
    "gericht": "Rechtsamt",
    "beschwerde": "Bürgerservice",
    "bewerbung": "Personalamt",
    "anfrage": "Pressestelle",
    "werbung": "Poststelle",
    "sonstiges": "Poststelle",
}
AZ_OFFICES = ("63-BG", "32.1", "50-WG", "20.3", "II/3", "51-EG", "36-PA")
RARE = ("Zwetschgenbaum", "Kirschlorbeerhecke", "Wasserrohrbruch", "Hundesteuerbefreiung")
RARE_EVERY = 5000  # each rare word in records n ≡ i (mod 5000): 20 of 100,000
COMMON = "Kreisverwaltung"
PHRASE = '"freundlichen Grüßen"'
TWO_WORDS = "Widerspruch Bescheid"
FIRST_DAY, LAST_DAY = dt.date(2015, 1, 1), dt.date(2026, 10, 31)
# PostgreSQL as an administrator would configure it on a machine of this size.
PG_SETTINGS = {"shared_buffers": "1GB", "effective_cache_size": "4GB", "work_mem": "32MB"}


@dataclass(frozen=True)
class Corpus:
    """Composed letters, cut into what records are built from, per document type."""

    letters: dict[str, list[list[str]]]  # type → letters → paragraphs
    bodies: dict[str, list[str]]  # type → paragraphs from the middle of letters
    senders: list[str]


def paragraphs(text: str) -> list[str]:
    """Return a page's blocks separated by blank lines."""
    return [block.strip() for block in text.split("\n\n") if block.strip()]


def compose_corpus(seed: int) -> Corpus:
    """Compose COMPOSED_PER_TYPE letters of every type and cut them into paragraphs."""
    letters: dict[str, list[list[str]]] = {}
    bodies: dict[str, list[str]] = {}
    senders: set[str] = set()
    for doc_type in DOC_TYPES:
        letters[doc_type], bodies[doc_type] = [], []
        for n in range(COMPOSED_PER_TYPE):
            truth = compose(doc_type, seed * 100_000 + n)
            blocks = paragraphs("\n\n".join(truth.pages))
            letters[doc_type].append(blocks)
            bodies[doc_type] += [b for b in blocks[4:-2] if len(b) > 80]
            if truth.sender:
                senders.add(truth.sender)
    return Corpus(letters=letters, bodies=bodies, senders=sorted(senders))


def aktenzeichen(n: int) -> str | None:
    """Return record ``n``'s Aktenzeichen (unique), or None for the half without one."""
    if n % 2:
        return None
    return f"{AZ_OFFICES[n // 2 % len(AZ_OFFICES)]} {2015 + n // 14 % 12}/{n:06d}"


def build_record(corpus: Corpus, n: int, seed: int) -> dict[str, Any]:
    """Return the ``letters`` row of generated record ``n``."""
    rng = random.Random(f"postroom-bench:{seed}:{n}")
    doc_type = rng.choice(DOC_TYPES)
    base = list(rng.choice(corpus.letters[doc_type]))
    day = FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
    az = aktenzeichen(n)
    if az:
        base.insert(min(3, len(base)), f"Aktenzeichen: {az}")
    if n % RARE_EVERY < len(RARE):
        word = RARE[n % RARE_EVERY]
        base.insert(len(base) // 2, f"Betroffen ist außerdem der {word} auf dem Grundstück.")
    pool = corpus.bodies[doc_type]
    pages, page = [], "\n\n".join(base)
    for _ in range(rng.choices((1, 2, 3), weights=(4, 4, 2))[0]):
        while len(page) < rng.randint(1600, 2400):
            page += "\n\n" + rng.choice(pool)
        pages.append(page)
        page = ""
    received = dt.datetime.combine(day, dt.time(9), dt.UTC) + dt.timedelta(days=rng.randint(1, 5))
    return {
        "id": f"{n:024x}",
        "bucket": "postroom-inbox",
        "source_key": f"scanner-{n % 4 + 1}/{day:%Y%m%d}-{n}.pdf",
        "version_id": "bench",
        "received_at": received,
        "updated_at": received,
        "status": "done",
        "pages": len(pages),
        "doc_type": doc_type,
        "department": DEPARTMENTS[doc_type],
        "fields": {
            "sender": rng.choice(corpus.senders),
            "date": day.isoformat(),
            "aktenzeichen": az,
        },
        "text": "\f".join(pages),
    }


def records(corpus: Corpus, count: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """Yield the generated records in batches, with their index columns filled in."""
    for start in range(0, count, BATCH):
        batch = []
        for n in range(start, min(count, start + BATCH)):
            row = build_record(corpus, n, seed) | {"seq": n + 1}
            document = search_document(row)
            batch.append(
                row
                | {
                    "letter_date": document.letter_date,
                    "sender_norm": document.sender_norm,
                    "aktenzeichen_norm": document.aktenzeichen_norm,
                    "b_fields": document.fields,
                    "b_body": document.body,
                    "b_body_plain": document.body_plain,
                }
            )
        yield batch


def load(engine: Engine, corpus: Corpus, count: int, seed: int) -> float:
    """Fill a migrated records database in one transaction; return the seconds it took."""
    started = time.perf_counter()
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        table = sa.Table("letters", sa.MetaData(), autoload_with=connection)
        insert = table.insert()
        if postgres:  # the tsvector is computed by the server, from the same folded words
            insert = insert.values(
                search_vector=pg_vector(
                    sa.bindparam("b_fields", type_=sa.Text),
                    sa.bindparam("b_body", type_=sa.Text),
                    sa.bindparam("b_body_plain", type_=sa.Text),
                )
            )
        columns = [column.name for column in table.columns if column.name != "search_vector"]
        for batch in records(corpus, count, seed):
            extra = ("b_fields", "b_body", "b_body_plain") if postgres else ()
            connection.execute(
                insert, [{k: row.get(k) for k in (*columns, *extra)} for row in batch]
            )
            if not postgres:
                connection.execute(
                    fts_letters.insert(),
                    [
                        {"rowid": row["seq"], "fields": row["b_fields"], "body": row["b_body"],
                         "body_plain": row["b_body_plain"]}
                        for row in batch
                    ],
                )  # fmt: skip
            print(f"  {batch[-1]['seq']:>7,} records", end="\r", file=sys.stderr, flush=True)
        if postgres:
            connection.execute(sa.text("SELECT setval('letters_seq_seq', :n)"), {"n": count})
    if postgres:  # what autovacuum does soon after a bulk load; SQLite gets no maintenance
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE letters"))
    return time.perf_counter() - started


@dataclass(frozen=True)
class Case:
    """One kind of query, and how to make its n-th instance."""

    name: str
    make: Callable[[int], SearchQuery]


def cases(count: int, seed: int) -> list[Case]:
    """Return the queries the issue names, each instance varied where that is natural."""
    rng = random.Random(f"postroom-bench-queries:{seed}")
    picks = [rng.randrange(0, count, 2) for _ in range(1000)]  # records with an Aktenzeichen

    def exact_az(i: int) -> SearchQuery:
        return SearchQuery(aktenzeichen=(aktenzeichen(picks[i]) or "").lower())

    def dates_and_type(i: int) -> SearchQuery:
        day_rng = random.Random(f"postroom-bench-dates:{seed}:{i}")
        start = FIRST_DAY + dt.timedelta(days=day_rng.randrange(3000))
        return SearchQuery(
            doc_type=day_rng.choice(DOC_TYPES),
            date_from=start,
            date_to=start + dt.timedelta(days=90),
        )

    def word_type_year(i: int) -> SearchQuery:
        window = dates_and_type(i)
        assert window.date_from is not None
        return window.model_copy(
            update={"text": COMMON, "date_to": window.date_from + dt.timedelta(days=365)}
        )

    return [
        Case(f"common word {COMMON}", lambda _i: SearchQuery(text=COMMON)),
        Case("rare word", lambda i: SearchQuery(text=RARE[i % len(RARE)])),
        Case(f"phrase {PHRASE}", lambda _i: SearchQuery(text=PHRASE)),
        Case(f"two words {TWO_WORDS}", lambda _i: SearchQuery(text=TWO_WORDS)),
        Case("exact Aktenzeichen", exact_az),
        Case("90 days + type", dates_and_type),
        Case(f"{COMMON} + type + one year", word_type_year),
    ]


@dataclass(frozen=True)
class Timing:
    """The latencies of one case on one database."""

    p50: float
    p95: float
    total: str  # a typical count, "1000+" when capped


def measure(engine: Engine, case: Case, runs: int) -> Timing:
    """Run a case's instances (three warm-ups first); return p50 and p95 in milliseconds."""
    for i in range(3):
        search(engine, case.make(runs + i))
    latencies, totals = [], []
    for i in range(runs):
        started = time.perf_counter()
        page = search(engine, case.make(i))
        latencies.append((time.perf_counter() - started) * 1000)
        totals.append(f"{page.total}{'+' if page.total_capped else ''}")
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[18]
    return Timing(p50=statistics.median(latencies), p95=p95, total=statistics.mode(totals))


@dataclass(frozen=True)
class Result:
    """One database's load and query figures."""

    name: str
    load_seconds: float
    size: str
    timings: dict[str, Timing]


def database_size(engine: Engine, url: str) -> str:
    """Return how much space the records take, for people."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(sa.text("SELECT pg_database_size(current_database())"))
            return f"{size.scalar_one() / 1e9:.1f} GB"
    return f"{Path(url.split('///', 1)[1]).stat().st_size / 1e9:.1f} GB"


def run_database(name: str, url: str, corpus: Corpus, count: int, seed: int, runs: int) -> Result:
    """Migrate, fill and measure one database."""
    migrate(url)
    engine = engine_for(url)
    print(f"{name}: loading {count:,} records …", file=sys.stderr)
    seconds = load(engine, corpus, count, seed)
    print(f"{name}: loaded in {seconds:.0f} s; measuring", file=sys.stderr)
    timings = {case.name: measure(engine, case, runs) for case in cases(count, seed)}
    size = database_size(engine, url)
    engine.dispose()
    return Result(name=name, load_seconds=seconds, size=size, timings=timings)


def cell(timing: Timing) -> str:
    """Return one database's figures for a case, with the target beside them."""
    mark = "ok" if timing.p95 < TARGET_MS else "MISSED"
    return f"{timing.p50:6.1f} {timing.p95:6.1f} {mark:<6} {timing.total:>6}"


def report(results: list[Result], count: int, runs: int) -> str:
    """Return the side-by-side table of p50/p95 per case and database."""
    width = 31
    lines = [
        f"{count:,} records, page size 20, counts capped at 1,000, {runs} runs per query "
        f"after 3 warm-ups; latency of flows.search.search in ms; target p95 < {TARGET_MS:.0f} ms",
        " " * 38 + "".join(f"{result.name:<{width}}" for result in results),
        f"{'query':<38}"
        + "".join(f"{'p50':>6} {'p95':>6} {'<200?':<6} {'found':>6}  " for _ in results),
    ]
    for case in results[0].timings:
        lines.append(
            f"{case:<38}" + "".join(f"{cell(result.timings[case]):<{width}}" for result in results)
        )
    for result in results:
        lines.append(
            f"{result.name}: loaded in {result.load_seconds:.0f} s (one transaction, index "
            f"included), {result.size} on disk"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    corpus = compose_corpus(args.seed)
    print(f"composed {len(DOC_TYPES) * COMPOSED_PER_TYPE:,} letters in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as tmp:
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{Path(tmp) / 'records.db'}"
            results.append(run_database("SQLite", url, corpus, args.records, args.seed, args.runs))
    if args.only in (None, "postgresql"):
        with throwaway_cluster(PG_SETTINGS) as cluster:
            results.append(
                run_database("PostgreSQL", cluster.url, corpus, args.records, args.seed, args.runs)
            )
    print(report(results, args.records, args.runs))
    missed = any(t.p95 >= TARGET_MS for result in results for t in result.timings.values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
