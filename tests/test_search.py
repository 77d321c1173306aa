"""Search: the full-text index, the filters, ranking, paging and history, on SQLite and PostgreSQL.

Every database test runs twice: on a real SQLite file and on a real PostgreSQL 15 (a throwaway
cluster of Debian's binaries for the session, one database per test; see ``tests/postgres.py``).
Letters are written through the record step's own functions (``claim_letter``, ``advance``), so
the index is kept in step exactly as in a flow run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, insert, inspect, text
from sqlalchemy.exc import DBAPIError

import flows.search
from flows.records_commands import add_records_search_commands
from flows.search import history, read_only, search, snippet
from schemas.db import alembic_config, engine_for, migrate
from schemas.letter import SourceObject, State
from schemas.records import Event, Letter
from schemas.search import (
    MATCH_END,
    MATCH_START,
    SearchQuery,
    Term,
    aktenzeichen_key,
    fold,
    index_letters,
    parse_query,
)
from schemas.settings import Settings
from tasks.archive import build_bag
from tasks.dispose import remove_from_search_index
from tasks.intake import letter_id_for
from tasks.record import advance, claim_letter
from tests.postgres import Cluster, create_database, postgres_cluster  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from tasks.edges import Edges
    from tests.conftest import LocalStack

ACTOR = "flow-run/test"
DATABASES = ["sqlite", "postgresql"]
BAU = (
    "Sehr geehrte Damen und Herren,\n\nhiermit lege ich Widerspruch gegen die Baugenehmigung "
    "vom 3. März 2026 ein. Das Grundstück liegt in der Lindenstraße 4; Eigentümer ist Herr "
    "Jürgen Müller.\n\nMit freundlichen Grüßen"
)


@pytest.fixture(params=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Return the URL of an empty records database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
    else:
        cluster: Cluster = request.getfixturevalue("postgres_cluster")
        url = create_database(cluster)
    yield url
    engine_for(url).dispose()  # before the session's cluster stops


@pytest.fixture
def engine(empty_url: str) -> Engine:
    """Return a records database migrated to the newest schema."""
    migrate(empty_url)
    return engine_for(empty_url)


def record(
    engine: Engine,
    body: str,
    *,
    doc_type: str = "widerspruch",
    department: str = "Rechtsamt",
    fields: dict[str, Any] | None = None,
    key: str = "scanner-1/brief.pdf",
    status: State = State.DONE,
) -> str:
    """Record a letter through the record step (claim, then its final record); return its id."""
    source = SourceObject(bucket="postroom-inbox", key=key, version_id=uuid.uuid4().hex)
    letter_id = letter_id_for(source)
    claim_letter(engine, letter_id, source, None, ACTOR)
    advance(
        engine,
        letter_id,
        status,
        step="record",
        actor=ACTOR,
        pages=1,
        doc_type=doc_type,
        department=department,
        fields=fields or {},
        text=body,
        archive_key=f"{letter_id}/",
    )
    return letter_id


def found(engine: Engine, words: str = "", /, **filters: Any) -> list[str]:
    """Return the ids of the letters a search finds, best first."""
    return [hit.id for hit in search(engine, SearchQuery(text=words, **filters)).hits]


# --- folding and queries, without a database ----------------------------------------------------


@pytest.mark.parametrize(
    ("word", "translit", "plain"),
    [
        ("müller", "mueller", "muller"),
        ("straße", "strasse", "strase"),
        ("strasse", "strasse", "strase"),
        ("grüßen", "gruessen", "grusen"),
        ("ärger", "aerger", "arger"),
        ("rené", "rene", "rene"),
        ("schlusssatz", "schlusssatz", "schlusatz"),
    ],
)
def test_a_word_is_folded_into_two_forms(word: str, translit: str, plain: str) -> None:
    assert fold(word) == (translit, plain)


def test_a_query_is_split_into_words_and_phrases() -> None:
    terms = parse_query('Widerspruch  "Lindenstraße 4" 32.1-2019/0815 ÄRGER widerspruch')
    assert terms == (
        Term(translit=("widerspruch",), plain=("widerspruch",)),
        Term(translit=("lindenstrasse", "4"), plain=("lindenstrase", "4")),
        Term(translit=("32", "1", "2019", "0815"), plain=("32", "1", "2019", "0815")),
        Term(translit=("aerger",), plain=("arger",)),
    )
    assert parse_query(' "" -- ') == ()


def test_an_aktenzeichen_is_compared_without_case_and_spaces() -> None:
    assert aktenzeichen_key(" 63-BG 2026 / 0815 ") == aktenzeichen_key("63-bg2026/0815")


def test_a_snippet_marks_matches_in_the_original_spelling() -> None:
    terms = parse_query("Mueller Grundstueck")
    marked = snippet("x " * 300 + BAU + "\x02 \x03" + " y" * 300, terms)
    assert f"{MATCH_START}Müller{MATCH_END}" in marked
    assert f"{MATCH_START}Grundstück{MATCH_END}" in marked
    assert marked.startswith("…") and marked.endswith("…")
    assert marked.count(MATCH_START) == marked.count(MATCH_END) == 2  # the text's own are gone
    assert snippet("Kein Treffer hier", terms) == "Kein Treffer hier"


# --- migrations -----------------------------------------------------------------------------------


def test_migrations_run_from_empty_to_head_and_index_earlier_letters(empty_url: str) -> None:
    """A letter recorded before the index existed is found once the migration has run."""
    engine = engine_for(empty_url)
    config = alembic_config(empty_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.execute(
            insert(Letter),
            {
                "id": "a" * 24,
                "bucket": "postroom-inbox",
                "source_key": "alt.pdf",
                "version_id": "v1",
                "received_at": dt.datetime(2026, 5, 4, tzinfo=dt.UTC),
                "updated_at": dt.datetime(2026, 5, 4, tzinfo=dt.UTC),
                "status": "done",
                "doc_type": "widerspruch",
                "fields": {"date": "2026-04-30", "aktenzeichen": "63-BG 2026/0815"},
                "text": BAU,
            },
        )
        connection.execute(
            insert(Event),
            {"letter_id": "a" * 24, "at": dt.datetime.now(dt.UTC), "step": "record",
             "status": "done", "actor": ACTOR},
        )  # fmt: skip
        command.upgrade(config, "head")
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        columns = {column["name"] for column in inspect(connection).get_columns("letters")}
        assert {"letter_date", "sender_norm", "aktenzeichen_norm"} <= columns
        if connection.dialect.name == "postgresql":
            assert "search_vector" in columns
        else:
            assert "letters_fts" in inspect(connection).get_table_names()
    assert head == "0004"
    assert found(engine, "Baugenehmigung") == ["a" * 24]
    assert found(engine, aktenzeichen="63-bg 2026/0815") == ["a" * 24]
    hits = search(engine, SearchQuery(text="Grundstück")).hits
    assert hits[0].letter_date == dt.date(2026, 4, 30)
    with engine.begin() as connection:  # down to 0002 and up again, with the letter in place
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
        assert "letters_fts" not in inspect(connection).get_table_names()
        assert "letter_date" not in {c["name"] for c in inspect(connection).get_columns("letters")}
        command.upgrade(config, "head")
    assert found(engine, "Baugenehmigung") == ["a" * 24]


# --- finding letters ------------------------------------------------------------------------------


def test_a_word_of_the_text_finds_the_letter_in_any_spelling(engine: Engine) -> None:
    letter = record(engine, BAU)
    other = record(engine, "Die Strasse vor dem Haus des Herrn Mueller ist gesperrt.")
    record(engine, "Ein Schreiben ohne jedes passende Wort.")
    assert found(engine, "Baugenehmigung") == [letter]
    for spelling in ("Müller", "Mueller", "MÜLLER"):
        assert set(found(engine, spelling)) == {letter, other}, spelling
    assert found(engine, "Muller") == [letter]  # umlaut left out: finds "Müller", not "Mueller"
    for spelling in ("Lindenstraße", "Lindenstrasse", "Lindenstrase", "lindenSTRASSE"):
        assert found(engine, spelling) == [letter], spelling
    for spelling in ("Straße", "Strasse", "Strase"):
        assert found(engine, spelling) == [other], spelling
    for spelling in ("Grüßen", "Gruessen", "Grussen", "Grusen"):
        assert found(engine, spelling) == [letter], spelling
    assert found(engine, "Baugenehmigungsverfahren") == []


def test_the_fields_are_searchable_too(engine: Engine) -> None:
    letter = record(
        engine,
        "Rechnung Nr. 17",
        doc_type="rechnung",
        department="Kämmerei",
        fields={"sender": "Stadtwerke Süderstadt GmbH", "aktenzeichen": "20.1-2026/77"},
        key="scanner-2/rechnung-juni.pdf",
    )
    assert found(engine, "Süderstadt") == found(engine, "Suederstadt") == [letter]
    assert found(engine, "Kämmerei") == found(engine, "rechnung juni") == [letter]
    assert found(engine, "20.1-2026/77") == [letter]


def test_an_aktenzeichen_filter_is_exact(engine: Engine) -> None:
    letter = record(engine, BAU, fields={"aktenzeichen": "63-BG 2026/0815"})
    record(engine, BAU, fields={"aktenzeichen": "63-BG 2026/08150"})
    record(engine, BAU)
    assert found(engine, aktenzeichen="63-bg  2026/0815") == [letter]
    assert found(engine, "Widerspruch", aktenzeichen="63-BG2026/0815") == [letter]
    assert found(engine, aktenzeichen="63-BG 2026/081") == []


def test_a_date_range_with_a_type_filter(engine: Engine) -> None:
    march = record(engine, BAU, fields={"date": "2025-03-10"})
    record(engine, BAU, fields={"date": "2025-05-02"})
    record(
        engine, BAU, doc_type="antrag", department="Bauordnungsamt", fields={"date": "2025-03-11"}
    )
    undated = record(engine, BAU)  # its receipt date, today, stands in
    spring = {"date_from": dt.date(2025, 3, 1), "date_to": dt.date(2025, 3, 31)}
    assert found(engine, doc_type="widerspruch", **spring) == [march]
    assert found(engine, "Baugenehmigung", doc_type="widerspruch", **spring) == [march]
    today = dt.datetime.now(dt.UTC).date()
    assert found(engine, doc_type="widerspruch", date_from=today) == [undated]
    assert len(found(engine, department="Rechtsamt", date_to=dt.date(2025, 12, 31))) == 2
    assert found(engine, status="in_review") == []


def test_a_sender_filter_matches_words_of_the_sender(engine: Engine) -> None:
    letter = record(engine, BAU, fields={"sender": "Jürgen Müller"})
    record(engine, BAU, fields={"sender": "Stadtwerke Musterstadt GmbH"})
    assert found(engine, sender="müller jürgen") == found(engine, sender="Mueller") == [letter]
    assert found(engine, sender="Muller") == [letter]
    assert found(engine, sender="Müller Stadtwerke") == []


def test_the_better_match_ranks_first(engine: Engine) -> None:
    passing = record(engine, BAU + "\n\n" + "Weitere Ausführungen folgen. " * 40)
    focused = record(engine, "Widerspruch gegen die Baugenehmigung. " * 3 + "Baugenehmigung!")
    hits = search(engine, SearchQuery(text="Baugenehmigung")).hits
    assert [hit.id for hit in hits] == [focused, passing]
    assert hits[0].rank > hits[1].rank


def test_two_words_need_both_and_quotes_make_a_phrase(engine: Engine) -> None:
    def post(body: str) -> str:  # a type and department with no word of the queries
        return record(engine, body, doc_type="sonstiges", department="Poststelle")

    both = post(BAU)
    widerspruch = post("Hiermit lege ich Widerspruch gegen den Bescheid ein.")
    post("Ich beantrage eine Baugenehmigung für eine Garage.")
    apart = post("Die Baugenehmigung ist da. Mit Grüßen, Ihr Widerspruch")
    assert set(found(engine, "Widerspruch Baugenehmigung")) == {both, apart}
    assert set(found(engine, "Widerspruch")) == {both, widerspruch, apart}
    assert found(engine, '"Widerspruch gegen die Baugenehmigung"') == [both]
    assert found(engine, '"Baugenehmigung Widerspruch"') == []
    typed = post("Die Lindenstrasse 4 in Musterstadt")  # ss, no ß
    assert set(found(engine, '"Lindenstraße 4"')) == {both, typed}
    assert set(found(engine, '"Lindenstrase 4"')) == {both, typed}


def test_a_hit_carries_its_fields_and_a_marked_snippet(engine: Engine) -> None:
    letter = record(
        engine,
        "<script>alert(1)</script> " + BAU,
        fields={"sender": "Jürgen Müller", "aktenzeichen": "63-BG 2026/0815", "date": "2026-03-20"},
    )
    (hit,) = search(engine, SearchQuery(text="Mueller Baugenehmigung")).hits
    assert (hit.id, hit.doc_type, hit.department, hit.status) == (
        letter, "widerspruch", "Rechtsamt", "done"
    )  # fmt: skip
    assert (hit.sender, hit.aktenzeichen, hit.letter_date) == (
        "Jürgen Müller", "63-BG 2026/0815", dt.date(2026, 3, 20)
    )  # fmt: skip
    assert hit.source_key == "scanner-1/brief.pdf" and hit.received_at.tzinfo is not None
    assert f"{MATCH_START}Baugenehmigung{MATCH_END}" in hit.snippet
    assert f"{MATCH_START}Müller{MATCH_END}" in hit.snippet
    assert "<script>" in hit.snippet  # raw text: escaping is the page's job, markers are not HTML


def bulk(engine: Engine, count: int, body: str) -> None:
    """Write ``count`` letters at once, in one transaction, and index them."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        {"id": f"{n:024x}", "bucket": "postroom-inbox", "source_key": f"stapel/{n}.pdf",
         "version_id": "v1", "received_at": now, "updated_at": now, "status": "done",
         "doc_type": "sonstiges", "fields": {"date": f"2024-01-{1 + n % 28:02d}"},
         "text": f"{body} Nummer {n}"}
        for n in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Letter), rows)
        seqs = connection.execute(text("SELECT seq FROM letters")).scalars().all()
        index_letters(connection, seqs)


