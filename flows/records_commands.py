"""The records commands for archivists: search, a letter's history, and its original or PDF.

postroom records search WORDS [--type T] [--department D] [--sender S] [--aktenzeichen AZ]
                              [--from DATE] [--to DATE] [--status S] [--page N] [--json]
postroom records history ID [--json]
postroom records get ID --original|--pdf [-o FILE]

``flows/cli.py`` registers them on its ``records`` group with :func:`add_records_search_commands`;
each handler is ``(settings, args) -> int``. The search itself is ``flows/search.py``; the
original and the searchable PDF come from the letter's archival package and are checked against
its manifest before they are handed out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.db import engine_for
from schemas.letter import State
from schemas.records import Disposal
from schemas.search import MATCH_END, MATCH_START, MAX_HITS, MAX_PAGE_SIZE, SearchPage, SearchQuery
from schemas.settings import Settings

if TYPE_CHECKING:
    from schemas.records import Letter

# argparse names no public type for the object add_subparsers() returns.
Subparsers = argparse._SubParsersAction

console = Console()
MATCH_STYLE = "bold black on yellow"


def add_records_search_commands(records: Subparsers[argparse.ArgumentParser]) -> None:
    """Register ``records search``, ``records history`` and ``records get`` on the records group."""
    search = records.add_parser("search", help="find letters by words and fields, best first")
    search.add_argument("words", nargs="*", help='words (all must match); "quoted" is a phrase')
    search.add_argument("--type", dest="doc_type", help="document type, e.g. widerspruch")
    search.add_argument("--department", help="department, e.g. Rechtsamt")
    search.add_argument("--sender", help="words of the sender")
    search.add_argument("--aktenzeichen", help="the exact Aktenzeichen (case and spaces ignored)")
    search.add_argument("--from", dest="date_from", type=day, help="letter date from (YYYY-MM-DD)")
    search.add_argument("--to", dest="date_to", type=day, help="letter date to (YYYY-MM-DD)")
    search.add_argument("--status", choices=[state.value for state in State])
    search.add_argument("--page", type=positive, default=1)
    search.add_argument(
        "--page-size", type=positive, default=20, help=f"hits per page (at most {MAX_PAGE_SIZE})"
    )
    search.add_argument("--json", action="store_true", help="the page as JSON")
    search.set_defaults(run=cmd_records_search)
    history = records.add_parser("history", help="a letter's event log")
    history.add_argument("id", help="letter id (or a unique prefix)")
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=cmd_records_history)
    get = records.add_parser("get", help="download a letter's original scan or searchable PDF")
    get.add_argument("id", help="letter id (or a unique prefix)")
    which = get.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--original", dest="what", action="store_const", const="original", help="the scan"
    )
    which.add_argument(
        "--pdf", dest="what", action="store_const", const="pdf", help="the searchable PDF"
    )
    get.add_argument("-o", "--output", type=Path, help="file to write (default: <id>-<what>.*)")
    get.set_defaults(run=cmd_records_get)


def day(text: str) -> dt.date:
    """Return a command-line date, YYYY-MM-DD or DD.MM.YYYY."""
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(f"not a date: {text!r} (YYYY-MM-DD or DD.MM.YYYY)")


def positive(text: str) -> int:
    """Return a command-line number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


# --- search -------------------------------------------------------------------------------------


def highlighted(snippet: str) -> Text:
    """Return a snippet with its marked matches styled (the text itself is never markup)."""
    text = Text()
    for index, part in enumerate(snippet.split(MATCH_START)):
        match, _, rest = part.partition(MATCH_END) if index else ("", "", part)
        text.append(match, style=MATCH_STYLE)
        text.append(rest)
    return text


