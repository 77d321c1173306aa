"""The web command: serve the search page on 127.0.0.1.

postroom web [--port N]     migrate the records database, then serve the page (default port 8040)

`postroom up` starts it beside the other parts, as ``python -m flows.web_commands --port N``. The
access token is the one `up` generated (``<data_dir>/web-token``, printed by `postroom status`)
unless ``POSTROOM_WEB__TOKEN`` sets one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

from schemas.settings import Settings

# argparse names no public type for the object add_subparsers() returns.
Subparsers = argparse._SubParsersAction

console = Console()


def port_number(text: str) -> int:
    """Return a TCP port from the command line."""
    value = int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1–65535, not {value}")
    return value


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    """Migrate the records database and serve the search page until stopped."""
    import uvicorn

    from flows.stack import ensure_web_token
    from flows.web import create_app
    from schemas.db import migrate

    settings = ensure_web_token(settings)
    migrate(settings.records_url)
    port = args.port or settings.web.port
    app = create_app(settings)
    console.print(f"search page on http://127.0.0.1:{port}  (the token: postroom status)")
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="info",
        server_header=False,
        proxy_headers=False,
    )
    return 0


def add_web_command(subparsers: Subparsers[argparse.ArgumentParser]) -> None:
    """Register `postroom web [--port N]`."""
    web = subparsers.add_parser("web", help="serve the search page on 127.0.0.1")
    web.add_argument(
        "--port", type=port_number, default=None, help="default: POSTROOM_WEB__PORT (8040)"
    )
    web.set_defaults(run=cmd_web)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `postroom web` on its own (``python -m flows.web_commands``), as `postroom up` does."""
    root = argparse.ArgumentParser(prog="postroom")
    add_web_command(root.add_subparsers(dest="command", required=True))
    args = root.parse_args(["web", *(sys.argv[1:] if argv is None else argv)])
    try:
        return cmd_web(Settings(), args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