def test_pages_and_the_count_stop_at_a_thousand(engine: Engine) -> None:
    bulk(engine, 1005, "Die Kreisverwaltung bestätigt den Eingang.")
    first = search(engine, SearchQuery(text="Kreisverwaltung"))
    assert (first.total, first.total_capped, len(first.hits)) == (1000, True, 20)
    second = search(engine, SearchQuery(text="Kreisverwaltung", page=2))
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    reachable = {
        hit.id
        for number in range(1, 51)
        for hit in search(engine, SearchQuery(text="Kreisverwaltung", page=number)).hits
    }
    oldest = {f"{n:024x}" for n in range(5)}  # written first: the lowest seq
    assert len(reachable) == 1000 and not reachable & oldest  # the 1,000 newest matches
    assert search(engine, SearchQuery(text="Kreisverwaltung", page=51)).hits == ()
    wide = search(engine, SearchQuery(doc_type="sonstiges", page=10, page_size=100))
    assert (wide.total, wide.total_capped, len(wide.hits)) == (1000, True, 100)
    newest = [hit.letter_date for hit in search(engine, SearchQuery(doc_type="sonstiges")).hits]
    dated = [day for day in newest if day is not None]
    assert len(dated) == 20 and dated == sorted(dated, reverse=True)  # newest letter date first
    few = search(engine, SearchQuery(text="Nummer 17"))
    assert (few.total, few.total_capped, [h.id for h in few.hits]) == (1, False, [f"{17:024x}"])


