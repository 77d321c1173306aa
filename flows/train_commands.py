"""`postroom train`: retrain the classifier now, in this process (a flow run in the UI).

Kept apart from flows/train.py so that the CLI starts without importing Prefect or scikit-learn.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from schemas.settings import Settings

console = Console()


def cmd_train(_settings: Settings, args: argparse.Namespace) -> int:
    """Run the retrain flow in this process and print its result."""
    labels = args.labels
    if labels is not None and not labels.is_file():
        console.print(f"[red]✗[/] no such file: {labels}")
        return 2
    from flows.train import result_rows, retrain_classifier

    result = retrain_classifier(
        labels_csv=str(labels.resolve()) if labels else None, force=args.force, by=args.by
    )
    table = Table("what", "value", title="classifier retrain")
    for name, value in result_rows(result):
        table.add_row(name, value)
    console.print(table)
    return 1 if result.status == "too-few" else 0


def add_train_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `postroom train [--labels FILE.csv] [--force] [--by NAME]`."""
    command = subparsers.add_parser(
        "train", help="retrain the classifier from labels and confident decisions"
    )
    command.add_argument(
        "--labels",
        type=Path,
        default=None,
        metavar="FILE.csv",
        help="record these labels first: a CSV with the header source_key,doc_type",
    )
    command.add_argument(
        "--force", action="store_true", help="train even when the training set is unchanged"
    )
    command.add_argument(
        "--by", default=getpass.getuser(), help="who the CSV's labels are recorded as"
    )
    command.set_defaults(run=cmd_train)
