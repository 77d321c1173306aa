"""The archive commands: check or fetch one letter's package, and run the fixity audit now.

postroom archive verify ID          re-read a package: manifests, Payload-Oxum, Object Lock
postroom archive get ID [-o DIR]    download a package as a BagIt directory DIR/<letter id>/
postroom audit [--sample N]         the fixity audit, in this process (exit 1 on any failure)

Each command is a plain function ``(settings, args) -> int``, registered on the CLI's parser by
:func:`add_archive_commands` and :func:`add_audit_command`. Prefect and the tasks are imported
only when a command runs, after the CLI has set Prefect's environment.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from schemas.db import engine_for
from schemas.settings import Settings

if TYPE_CHECKING:
    from schemas.records import Letter
    from tasks.archive import PackageCheck

# argparse names no public type for the object add_subparsers() returns.
Subparsers = argparse._SubParsersAction

console = Console()


def find_package_letter(settings: Settings, letter_id: str) -> Letter | None:
    """Return the letter with this id or unique id prefix, if there is one."""
    from flows.records import find_letter

    with Session(engine_for(settings.records_url), expire_on_commit=False) as session:
        return find_letter(session, letter_id)


def package_table(check: PackageCheck) -> Table:
    """Return a table of a package's files: size, SHA-512, manifest check and lock."""
    table = Table("file", "size", "SHA-512", "manifest", "lock", title=check.location)
    colours = {"ok": "green", "mismatch": "red", "missing": "red", "unlisted": "yellow"}
    for file in check.files:
        lock = ""
        if file.lock_mode:
            until = file.locked_until.isoformat(timespec="seconds") if file.locked_until else "?"
            lock = f"{file.lock_mode} until {until}"
        table.add_row(
            file.path,
            "" if file.size is None else f"{file.size:,}",
            (file.actual or "")[:16],
            f"[{colours[file.status]}]{file.status}[/]",
            lock,
        )
    return table


def report(check: PackageCheck, problems: list[str]) -> int:
    """Print a package check and its problems; return the exit code."""
    if check.files:
        console.print(package_table(check))
        console.print(f"Payload-Oxum: {check.declared_oxum} declared, {check.found_oxum} found")
    for problem in problems:
        console.print(f"[red]✗[/] {problem}")
    if problems:
        console.print(f"[red]{len(problems)} problem(s)[/] in {check.location}")
        return 1
    console.print(f"[green]✓[/] {check.location} is complete and matches its manifests")
    return 0


def letter_with_package(settings: Settings, letter_id: str) -> Letter | None:
    """Return the letter and its package, or print why there is none."""
    row = find_package_letter(settings, letter_id)
    if row is None:
        console.print(f"no single letter matches {letter_id!r}")
        return None
    if row.archive_key is None:
        console.print(f"letter {row.id} has no archive package (status {row.status})")
        return None
    return row


def cmd_archive_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Re-read a letter's package and check it against its manifests and its lock."""
    from tasks.archive import lock_problems, verify_package
    from tasks.edges import edges_for

    row = letter_with_package(settings, args.id)
    if row is None or row.archive_key is None:
        return 1
    check = verify_package(edges_for(settings), row.archive_key)
    problems = list(check.problems)
    if row.retain_until is not None and not check.missing:
        exact = settings.archive.retention_seconds is None
        problems += lock_problems(check, row.retain_until, to_the_day=exact)
    return report(check, problems)


def cmd_archive_get(settings: Settings, args: argparse.Namespace) -> int:
    """Download a letter's package as a BagIt directory and verify it there."""
    from tasks.archive import LocalPackage, check_bag, download_package
    from tasks.edges import edges_for

    row = letter_with_package(settings, args.id)
    if row is None or row.archive_key is None:
        return 1
    target = Path(args.output) / row.id
    if target.exists() and any(target.iterdir()):
        console.print(f"{target} exists and is not empty; remove it or choose another -o DIR")
        return 1
    count = download_package(edges_for(settings), row.archive_key, target)
    if count == 0:
        console.print(f"[red]✗[/] no package at {row.archive_key} in the archive bucket")
        return 1
    console.print(f"downloaded {count} file(s) to {target}")
    check = check_bag(LocalPackage(target))
    return report(check, list(check.problems))


def cmd_audit(_settings: Settings, args: argparse.Namespace) -> int:
    """Run the fixity audit now, in this process, and print its table."""
    from flows.fixity_audit import fixity_audit

    results = fixity_audit(sample=args.sample)
    if not results:
        console.print("no archived packages to audit")
        return 0
    table = Table("letter", "package", "outcome", "files", "Payload-Oxum", "problems")
    for result in results:
        row = result.row()
        colour = "red" if result.failed else "green"
        table.add_row(
            row["letter"][:12],
            row["package"],
            f"[{colour}]{row['outcome']}[/]",
            row["files"],
            row["Payload-Oxum"],
            row["problems"],
        )
    console.print(table)
    failed = sum(result.failed for result in results)
    console.print(f"{len(results)} package(s) audited, {failed} failed")
    return 1 if failed else 0


def positive(text: str) -> int:
    """Return a command-line count of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_archive_commands(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    """Register `postroom archive verify ID` and `postroom archive get ID [-o DIR]`."""
    archive = subparsers.add_parser("archive", help="the archival packages")
    asub = archive.add_subparsers(dest="archive_command", required=True)
    verify = asub.add_parser("verify", help="re-read a package and check it against its manifests")
    verify.add_argument("id", help="letter id (or a unique prefix)")
    verify.set_defaults(run=cmd_archive_verify)
    get = asub.add_parser("get", help="download a package as a BagIt directory and verify it")
    get.add_argument("id", help="letter id (or a unique prefix)")
    get.add_argument(
        "-o", "--output", type=Path, default=Path(), help="into DIR/<letter id>/ (default: .)"
    )
    get.set_defaults(run=cmd_archive_get)


def add_audit_command(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    """Register `postroom audit [--sample N]`."""
    audit = subparsers.add_parser("audit", help="re-verify the archived packages now")
    audit.add_argument(
        "--sample",
        type=positive,
        default=None,
        help="only the N packages verified longest ago (default: every package)",
    )
    audit.set_defaults(run=cmd_audit)