def test_odd_queries_are_words_not_syntax(engine: Engine) -> None:
    letter = record(engine, BAU)
    for odd in ("AND OR NOT", "NEAR(a b)", "'; DROP TABLE letters; --", "{body}: x", "ärger:*",
                "x" * 900):  # fmt: skip
        assert search(engine, SearchQuery(text=odd)).hits == (), odd
    for wordless in ("*", '"', "\x02\x03", " -- "):  # no words: every letter, by the filters
        assert found(engine, wordless) == [letter], wordless
    for word in ("^Widerspruch", "Widerspruch*", "-Widerspruch", " ".join(["Widerspruch"] * 80)):
        assert found(engine, word) == [letter], word


# --- the index follows the records ----------------------------------------------------------------


def test_a_changed_text_is_reindexed(engine: Engine) -> None:
    letter = record(engine, BAU, status=State.CLASSIFIED)
    advance(engine, letter, State.DONE, step="review", actor="operator/anna", text="Elterngeld")
    assert found(engine, "Baugenehmigung") == []
    assert found(engine, "Elterngeld") == [letter]
    advance(engine, letter, State.DONE, step="route", actor=ACTOR, department="Jugendamt")
    assert found(engine, "Jugendamt") == found(engine, department="Jugendamt") == [letter]


