"""The search page (flows/web.py): auth, escaping, search, the record page and its PDFs.

The first tests drive the app in-process (FastAPI's TestClient) against a real SQLite records
database migrated by Alembic, with rows written by the record step's own functions. The slow ones
drive it in a real browser (Playwright with Debian's chromium) against the app served by uvicorn,
reading the PDFs from the session stack's real S3; they fail, never skip, when chromium or
Playwright is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from PIL import Image, ImageDraw
from sqlalchemy import Engine

from flows.stack import Stack, ensure_web_token, free_port, web_token_hint
from flows.web import TokenAuth, count_text, create_app, highlight, page_numbers, safe_next
from schemas.db import engine_for, migrate
from schemas.letter import SourceObject, State
from schemas.settings import Settings
from tasks.record import advance, claim_letter
from tests.conftest import LocalStack

if TYPE_CHECKING:
    from httpx2 import Response
    from playwright.sync_api import Browser

TOKEN = "test-token-" + "x" * 20
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHROMIUM_MISSING = (
    "Debian's chromium is missing at /usr/bin/chromium: install it with "
    "`apt-get install chromium` (make test does)"
)
PLAYWRIGHT_MISSING = "the Python package playwright is missing: run `uv sync` (make test does)"


def add_letter(engine: Engine, text: str, **values: Any) -> str:
    """Record a finished letter with this text and these columns; return its id."""
    letter_id = secrets.token_hex(12)
    source = SourceObject(bucket="postroom-inbox", key=f"scanner-1/{letter_id}.pdf", version_id="1")
    claim_letter(engine, letter_id, source, None, "test")
    columns: dict[str, Any] = {
        "doc_type": "antrag",
        "subject": "Baugenehmigung",
        "department": "Bauordnungsamt",
        "confidence": 0.92,
        "classified_by": "rule",
        "reasons": ["literal 'Bauantrag' (+2.0)"],
        "fields": {"sender": "Erika Mustermann", "date": "2026-03-02", "aktenzeichen": None},
        "pages": 1,
    }
    advance(
        engine, letter_id, State.DONE, step="record", actor="test", text=text, **columns | values
    )
    return letter_id


def login(client: TestClient, token: str = TOKEN) -> Response:
    """Post the login form."""
    return client.post("/login", data={"token": token, "next": "/"}, follow_redirects=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings with a token and a fresh, migrated SQLite records database."""
    configured = Settings(data_dir=tmp_path, web={"token": TOKEN})
    migrate(configured.records_url)
    return configured


@pytest.fixture
def engine(settings: Settings) -> Engine:
    """Return the records database of the settings."""
    return engine_for(settings.records_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """Return a client of the app, not logged in."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def session(client: TestClient) -> TestClient:
    """Return the client, logged in with the token."""
    assert login(client).status_code == 303
    return client


# -- auth ------------------------------------------------------------------------------------------


def test_a_wrong_token_is_refused(client: TestClient) -> None:
    """The login form refuses a wrong token: no cookie, and the pages stay closed."""
    answer = login(client, "not-the-token")
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers
    assert "not the access token" in answer.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_token_buys_a_session_cookie(client: TestClient) -> None:
    """The right token sets a signed HttpOnly, SameSite=Strict session cookie that opens pages."""
    answer = login(client)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("postroom_session=")
    assert "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert TOKEN not in cookie
    assert client.get("/", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 303),
        ("/?q=Baugenehmigung", 303),
        ("/records/0123456789abcdef01234567", 303),
        ("/records/0123456789abcdef01234567/pdf", 303),
        ("/records/0123456789abcdef01234567/original", 303),
        ("/no/such/page", 303),
        ("/api/search?q=x", 401),
        ("/api/records/0123456789abcdef01234567", 401),
        ("/healthz", 200),
        ("/login", 200),
        ("/static/style.css", 200),
    ],
)
def test_every_request_without_the_token_is_refused(
    client: TestClient, path: str, status: int
) -> None:
    """Pages redirect to the login form and the API answers 401; only login/health/CSS are open."""
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == status
    if status == 303:
        assert answer.headers["location"].startswith("/login?next=")
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_the_api_takes_the_bearer_token(client: TestClient, engine: Engine) -> None:
    """The JSON endpoints answer with the bearer token, and refuse a wrong one."""
    letter_id = add_letter(engine, "Antrag auf Baugenehmigung für ein Carport")
    wrong = client.get("/api/search?q=Carport", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    found = client.get("/api/search?q=Carport", headers=bearer)
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/json"
    body = found.json()
    assert body["total"] == 1
    assert body["hits"][0]["id"] == letter_id
    assert "\x02Carport\x03" in body["hits"][0]["snippet"]
    record = client.get(f"/api/records/{letter_id}", headers=bearer).json()
    assert record["id"] == letter_id
    assert record["schema_version"] == "1.0"
    assert [event["step"] for event in record["events"]] == ["intake", "record"]
    bad_date = client.get("/api/search?from=yesterday", headers=bearer)
    assert bad_date.status_code == 422


def test_a_forged_or_old_session_cookie_is_refused() -> None:
    """Only a cookie signed with the token's key, and younger than 12 hours, is a session."""
    auth = TokenAuth(TOKEN)
    now = time.time()
    cookie = auth.new_session(now)
    assert auth.session_valid(cookie, now)
    assert not auth.session_valid(cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), now)
    assert not auth.session_valid(cookie, now + 13 * 3600)
    assert not TokenAuth(TOKEN + "-new").session_valid(cookie, now)
    assert not auth.session_valid("", now)
    assert not auth.token_matches("täst")