def page_table(page: SearchPage) -> Table:
    """Return a page of hits as a table, best first, the snippet taking the room left."""
    table = Table(expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("letter", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("about", ratio=1)
    table.add_column("snippet", ratio=3)
    first = (page.page - 1) * page.page_size
    for number, hit in enumerate(page.hits, start=first + 1):
        described = " · ".join(
            value for value in (hit.doc_type, hit.department, hit.sender, hit.aktenzeichen) if value
        )
        table.add_row(
            str(number),
            hit.id[:12],
            (hit.letter_date or hit.received_at.date()).isoformat(),
            Text(described),
            highlighted(hit.snippet),
        )
    return table


def summary(page: SearchPage) -> str:
    """Return the line that says how many letters matched and which page this is."""
    if page.total == 0:
        return "no letter matches"
    pages = -(-page.total // page.page_size)
    if page.total_capped:
        count = f"more than {MAX_HITS:,} letters (the first {MAX_HITS:,} can be paged through)"
    else:
        count = f"{page.total:,} letter(s)"
    return f"{count}, page {page.page} of {pages}"


def cmd_records_search(settings: Settings, args: argparse.Namespace) -> int:
    """Search the records and print one page of hits, best first."""
    from flows.search import search

    query = SearchQuery(
        text=" ".join(args.words),
        doc_type=args.doc_type,
        department=args.department,
        sender=args.sender,
        aktenzeichen=args.aktenzeichen,
        date_from=args.date_from,
        date_to=args.date_to,
        status=args.status,
        page=args.page,
        page_size=min(args.page_size, MAX_PAGE_SIZE),
    )
    page = search(engine_for(settings.records_url), query)
    if args.json:
        print(json.dumps(page.model_dump(mode="json"), ensure_ascii=False))
        return 0
    if page.hits:
        console.print(page_table(page))
    console.print(summary(page))
    return 0


# --- history ------------------------------------------------------------------------------------


def find(settings: Settings, letter_id: str) -> Letter | None:
    """Return the letter with this id or unique prefix, or say there is none."""
    from flows.records import find_letter

    with Session(engine_for(settings.records_url), expire_on_commit=False) as session:
        row = find_letter(session, letter_id)
    if row is None:
        console.print(f"no single letter matches {letter_id!r}")
    return row


def cmd_records_history(settings: Settings, args: argparse.Namespace) -> int:
    """Print a letter's event log, oldest first."""
    from flows.search import history

    row = find(settings, args.id)
    if row is None:
        return 1
    events = history(engine_for(settings.records_url), row.id)
    if args.json:
        print(json.dumps(events, ensure_ascii=False))
        return 0
    table = Table("at", "step", "status", "actor", "detail", title=f"letter {row.id}")
    for event in events:
        detail = json.dumps(event["detail"], ensure_ascii=False) if event["detail"] else ""
        table.add_row(event["at"], event["step"], event["status"], event["actor"], Text(detail))
    console.print(table)
    return 0


# --- get ----------------------------------------------------------------------------------------


def destroyed_note(settings: Settings, row: Letter) -> str:
    """Return what to say about a destroyed letter's files."""
    with Session(engine_for(settings.records_url)) as session:
        disposal = session.scalars(
            select(Disposal).where(Disposal.letter_id == row.id)
        ).one_or_none()
    decided = ""
    if disposal is not None:
        decided = f" by decision of {disposal.decided_by} on {disposal.decided_at:%Y-%m-%d}"
    return (
        f"letter {row.id} was destroyed{decided}: its original and searchable PDF were deleted "
        "with its archival package; only its tombstone remains"
    )


def package_file(names: dict[str, int], what: str) -> str | None:
    """Return the package path of the original scan or of the searchable PDF."""
    if what == "pdf":
        return "data/searchable.pdf" if "data/searchable.pdf" in names else None
    originals = sorted(name for name in names if name.startswith("data/original."))
    return originals[0] if originals else None


def download_checked(s3: Any, bucket: str, key: str, sha512: str | None, target: Path) -> int:
    """Download an object to ``target`` through a temporary file, checked against its SHA-512.

    Return its size; raise ValueError (and leave nothing at ``target``) on a mismatch.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    digest, size = hashlib.sha512(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if sha512 is not None and digest.hexdigest() != sha512:
            raise ValueError(f"s3://{bucket}/{key} does not match the package's manifest")
        Path(temporary).replace(target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return size


def cmd_records_get(settings: Settings, args: argparse.Namespace) -> int:
    """Download a letter's original scan or searchable PDF from its archival package."""
    from tasks.archive import PAYLOAD_MANIFEST, S3Package, parse_manifest
    from tasks.edges import s3_client

    row = find(settings, args.id)
    if row is None:
        return 1
    if row.status == State.DESTROYED:
        console.print(destroyed_note(settings, row))
        return 1
    if row.archive_key is None:
        console.print(f"letter {row.id} has no archival package (status {row.status})")
        return 1
    s3 = s3_client(settings)
    package = S3Package(s3, settings.buckets.archive, row.archive_key)
    path = package_file(package.sizes(), args.what)
    if path is None:
        console.print(f"[red]✗[/] {package.location} holds no {args.what} (data/original.* or PDF)")
        return 1
    listed = package.read(PAYLOAD_MANIFEST)
    expected = parse_manifest(listed.decode()).get(path) if listed is not None else None
    if expected is None:
        console.print(f"[red]✗[/] {package.location}{PAYLOAD_MANIFEST} does not list {path}")
        return 1
    suffix = Path(path).suffix
    target: Path = args.output or Path(f"{row.id}-{args.what}{suffix}")
    if target.exists():
        console.print(f"{target} exists; remove it or choose another -o FILE")
        return 1
    try:
        size = download_checked(s3, package.bucket, package.prefix + path, expected, target)
    except ValueError as exc:
        console.print(f"[red]✗[/] {exc}; nothing was written")
        return 1
    console.print(f"wrote {target} ({size:,} bytes, {path}, SHA-512 matches the manifest)")
    return 0
