"""`postroom review list|answer`: the letters waiting for an operator, and answering one.

The review itself is a form in the Prefect UI (the letter's suspended run). `answer` submits the
same form through Prefect's API, for scripted use and for operators without the UI at hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from uuid import UUID

from rich.console import Console
from rich.table import Table

from schemas.db import engine_for
from schemas.settings import Settings

console = Console()


def ui_base(settings: Settings) -> str:
    """Return the Prefect UI's address for links."""
    from flows.stack import prefect_api_url

    return settings.review.ui_url or prefect_api_url().removesuffix("/api")


def cmd_review_list(settings: Settings, args: argparse.Namespace) -> int:
    """Print the pending reviews, oldest first, with their UI links; overdue ones marked."""
    from tasks.review import pending_reviews

    now = dt.datetime.now(dt.UTC)
    pending = pending_reviews(engine_for(settings.records_url), now, settings.review.overdue_hours)
    ui = ui_base(settings)
    for item in pending:
        item["link"] = f"{ui}/runs/flow-run/{item['flow_run_id']}" if item["flow_run_id"] else None
    if args.json:
        console.print_json(json.dumps(pending))
        return 0
    if not pending:
        console.print("no letter waits for review")
        return 0
    table = Table("letter", "file", "proposal", "why", "waiting", "link")
    for item in pending:
        waiting = f"{item['waiting_hours']:.1f} h"
        if item["overdue"]:
            waiting = f"[red]{waiting} overdue[/]"
        confidence = item["confidence"] or 0.0
        table.add_row(
            item["letter_id"][:8],
            item["source_key"],
            f"{item['doc_type']} {confidence:.2f}",
            "; ".join(item["why"]),
            waiting,
            item["link"] or "–",
        )
    console.print(table)
    overdue = sum(item["overdue"] for item in pending)
    console.print(
        f"{len(pending)} waiting, {overdue} overdue (over {settings.review.overdue_hours:g} h)"
    )
    return 0


def cmd_review_answer(settings: Settings, args: argparse.Namespace) -> int:
    """Answer a pending review through Prefect's API; the letter's run resumes and files it."""
    from prefect.flow_runs import resume_flow_run

    from schemas.taxonomy import load_taxonomy
    from tasks.record import recorded_classification
    from tasks.review import pending_reviews, proposal

    engine = engine_for(settings.records_url)
    now = dt.datetime.now(dt.UTC)
    pending = [
        item
        for item in pending_reviews(engine, now, settings.review.overdue_hours)
        if item["letter_id"].startswith(args.id)
    ]
    if len(pending) != 1:
        console.print(f"[red]{len(pending)} pending reviews match {args.id!r}[/]")
        return 1
    item = pending[0]
    known = load_taxonomy()
    answer = proposal(known, recorded_classification(engine, item["letter_id"]))
    answer.update(
        {
            key: value
            for key, value in {
                "doc_type": args.doc_type,
                "department": args.department,
                "aktenzeichen": args.aktenzeichen,
                "sender": args.sender,
            }.items()
            if value is not None
        }
    )
    if answer["doc_type"] not in known.types:
        names = ", ".join(known.types)
        console.print(f"[red]unknown type {answer['doc_type']!r}[/]; known: {names}")
        return 1
    if args.doc_type and not args.department:  # a new type goes where that type is routed
        answer["department"] = known.department_for(answer["doc_type"])[0]
    answer["reviewer"] = args.reviewer
    resume_flow_run(UUID(item["flow_run_id"]), run_input=answer)
    console.print(f"answered {item['letter_id'][:8]} as {answer['doc_type']}; its run resumes")
    return 0


def add_review_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `postroom review list|answer`."""
    review = sub.add_parser("review", help="letters waiting for an operator")
    rsub = review.add_subparsers(dest="review_command", required=True)
    listing = rsub.add_parser("list", help="pending reviews with their Prefect UI links")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=cmd_review_list)
    answer = rsub.add_parser("answer", help="answer a pending review (as the UI form does)")
    answer.add_argument("id", help="letter id (or a unique prefix)")
    answer.add_argument("--reviewer", required=True, help="who answers (name or Kürzel)")
    answer.add_argument("--type", dest="doc_type", help="document type (default: the proposal)")
    answer.add_argument("--department", help="department (default: the proposal)")
    answer.add_argument("--aktenzeichen")
    answer.add_argument("--sender")
    answer.set_defaults(run=cmd_review_answer)