def test_a_login_form_from_another_site_is_refused(client: TestClient) -> None:
    """A login posted cross-site (Sec-Fetch-Site / Origin of another site) sets no cookie."""
    answer = client.post(
        "/login",
        data={"token": TOKEN},
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    ("wanted", "target"),
    [
        ("/records/abcd?x=1", "/records/abcd?x=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_login_only_returns_to_this_site(wanted: str | None, target: str) -> None:
    """After login, `next` leads to a path of this site, never elsewhere."""
    assert safe_next(wanted) == target


def test_up_generates_the_token_once(tmp_path: Path) -> None:
    """The token is generated once into <data_dir>/web-token (0600); POSTROOM_WEB__TOKEN wins."""
    settings = ensure_web_token(Settings(data_dir=tmp_path))
    path = tmp_path / "web-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings.web.token is not None
    token = settings.web.token.get_secret_value()
    assert len(token) >= 32
    assert ensure_web_token(Settings(data_dir=tmp_path)).web.token == settings.web.token
    assert Settings(data_dir=tmp_path).web.token == settings.web.token
    assert token in web_token_hint(settings)
    assert str(path) in web_token_hint(settings)
    chosen = Settings(data_dir=tmp_path, web={"token": "chosen-token"})
    assert chosen.web.token is not None
    assert chosen.web.token.get_secret_value() == "chosen-token"
    assert token not in web_token_hint(chosen)
    assert Settings(data_dir=tmp_path / "new", web={"token": " "}).web.token is None


# -- what the pages show ---------------------------------------------------------------------------


def test_the_search_page_marks_the_matches(session: TestClient, engine: Engine) -> None:
    """A search lists the letter that has the word, with the word marked in its snippet."""
    letter_id = add_letter(engine, "Sehr geehrte Damen und Herren, hiermit beantrage ich ...")
    add_letter(engine, "Rechnung Nr. 4711 über Wasser und Abwasser", doc_type="rechnung")
    page = session.get("/", params={"q": "beantrage"})
    assert page.status_code == 200
    assert f'href="/records/{letter_id}"' in page.text
    assert "<mark>beantrage</mark>" in page.text
    assert 'id="count">1 letter<' in page.text
    assert "Rechnung Nr. 4711" not in page.text


def test_filters_narrow_the_search(session: TestClient, engine: Engine) -> None:
    """The type filter keeps only letters of that type; an unknown status is reported."""
    add_letter(engine, "Widerspruch gegen den Bescheid", doc_type="widerspruch")
    wanted = add_letter(engine, "Mahnung zum Bescheid", doc_type="mahnung")
    page = session.get("/", params={"q": "Bescheid", "type": "mahnung"})
    assert f"/records/{wanted}" in page.text
    assert 'id="count">1 letter<' in page.text
    assert 'value="mahnung" selected' in page.text
    odd = session.get("/", params={"status": "lost"})
    assert odd.status_code == 200
    assert "unknown status" in odd.text


def test_results_come_in_pages_of_twenty(session: TestClient, engine: Engine) -> None:
    """25 hits: the count, 20 on page one, 5 on page two, and links between them."""
    for number in range(25):
        add_letter(engine, f"Bürgeranfrage Nummer {number} zur Straßenreinigung")
    first = session.get("/", params={"q": "Straßenreinigung"})
    assert 'id="count">25 letters · page 1 of 2<' in first.text
    assert first.text.count('class="hit"') == 20
    assert "q=Stra%C3%9Fenreinigung&amp;page=2" in first.text
    second = session.get("/", params={"q": "Straßenreinigung", "page": "2"})
    assert second.text.count('class="hit"') == 5


@pytest.mark.parametrize(
    "params",
    [
        {"page": "²"},
        {"page": "9" * 5000},
        {"page": "-3"},
        {"q": '"unclosed phrase'},
        {"q": "AND OR NOT * ^ NEAR("},
        {"from": "2026-13-01"},
        {"q": "x" * 5000},
    ],
)
def test_odd_input_still_gives_a_page(session: TestClient, params: dict[str, str]) -> None:
    """Whatever the query string holds, the search page answers (with a note), never a 500."""
    assert session.get("/", params=params).status_code == 200


def test_an_oversized_login_form_is_refused(client: TestClient) -> None:
    """The login form reads at most a few KiB."""
    answer = client.post("/login", content=b"token=" + b"x" * 100_000)
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("total", "capped", "shown"), [(0, False, "0"), (1234, False, "1,234"), (1000, True, "1,000+")]
)
def test_counts_read_as_numbers(total: int, capped: bool, shown: str) -> None:
    """A capped count shows as 1,000+."""
    assert count_text(total, capped) == shown


def test_page_links_skip_the_middle() -> None:
    """The pager shows first, last and the neighbours of the current page."""
    assert page_numbers(1, 1) == [1]
    assert page_numbers(7, 50) == [1, None, 5, 6, 7, 8, 9, None, 50]


def test_snippets_are_escaped_before_they_are_marked() -> None:
    """Text in a snippet is escaped first; only the match markers become <mark>."""
    shown = highlight("a <b>&</b> \x02x<y\x03 and \x02open\fpage")
    assert str(shown) == (
        "a &lt;b&gt;&amp;&lt;/b&gt; <mark>x&lt;y</mark> and <mark>open page</mark>"
    )


def test_a_letter_with_script_is_shown_escaped(session: TestClient, engine: Engine) -> None:
    """Markup in a letter's text and fields is shown as text, on the search and record pages."""
    script = '<script>alert("postroom")</script>'
    letter_id = add_letter(
        engine,
        f"Beschwerde {script} über Lärm",
        fields={"sender": '<img src=x onerror="alert(1)">', "date": "2026-03-02"},
        reasons=["<b>bold</b> reason"],
    )
    for path in ("/?q=Beschwerde", f"/records/{letter_id}"):
        page = session.get(path)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(&#34;postroom&#34;)&lt;/script&gt;" in page.text
        assert "<script" not in page.text
        assert "<img src=x" not in page.text
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page.text
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]


def test_the_record_page_shows_classification_routing_and_history(
    session: TestClient, engine: Engine
) -> None:
    """The record page shows fields, classification, the route event's priority and deadline."""
    letter_id = add_letter(engine, "Widerspruch gegen den Gebührenbescheid", doc_type="widerspruch")
    advance(
        engine,
        letter_id,
        State.DONE,
        step="route",
        actor="flow-run/abc",
        detail={"rule": "widerspruch → Rechtsamt", "priority": "high", "deadline": "2026-12-21"},
        department="Rechtsamt",
        dms_ref="s3://postroom-dms/Rechtsamt/ohne-az/x/",
    )
    page = session.get(f"/records/{letter_id[:8]}").text
    for shown in (
        "Erika Mustermann",
        "92 %",
        "literal &#39;Bauantrag&#39; (+2.0)",
        "widerspruch → Rechtsamt",
        "high",
        "2026-12-21 01:00",
        "s3://postroom-dms/Rechtsamt/ohne-az/x/",
        "flow-run/abc",
        "Gebührenbescheid",
    ):
        assert shown in page
    assert "none yet" in page  # no package: nothing to view or download
    assert "/pdf" not in page
    missing = session.get("/records/ffffffffffffffffffffffff")
    assert missing.status_code == 404
    assert session.get(f"/records/{letter_id}/pdf").status_code == 404


# -- in a real browser, with the PDFs from a real S3 -----------------------------------------------


def pdf_with_text(text: str) -> bytes:
    """Return a one-page PDF (an A4 image at 50 dpi) showing ``text``."""
    page = Image.new("L", (413, 585), "white")
    ImageDraw.Draw(page).text((40, 60), text, fill="black")
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=50)
    return out.getvalue()


@dataclass(frozen=True)
class ArchivedLetter:
    """A letter in the stack's records database with a package in its archive bucket."""

    letter_id: str
    word: str
    searchable: bytes
    original: bytes


@pytest.fixture
def archived_letter(stack: LocalStack) -> ArchivedLetter:
    """Record a letter in the stack and put a small package under <id>/ in its archive bucket."""
    word = "Zuwendungsbescheid" + secrets.token_hex(3)
    letter_id = add_letter(stack.engine, f"Antrag auf {word} für den Sportverein")
    prefix = f"{letter_id}/"
    searchable, original = pdf_with_text(f"searchable {word}"), pdf_with_text(f"original {word}")
    bucket = stack.settings.buckets.archive
    locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    for path, body in {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "data/original.pdf": original,
        "data/searchable.pdf": searchable,
        "tagmanifest-sha512.txt": b"",
    }.items():
        stack.s3.put_object(
            Bucket=bucket,
            Key=prefix + path,
            Body=body,
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=locked_until,
        )
    advance(
        stack.engine,
        letter_id,
        State.DONE,
        step="archive",
        actor="test",
        detail={"archive_key": prefix},
        archive_key=prefix,
        retain_until=locked_until.date(),
        media_type="application/pdf",
    )
    return ArchivedLetter(letter_id, word, searchable, original)


@pytest.fixture
def served(stack: LocalStack) -> Iterator[tuple[str, str]]:
    """Serve the app on the stack's records and S3 with uvicorn on a free port: URL, token."""
    settings = stack.settings
    assert settings.web.token is not None, "`postroom up` wrote no web token"
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            ws="none",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", settings.web.token.get_secret_value()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Launch Debian's chromium through Playwright; fail (never skip) when either is missing."""
    assert CHROMIUM.exists(), CHROMIUM_MISSING
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the failure message is the point
        pytest.fail(PLAYWRIGHT_MISSING)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.slow
def test_an_archivist_finds_a_letter_and_downloads_its_pdf(
    browser: Browser, served: tuple[str, str], archived_letter: ArchivedLetter
) -> None:
    """Log in, search, open the record, view and download its PDF and original, log out."""
    base, token = served
    letter = archived_letter
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#token", "wrong-token")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "That is not the access token."
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")

    page.fill("#q", letter.word.lower())
    page.press("#q", "Enter")
    page.wait_for_selector(".hit")
    assert page.locator(".hit mark").first.inner_text() == letter.word
    assert page.locator("#count").inner_text().startswith("1 letter")
    with page.expect_response(f"{base}/records/{letter.letter_id}/pdf") as framed:
        page.click(f'a[href="/records/{letter.letter_id}"]')
    page.wait_for_url(f"{base}/records/{letter.letter_id}")
    assert framed.value.status == 200  # the PDF in the record page's frame
    assert framed.value.headers["content-type"] == "application/pdf"

    package = page.locator("#package").inner_text()
    assert "present · 4 files" in package
    assert "COMPLIANCE until" in package
    assert "when archived" in package
    frame = page.locator("iframe.pdf")
    assert frame.get_attribute("src") == f"/records/{letter.letter_id}/pdf"
    inline = page.request.get(f"{base}/records/{letter.letter_id}/pdf")
    assert inline.status == 200
    assert inline.headers["content-type"] == "application/pdf"
    assert inline.headers["content-disposition"].startswith("inline")
    assert inline.body() == letter.searchable

    with page.expect_download() as pdf_download:
        page.click("text=Download PDF")
    assert pdf_download.value.suggested_filename == f"{letter.letter_id}-searchable.pdf"
    assert Path(pdf_download.value.path()).read_bytes() == letter.searchable
    with page.expect_download() as original_download:
        page.click("text=Download original")
    assert original_download.value.suggested_filename == f"{letter.letter_id}-original.pdf"
    assert Path(original_download.value.path()).read_bytes() == letter.original

    page.click("text=Log out")
    page.wait_for_url(base + "/login")
    page.goto(f"{base}/records/{letter.letter_id}")
    assert "/login?next=" in page.url


@pytest.mark.slow
def test_the_browser_without_the_token_is_refused(
    browser: Browser, served: tuple[str, str], archived_letter: ArchivedLetter
) -> None:
    """A fresh browser gets the login form for pages and PDFs, and 401 from the API."""
    base, token = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/records/{archived_letter.letter_id}/pdf?download=1")
    assert "/login?next=" in page.url
    assert page.locator("#token").is_visible()
    api = context.request.get(f"{base}/api/records/{archived_letter.letter_id}")
    assert api.status == 401
    pdf = context.request.get(f"{base}/records/{archived_letter.letter_id}/pdf", max_redirects=0)
    assert pdf.status == 303
    assert token not in page.content()
    context.close()


@pytest.mark.slow
def test_up_serves_the_search_page(stack: LocalStack) -> None:
    """`postroom up` started the search page: in stack.json, healthy, token-protected, in status."""
    api_url = stack.env["PREFECT_API_URL"]
    web = Stack(stack.settings, api_url=api_url).load()["web"]
    port = int(web.address.rsplit(":", 1)[1])
    settings = stack.settings.model_copy(
        update={"web": stack.settings.web.model_copy(update={"port": port})}
    )
    assert settings.web.token is not None, "`postroom up` wrote no web token"
    assert httpx.get(f"{web.address}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{web.address}/api/search", timeout=5).status_code == 401
    bearer = {"Authorization": f"Bearer {settings.web.token.get_secret_value()}"}
    assert httpx.get(f"{web.address}/api/search", headers=bearer, timeout=5).status_code == 200
    health = {part.name: part for part in Stack(settings, api_url=api_url).status()}
    assert health["web"].healthy
    assert health["web"].detail == f"pid {web.pid}"
