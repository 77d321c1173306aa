"""The `postroom` command: the local stack, the scanner side and the records.

postroom up | down | status           the local stack
postroom drop FILE...                 upload files to the inbox, as a scanner would
postroom process                      sweep now and wait until every letter is settled
postroom records list|show|export|search|history|get   the records database
postroom archive verify|get ID        check or download an archival package
postroom audit [--sample N]           the fixity audit, now
postroom disposal list|decide         records whose retention ended, and the archivist's decision
postroom review list|answer           letters waiting for an operator (the form: Prefect UI)
postroom train [--labels FILE.csv]    retrain the classifier from labels and confident decisions
postroom web [--port N]               the search page on 127.0.0.1
postroom samples OUT_DIR              generate sample letters (scans with ground truth)
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from schemas.settings import DEFAULT_PREFECT_API_URL, Settings

# Prefect reads its settings at import: make the local stack the default before any import of it.
os.environ.setdefault("PREFECT_API_URL", DEFAULT_PREFECT_API_URL)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from rich.console import Console
from rich.table import Table

from flows.archive_commands import add_archive_commands, add_audit_command
from flows.disposal_commands import add_disposal_commands
from flows.records_commands import add_records_search_commands
from flows.review_commands import add_review_commands
from flows.train_commands import add_train_command
from flows.web_commands import add_web_command

console = Console()
errors = Console(stderr=True)
# Commands that run a flow in this process (not on a worker).
FLOWS_IN_PROCESS = frozenset({"process", "audit", "disposal", "train"})


def cmd_up(settings: Settings, _args: argparse.Namespace) -> int:
    """Start the local stack and wait until it is healthy."""
    from flows.stack import Stack

    stack = Stack(settings)
    stack.up(lambda line: console.print(f"[green]✓[/] {line}"))
    console.print(
        f"\nPrefect UI: [bold]{stack.api_url.removesuffix('/api')}[/]   "
        "stop with: [bold]postroom down[/]"
    )
    return 0


def cmd_down(settings: Settings, _args: argparse.Namespace) -> int:
    """Stop the processes `up` started."""
    from flows.stack import Stack

    Stack(settings).down(console.print)
    console.print("the local stack is stopped")
    return 0


def cmd_status(settings: Settings, _args: argparse.Namespace) -> int:
    """Show each part's health and address."""
    from flows.stack import Stack

    table = Table("part", "health", "address", "process")
    parts = Stack(settings).status()
    for part in parts:
        health = "[green]healthy[/]" if part.healthy else "[red]down[/]"
        table.add_row(part.name, health, part.address, part.detail)
    console.print(table)
    from flows.stack import web_token_hint

    console.print(web_token_hint(settings.reload_credentials()))
    return 0 if all(part.healthy for part in parts) else 1


def cmd_drop(settings: Settings, args: argparse.Namespace) -> int:
    """Upload files to the inbox bucket."""
    from tasks.edges import s3_client

    s3 = s3_client(settings)
    for name in args.files:
        path = Path(name)
        key = f"{args.prefix}{path.name}"
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        with path.open("rb") as body:
            put = s3.put_object(
                Bucket=settings.buckets.inbox, Key=key, Body=body, ContentType=content_type
            )
        console.print(f"dropped {key}  (version {put.get('VersionId', '-')})")
    return 0


def cmd_process(settings: Settings, args: argparse.Namespace) -> int:
    """Sweep the inbox now and wait until every letter found is settled or in review."""
    from flows.process import process_inbox

    return process_inbox(settings, console, timeout=args.timeout)


def cmd_records(settings: Settings, args: argparse.Namespace) -> int:
    """List, show or export records."""
    from flows.records import export_jsonl, list_records, show_record

    if args.records_command == "export":
        return export_jsonl(settings, sys.stdout)
    if args.records_command == "show":
        return show_record(settings, console, args.id, as_json=args.json)
    return list_records(settings, console, limit=args.limit, as_json=args.json)


def cmd_samples(_settings: Settings, args: argparse.Namespace) -> int:
    """Generate sample letters."""
    from flows.samples import main as samples_main

    argv = [str(args.out_dir), "--count", str(args.count), "--seed", str(args.seed)]
    argv += ["--format", args.format] if args.format else []
    return samples_main(argv + (["--split", args.split] if args.split else []))


def parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    root = argparse.ArgumentParser(
        prog="postroom", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start the local stack").set_defaults(run=cmd_up)
    sub.add_parser("down", help="stop the local stack").set_defaults(run=cmd_down)
    sub.add_parser("status", help="show the stack's health").set_defaults(run=cmd_status)
    drop = sub.add_parser("drop", help="upload files to the inbox")
    drop.add_argument("files", nargs="+")
    drop.add_argument("--prefix", default="", help="key prefix, e.g. scanner-1/")
    drop.set_defaults(run=cmd_drop)
    process = sub.add_parser("process", help="sweep now and wait for the letters")
    process.add_argument("--timeout", type=float, default=1800, help="seconds (default 1800)")
    process.set_defaults(run=cmd_process)
    records = sub.add_parser("records", help="the records database")
    rsub = records.add_subparsers(dest="records_command", required=True)
    listing = rsub.add_parser("list", help="the newest letters")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    show = rsub.add_parser("show", help="one letter with its events")
    show.add_argument("id", help="letter id (or a unique prefix)")
    show.add_argument("--json", action="store_true")
    export = rsub.add_parser("export", help="every letter as JSON lines (records-export.v1)")
    export.add_argument("--jsonl", action="store_true", required=True)
    add_records_search_commands(rsub)
    records.set_defaults(run=cmd_records)
    samples = sub.add_parser("samples", help="generate sample letters with ground truth")
    samples.add_argument("out_dir", type=Path)
    samples.add_argument("--count", type=int, default=12)
    samples.add_argument("--seed", type=int, default=1)
    samples.add_argument("--format", default=None)
    samples.add_argument(
        "--split", choices=("train", "test"), help="wording and layouts of one half only"
    )
    samples.set_defaults(run=cmd_samples)
    add_archive_commands(sub)
    add_audit_command(sub)
    add_disposal_commands(sub)
    add_review_commands(sub)
    add_train_command(sub)
    add_web_command(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the postroom command."""
    args = parser().parse_args(argv)
    if args.command in FLOWS_IN_PROCESS:
        # Their run logs go to the Prefect UI; this terminal shows the outcome (and warnings).
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    try:
        settings = Settings()
        code: int = args.run(settings, args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `postroom records export --jsonl | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        from flows.stack import StackError

        if isinstance(exc, StackError):
            errors.print(f"[red]postroom {args.command}:[/] {exc}")
            return 1
        raise
    return code


if __name__ == "__main__":
    sys.exit(main())