def test_a_destroyed_letter_is_not_found(engine: Engine) -> None:
    kept = record(engine, BAU, fields={"aktenzeichen": "63-BG 2026/0815"})
    gone = record(
        engine, BAU, fields={"aktenzeichen": "63-BG 2026/0816", "sender": "Jürgen Müller"}
    )
    edges = cast("Edges", SimpleNamespace(engine=engine))  # the hook needs only the database
    remove_from_search_index(edges, gone)
    assert found(engine, "Baugenehmigung") == [kept]
    advance(  # as tasks.dispose.destroy records the tombstone
        engine, gone, State.DESTROYED, step="dispose", actor="archivist/anna",
        text=None, fields={"date": "2026-03-03"}, archive_key=None,
    )  # fmt: skip
    assert found(engine, "Baugenehmigung") == [kept]
    assert found(engine, doc_type="widerspruch") == [kept]
    assert found(engine, sender="Müller") == []
    assert found(engine, status="destroyed") == [gone]  # the tombstone, when asked for
    assert found(engine, status="destroyed", aktenzeichen="63-BG 2026/0816") == []


def test_destroying_in_one_step_also_leaves_the_index(engine: Engine) -> None:
    gone = record(engine, BAU)
    advance(engine, gone, State.DESTROYED, step="dispose", actor="archivist/anna", text=None)
    assert found(engine, "Baugenehmigung") == []


