"""Take the README's screenshot of the search page: docs/search-page.png (1280×800).

    .venv/bin/python bench/screenshot.py [--out docs/search-page.png] [--query Bescheid]

Fills a temporary SQLite records database with sample letters (the text and fields of
``flows/samples.py``, no OCR), serves the search page with uvicorn on a free port, logs in with
Debian's chromium through Playwright, searches and saves the viewport as a PNG.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from PIL import Image
from playwright.sync_api import sync_playwright

from flows.samples import DOC_TYPES, compose
from flows.stack import free_port
from flows.web import create_app
from schemas.db import engine_for, migrate
from schemas.letter import SourceObject, State
from schemas.settings import Settings
from schemas.taxonomy import load_taxonomy
from tasks.record import advance, claim_letter

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SUBJECTS = {"antrag": ("Baugenehmigung", "Wohngeld", "Elterngeld", "Parkausweis")}


def fill(settings: Settings, count: int) -> None:
    """Record ``count`` sample letters, as finished letters, in the settings' records database."""
    engine = engine_for(settings.records_url)
    taxonomy = load_taxonomy()
    for number in range(count):
        doc_type = DOC_TYPES[number % len(DOC_TYPES)]
        subjects = SUBJECTS.get(doc_type, (None,))
        subject = subjects[number // len(DOC_TYPES) % len(subjects)]
        truth = compose(doc_type, seed=number, subject=subject)
        department, rule = taxonomy.department_for(doc_type, truth.subject)
        letter_id = secrets.token_hex(12)
        source = SourceObject(
            bucket=settings.buckets.inbox,
            key=f"scanner-1/{number:04d}-{doc_type}.pdf",
            version_id="1",
        )
        claim_letter(engine, letter_id, source, None, "bench/screenshot")
        advance(
            engine,
            letter_id,
            State.DONE,
            step="record",
            actor="bench/screenshot",
            detail={"rule": rule},
            doc_type=doc_type,
            subject=truth.subject,
            department=department,
            confidence=0.95,
            classified_by="rule",
            fields={
                "sender": truth.sender,
                "date": truth.date,
                "aktenzeichen": truth.aktenzeichen,
            },
            text="\f".join(truth.pages),
            pages=len(truth.pages),
        )


def screenshot(settings: Settings, query: str, out: Path) -> None:
    """Serve the page, log in, search for ``query`` and save the viewport to ``out``."""
    assert settings.web.token is not None
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(base + "/login")
            page.fill("#token", settings.web.token.get_secret_value())
            page.click("button[type=submit]")
            page.wait_for_url(base + "/")
            page.fill("#q", query)
            page.press("#q", "Enter")
            page.wait_for_selector(".hit mark")
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
        shrink(out)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def shrink(png: Path) -> None:
    """Store the screenshot with a 128-colour palette: a third of the size, no visible change."""
    with Image.open(png) as shot:
        small = shot.convert("RGB").quantize(
            colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    small.save(png, optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Make the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "search-page.png")
    parser.add_argument("--query", default="Bescheid")
    parser.add_argument("--count", type=int, default=60, help="sample letters (default 60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="postroom-screenshot-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), web={"token": secrets.token_urlsafe(24)})
        migrate(settings.records_url)
        fill(settings, args.count)
        screenshot(settings, args.query, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
