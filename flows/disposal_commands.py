"""The disposal commands: the offer when retention ends, and the archivist's decision.

postroom disposal list [--csv FILE] [--xml FILE] [--as-of DATE]
postroom disposal decide ID --archive|--destroy [--by NAME] [--note TEXT] [--out DIR]

``flows/cli.py`` registers them with :func:`add_disposal_commands`. The handlers import the
tasks (and with them Prefect) only when they run, so the CLI starts fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from schemas.db import engine_for
from schemas.records import Decision
from schemas.settings import Settings

if TYPE_CHECKING:
    from schemas.records import DisposalOutcome, OfferItem

console = Console()
errors = Console(stderr=True)


def add_disposal_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``disposal list`` and ``disposal decide`` on the CLI's subparsers."""
    disposal = subparsers.add_parser("disposal", help="records whose retention has ended")
    dsub = disposal.add_subparsers(dest="disposal_command", required=True)
    listing = dsub.add_parser("list", help="the offer: records whose retention has ended")
    listing.add_argument("--csv", type=Path, help="write the offer as CSV to FILE")
    listing.add_argument("--xml", type=Path, help="write the offer as xdomea 0501 XML to FILE")
    listing.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=None,
        help="offer what ended before this day, YYYY-MM-DD (default: today, UTC)",
    )
    listing.set_defaults(run=cmd_disposal_list)
    decide = dsub.add_parser("decide", help="record the archivist's decision and carry it out")
    decide.add_argument("id", help="letter id (or a unique prefix)")
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument(
        "--archive",
        dest="decision",
        action="store_const",
        const=Decision.ARCHIVE,
        help="hand the package to the permanent archive (a zip for transfer); keep everything",
    )
    choice.add_argument(
        "--destroy",
        dest="decision",
        action="store_const",
        const=Decision.DESTROY,
        help="delete the DMS copy, the package and the text; keep a tombstone",
    )
    decide.add_argument("--by", default=None, help="who decides (default: the login name)")
    decide.add_argument("--note", default=None, help="why, for the record")
    decide.add_argument(
        "--out", type=Path, default=Path(), help="where --archive writes the zip (default: .)"
    )
    decide.set_defaults(run=cmd_disposal_decide)


def offer_table(items: tuple[OfferItem, ...]) -> Table:
    """Return the offer as a table for the terminal."""
    from tasks.dispose import offer_rows

    table = Table()
    table.add_column("letter", no_wrap=True)
    table.add_column("Aktenzeichen", overflow="fold")
    table.add_column("Betreff")
    table.add_column("department")
    table.add_column("received", no_wrap=True)
    table.add_column("retain until", no_wrap=True)
    for row in offer_rows(items):
        table.add_row(
            row["id"][:12],
            row["aktenzeichen"],
            row["betreff"],
            row["department"],
            row["received"],
            row["retain_until"],
        )
    return table


def cmd_disposal_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print the disposal offer and write it as CSV and xdomea XML when asked."""
    from tasks.dispose import offer_csv, offer_items, offer_xml, today

    as_of: dt.date = args.as_of or today()
    items = offer_items(engine_for(settings.records_url), as_of)
    console.print(offer_table(items))
    console.print(f"{len(items)} letter(s) whose retention ended before {as_of}")
    if args.csv:
        args.csv.write_text(offer_csv(items), encoding="utf-8")
        console.print(f"wrote {args.csv}")
    if args.xml and items:
        sender = settings.archive.source_organization
        args.xml.write_bytes(offer_xml(items, as_of=as_of, sender=sender))
        console.print(f"wrote {args.xml}")
    elif args.xml:
        console.print(f"no XML written to {args.xml}: an Anbieteverzeichnis needs a letter")
    return 0


def resolve_letter(settings: Settings, letter_id: str) -> str | None:
    """Return the full id of the letter with this id or unique prefix."""
    from flows.records import find_letter

    with Session(engine_for(settings.records_url)) as session:
        row = find_letter(session, letter_id)
        return row.id if row is not None else None


def describe(outcome: DisposalOutcome) -> str:
    """Return one line saying what a decision did."""
    if outcome.decision is Decision.ARCHIVE:
        mets = "with" if outcome.with_mets else "without"
        return (
            f"letter {outcome.letter_id}: handed to the permanent archive by "
            f"{outcome.decided_by}; package {mets} METS exported to {outcome.transfer_ref} "
            f"(SHA-256 {outcome.transfer_sha256}); everything is kept"
        )
    return (
        f"letter {outcome.letter_id}: destroyed by {outcome.decided_by} "
        f"({outcome.deleted_objects} object versions deleted); its tombstone stays"
    )


def cmd_disposal_decide(settings: Settings, args: argparse.Namespace) -> int:
    """Record the archivist's decision on one letter and carry it out."""
    from tasks.dispose import DisposalRefusedError, decide
    from tasks.edges import edges_for

    letter_id = resolve_letter(settings, args.id)
    if letter_id is None:
        errors.print(f"[red]postroom disposal decide:[/] no single letter matches {args.id!r}")
        return 1
    try:
        outcome = decide(
            edges_for(settings),
            letter_id,
            args.decision,
            by=args.by or getpass.getuser(),
            note=args.note,
            out_dir=args.out,
        )
    except DisposalRefusedError as exc:
        errors.print(f"[red]postroom disposal decide:[/] {exc}")
        return 1
    console.print(describe(outcome))
    return 0