# --- the event log is read, never changed ---------------------------------------------------------


def test_history_returns_copies_of_the_event_log(engine: Engine) -> None:
    letter = record(engine, BAU)
    events = history(engine, letter)
    assert [(e["step"], e["status"], e["actor"]) for e in events] == [
        ("intake", "received", ACTOR),
        ("record", "done", ACTOR),
    ]
    events[0]["status"] = "forged"
    events.clear()
    assert history(engine, letter)[0]["status"] == "received"
    assert history(engine, "f" * 24) == []


def test_search_and_history_only_read_in_a_read_only_transaction(engine: Engine) -> None:
    letter = record(engine, BAU)
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.strip().upper())

    event.listen(engine, "before_cursor_execute", remember)
    try:
        search(engine, SearchQuery(text="Baugenehmigung", doc_type="widerspruch"))
        search(engine, SearchQuery(aktenzeichen="x"))
        history(engine, letter)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    read_only_on = {"sqlite": "PRAGMA QUERY_ONLY = ON", "postgresql": "SET TRANSACTION READ ONLY"}
    assert statements[0] == read_only_on[engine.dialect.name]
    assert statements.count(statements[0]) == 3  # one read-only transaction per call
    writes = ("INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER")
    assert not [s for s in statements if s.startswith(writes)]
    with read_only(engine) as connection, pytest.raises(DBAPIError):
        connection.execute(
            insert(Event),
            {"letter_id": letter, "at": dt.datetime.now(dt.UTC), "step": "forged",
             "status": "done", "actor": "mallory"},
        )  # fmt: skip


def test_the_database_refuses_to_change_or_delete_an_event(engine: Engine) -> None:
    letter = record(engine, BAU)
    for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(history(engine, letter)) == 2


def test_the_search_api_has_no_way_to_write() -> None:
    public = [name for name in vars(flows.search) if not name.startswith("_")]
    assert not [
        name
        for name in public
        if name.startswith(("update", "delete", "remove", "edit", "write", "set", "add"))
    ]


# --- the commands -------------------------------------------------------------------------------


def command_line(*argv: str) -> argparse.Namespace:
    """Parse a `postroom records …` command line as the CLI's records group does."""
    root = argparse.ArgumentParser(prog="postroom")
    records = root.add_subparsers(dest="command").add_parser("records")
    add_records_search_commands(records.add_subparsers(dest="records_command", required=True))
    return root.parse_args(["records", *argv])


def run_command(settings: Settings, *argv: str) -> int:
    """Run a `postroom records …` command's handler."""
    args = command_line(*argv)
    code: int = args.run(settings, args)
    return code


def test_the_search_command_prints_ranked_hits(
    engine: Engine, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path, records={"url": empty_url})
    letter = record(engine, "[bold]Eilt[/bold] " + BAU, fields={"date": "2026-03-02"})
    assert run_command(settings, "search", "Müller", "--type", "widerspruch", "--json") == 0
    page = json.loads(capsys.readouterr().out)
    assert [hit["id"] for hit in page["hits"]] == [letter] and page["total"] == 1
    assert f"{MATCH_START}Müller{MATCH_END}" in page["hits"][0]["snippet"]
    assert (
        run_command(settings, "search", "mueller", "--from", "01.03.2026", "--to", "2026-03-31")
        == 0
    )
    table = capsys.readouterr().out
    assert letter[:12] in table and "[bold]Eilt" in table  # letter text is never rich markup
    assert "1 letter(s), page 1 of 1" in table
    assert run_command(settings, "search", "Baugenehmigung", "--status", "quarantined") == 0
    assert "no letter matches" in capsys.readouterr().out


def test_the_history_and_get_commands(
    engine: Engine, empty_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path, records={"url": empty_url})
    letter = record(engine, BAU)
    assert run_command(settings, "history", letter[:10], "--json") == 0
    assert [e["step"] for e in json.loads(capsys.readouterr().out)] == ["intake", "record"]
    advance(engine, letter, State.DESTROYED, step="dispose", actor="archivist/anna", text=None)
    assert run_command(settings, "get", letter, "--original") == 1
    assert f"letter {letter} was destroyed" in " ".join(capsys.readouterr().out.split())
    assert run_command(settings, "history", "0" * 24) == 1
    with pytest.raises(SystemExit):
        command_line("get", letter)  # --original or --pdf is required


@pytest.mark.slow
def test_get_hands_out_the_original_and_the_pdf_checked_against_the_manifest(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the session's real stack: the package is read back from its archive bucket."""
    letter = record(stack.engine, BAU)
    original, pdf = (
        b"\x89PNG the scan " + letter.encode(),
        b"%PDF-1.7 searchable " + letter.encode(),
    )
    bag = build_bag(
        {"original.png": original, "searchable.pdf": pdf, "text.txt": BAU.encode()},
        {"External-Identifier": letter},
    )
    archive = stack.settings.buckets.archive
    for path, body in bag.items():
        stack.s3.put_object(Bucket=archive, Key=f"{letter}/{path}", Body=body)
    assert (
        run_command(stack.settings, "get", letter[:10], "--original", "-o", str(tmp_path / "a.png"))
        == 0
    )
    assert (tmp_path / "a.png").read_bytes() == original
    assert run_command(stack.settings, "get", letter, "--pdf", "-o", str(tmp_path / "b.pdf")) == 0
    assert (tmp_path / "b.pdf").read_bytes() == pdf
    assert run_command(stack.settings, "get", letter, "--pdf", "-o", str(tmp_path / "b.pdf")) == 1
    stack.s3.put_object(Bucket=archive, Key=f"{letter}/data/searchable.pdf", Body=b"tampered")
    capsys.readouterr()
    assert run_command(stack.settings, "get", letter, "--pdf", "-o", str(tmp_path / "c.pdf")) == 1
    assert "does not match the package's manifest" in " ".join(capsys.readouterr().out.split())
    assert not list(tmp_path.glob("*c.pdf*"))  # nothing written, no temporary file left
