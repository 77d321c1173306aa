"""The search page: `postroom web`, a read-only FastAPI app for archivists, on 127.0.0.1.

Pages (server-rendered Jinja2 with autoescape; no JavaScript)::

    GET  /login  POST /login  POST /logout   the access token in, a session cookie out
    GET  /                                   search box, filters, ranked hits with snippets, paging
    GET  /records/{id}                       fields, classification, routing, event history,
                                             archive package status and the PDF in a frame
    GET  /records/{id}/pdf[?download=1]      the searchable PDF from the archive package
    GET  /records/{id}/original              the original scan, bit-exact, as a download

For tools, with ``Authorization: Bearer <token>``::

    GET  /api/search?q=…&type=…&page=…       a SearchPage as JSON (snippet marks are \\x02 … \\x03)
    GET  /api/records/{id}                   the export object (records-export.v1) with its events
    GET  /healthz                            the only path besides /login and /static/ open to all

One auth scheme: the access token from settings (``POSTROOM_WEB__TOKEN``, or the one `up`
generated into ``<data_dir>/web-token``). The login form trades it for a session cookie signed
with an HMAC key derived from the token (HttpOnly, SameSite=Strict, 12 hours), so changing the
token ends every session. Without the cookie or the bearer token a page redirects to the login
form and the API answers 401. Every page escapes what it shows; a strict Content-Security-Policy
forbids scripts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flows.search import history, search
from schemas.db import engine_for
from schemas.export import as_utc, export_record
from schemas.letter import State
from schemas.records import Event, Letter
from schemas.search import SearchPage, SearchQuery
from schemas.settings import Settings
from schemas.taxonomy import load_taxonomy
from tasks.edges import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

HERE = Path(__file__).parent
SESSION_COOKIE = "postroom_session"
SESSION_SECONDS = 12 * 3600
PAGE_SIZE = 20
MAX_PAGE = 500
MAX_FORM_BYTES = 4096
MAX_TEXT = 500
CHUNK = 1024 * 1024
DISPLAY_ZONE = ZoneInfo("Europe/Berlin")
LETTER_ID = re.compile(r"[0-9a-f]{4,32}")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # page breaks (form feeds) and the like
PUBLIC_PATHS = frozenset({"/login", "/healthz"})
# The query parameters of the search page and /api/search, and the SearchQuery field of each.
QUERY_PARAMS = {
    "q": "text",
    "type": "doc_type",
    "department": "department",
    "sender": "sender",
    "aktenzeichen": "aktenzeichen",
    "from": "date_from",
    "to": "date_to",
    "status": "status",
}
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PDF_CSP = "frame-ancestors 'self'"

# -- the access token and the session cookie -------------------------------------------------------


class TokenAuth:
    """Check the one access token, and issue and check the session cookies it buys."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the search page needs an access token")
        self._token = token.encode()
        self._key = hmac.new(self._token, b"postroom-web-session-v1", hashlib.sha256).digest()

    def token_matches(self, candidate: str) -> bool:
        """Return whether ``candidate`` is the access token (in constant time)."""
        return hmac.compare_digest(candidate.encode(), self._token)

    def _mac(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def new_session(self, now: float) -> str:
        """Return a session cookie value issued at ``now``."""
        payload = f"{int(now)}.{secrets.token_hex(8)}"
        return f"{payload}.{self._mac(payload)}"

    def session_valid(self, value: str, now: float) -> bool:
        """Return whether a session cookie value was signed here and has not expired."""
        payload, _, mac = value.rpartition(".")
        issued = payload.partition(".")[0]
        expected = self._mac(payload).encode()
        if not issued.isdigit() or not hmac.compare_digest(mac.encode(), expected):
            return False
        return int(issued) <= now + 60 and now - int(issued) < SESSION_SECONDS

    def authorised(self, request: Request, now: float) -> bool:
        """Return whether a request carries the bearer token or a valid session cookie."""
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and credentials:
            return self.token_matches(credentials.strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        return cookie is not None and self.session_valid(cookie, now)


def safe_next(target: str | None) -> str:
    """Return where to go after logging in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def read_form(body: bytes) -> dict[str, str]:
    """Return the fields of a small url-encoded form body (the first value of each)."""
    fields = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items() if values}


# -- presenting ------------------------------------------------------------------------------------


def highlight(snippet: str) -> Markup:
    """Return a snippet as HTML: its text escaped first, then its \\x02/\\x03 marks as <mark>."""
    html, open_mark = [], False
    for part in re.split(r"([\x02\x03])", snippet):
        if part == "\x02" and not open_mark:
            html.append("<mark>")
            open_mark = True
        elif part == "\x03" and open_mark:
            html.append("</mark>")
            open_mark = False
        elif part not in {"\x02", "\x03"}:
            html.append(str(escape(CONTROL.sub(" ", part))))
    if open_mark:
        html.append("</mark>")
    return Markup("".join(html))  # noqa: S704 (every text part was escaped above)


def local_time(moment: dt.datetime | str | None) -> str:
    """Return a timestamp in the administration's time zone, to the minute."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return as_utc(moment).astimezone(DISPLAY_ZONE).strftime("%Y-%m-%d %H:%M")


def detail_value(value: object) -> str:
    """Return a value of an event's detail as text: lists joined, nested maps as key: value."""
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return "; ".join(detail_value(item) for item in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {detail_value(item)}" for key, item in value.items())
    return str(value)


def amount(value: float | int | str | None) -> str:
    """Return an amount of money as shown: 1,015.00 €."""
    if value is None or isinstance(value, str):
        return value or "–"
    return f"{value:,.2f} €"


def count_text(total: int, capped: bool) -> str:
    """Return a hit count as shown: ``1,234``, or ``1,000+`` when the count stopped there."""
    return f"{total:,}+" if capped else f"{total:,}"


def page_numbers(page: int, pages: int) -> list[int | None]:
    """Return the page links to show: first, last and the neighbours of ``page`` (None: a gap)."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    shown: list[int | None] = []
    for number in wanted:
        if shown and shown[-1] is not None and number - shown[-1] > 1:
            shown.append(None)
        shown.append(number)
    return shown


@cache
def templates() -> Environment:
    """Return the page templates, with autoescape on for every template."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["highlight"] = highlight
    env.filters["local_time"] = local_time
    env.filters["detail_value"] = detail_value
    env.filters["amount"] = amount
    return env


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Return a rendered page."""
    return HTMLResponse(templates().get_template(name).render(**context), status_code=status_code)


@cache
def filter_choices() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Return the types and departments of the taxonomy, and the states, for the filters."""
    taxonomy = load_taxonomy()
    departments = set()
    for doc_type in taxonomy.types.values():
        departments.add(doc_type.routing.department)
        departments.update(s.department for s in doc_type.routing.subjects.values())
    return tuple(taxonomy.types), tuple(sorted(departments)), tuple(state.value for state in State)


# -- searching -------------------------------------------------------------------------------------


def search_query(params: Mapping[str, str]) -> tuple[SearchQuery, list[str]]:
    """Return the search a page's or API's query parameters ask for, and what was wrong in them."""
    values: dict[str, Any] = {"page_size": PAGE_SIZE}
    problems: list[str] = []
    for param, field in QUERY_PARAMS.items():
        value = params.get(param, "").strip()[:MAX_TEXT]
        if not value:
            continue
        if field.startswith("date_"):
            try:
                values[field] = dt.date.fromisoformat(value)
            except ValueError:
                problems.append(f"{param}: {value!r} is not a date (YYYY-MM-DD)")
            continue
        values[field] = value
    page = params.get("page", "1").strip()
    values["page"] = min(max(int(page), 1), MAX_PAGE) if re.fullmatch(r"[0-9]{1,6}", page) else 1
    try:
        return SearchQuery(**values), problems
    except ValidationError as exc:
        problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return SearchQuery(page_size=PAGE_SIZE), problems


def query_string(query: SearchQuery, page: int) -> str:
    """Return the query string of a search at another page."""
    fields = query.model_dump()
    params = {param: fields[field] for param, field in QUERY_PARAMS.items() if fields[field]}
    return urlencode({**{k: str(v) for k, v in params.items()}, "page": page})


# -- one record ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageStatus:
    """What the archive bucket holds for a letter, as the record page shows it."""

    present: bool
    files: int = 0
    size: int = 0
    original: str | None = None  # the key of data/original.*
    searchable: bool = False
    lock_mode: str | None = None
    locked_until: dt.datetime | None = None
    error: str | None = None


def package_status(s3: S3Client, bucket: str, prefix: str) -> PackageStatus:
    """Return what is stored under a package's prefix, and the lock of its searchable PDF."""
    try:
        sizes: dict[str, int] = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                sizes[item["Key"].removeprefix(prefix)] = item["Size"]
        if not sizes:
            return PackageStatus(present=False)
        original = next((p for p in sorted(sizes) if p.startswith("data/original.")), None)
        searchable = "data/searchable.pdf" in sizes
        lock_mode, locked_until = None, None
        if searchable:
            head = s3.head_object(Bucket=bucket, Key=prefix + "data/searchable.pdf")
            lock_mode = head.get("ObjectLockMode")
            locked_until = head.get("ObjectLockRetainUntilDate")
    except (BotoCoreError, ClientError) as exc:
        return PackageStatus(present=False, error=f"the archive bucket did not answer: {exc}")
    return PackageStatus(
        present="tagmanifest-sha512.txt" in sizes,
        files=len(sizes),
        size=sum(sizes.values()),
        original=prefix + original if original else None,
        searchable=searchable,
        lock_mode=lock_mode,
        locked_until=locked_until,
    )


def find_record(engine: Engine, letter_id: str) -> Letter | None:
    """Return the letter with this id, or with this unique id prefix (at least 4 hex digits)."""
    if not LETTER_ID.fullmatch(letter_id):
        return None
    with Session(engine, expire_on_commit=False) as session:
        rows = session.scalars(
            select(Letter).where(Letter.id.startswith(letter_id, autoescape=True)).limit(2)
        ).all()
    return rows[0] if len(rows) == 1 else None


def last_event(engine: Engine, letter_id: str, steps: tuple[str, ...]) -> Event | None:
    """Return the letter's newest event of one of these steps."""
    with Session(engine, expire_on_commit=False) as session:
        return session.scalars(
            select(Event)
            .where(Event.letter_id == letter_id, Event.step.in_(steps))
            .order_by(Event.id.desc())
            .limit(1)
        ).first()


def text_pages(text: str | None) -> list[str]:
    """Return a letter's text, page by page (pages are joined by form feed)."""
    return text.split("\f") if text else []


# -- the app ---------------------------------------------------------------------------------------


def create_app(
    settings: Settings, *, engine: Engine | None = None, s3: S3Client | None = None
) -> FastAPI:
    """Return the search page app for these settings (the engine and S3 client may be injected)."""
    if settings.web.token is None:
        raise ValueError(
            "the search page has no access token: set POSTROOM_WEB__TOKEN or run `postroom up`, "
            f"which writes one to {settings.web_token_file}"
        )
    auth = TokenAuth(settings.web.token.get_secret_value())
    records = engine or engine_for(settings.records_url)
    archive = s3 or s3_client(settings)
    bucket = settings.buckets.archive
    app = FastAPI(title="postroom", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse every request without the token; set the security headers on every answer."""
        path = request.url.path
        public = path in PUBLIC_PATHS or path.startswith("/static/")
        if public or auth.authorised(request, time.time()):
            response = await call_next(request)
        elif path.startswith("/api/"):
            response = JSONResponse(
                {"detail": "a bearer token is required (Authorization: Bearer <token>)"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="postroom"'},
            )
        else:
            wanted = path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"/login?next={quote(wanted, safe='')}", status_code=303)
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Answer the stack's health check."""
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        """Show the login form."""
        return render("login.html", next=safe_next(request.query_params.get("next")), error=None)

    @app.post("/login")
    async def login(request: Request) -> Response:
        """Trade the access token for a session cookie."""
        if not same_origin(request):
            return render("login.html", 403, next="/", error="The form came from another site.")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return render("login.html", 413, next="/", error="The form is too large.")
        form = read_form(body)
        target = safe_next(form.get("next"))
        if not auth.token_matches(form.get("token", "")):
            return render("login.html", 401, next=target, error="That is not the access token.")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            auth.new_session(time.time()),
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="strict",
            path="/",
        )
        return response

    @app.post("/logout")
    def logout(request: Request) -> Response:
        """End the session in this browser."""
        response = RedirectResponse("/login", status_code=303)
        if same_origin(request):
            response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @app.get("/", response_class=HTMLResponse)
    def search_page(request: Request) -> HTMLResponse:
        """Show the search box, the filters and one page of ranked hits."""
        query, problems = search_query(request.query_params)
        found = search(records, query)
        pages = max(1, math.ceil(found.total / found.page_size))
        types, departments, states = filter_choices()
        return render(
            "search.html",
            query=query,
            problems=problems,
            found=found,
            count=count_text(found.total, found.total_capped),
            page_links=page_numbers(found.page, pages),
            pages=pages,
            page_url=lambda number: f"/?{query_string(query, number)}",
            types=types,
            departments=departments,
            states=states,
        )

    @app.get("/records/{letter_id}", response_class=HTMLResponse)
    def record_page(letter_id: str) -> HTMLResponse:
        """Show one record with its history, its package and its PDF."""
        row = find_record(records, letter_id)
        if row is None:
            return render("missing.html", 404, letter_id=letter_id)
        route = last_event(records, row.id, ("route",))
        verified = last_event(records, row.id, ("archive", "audit"))
        package = package_status(archive, bucket, row.archive_key) if row.archive_key else None
        return render(
            "record.html",
            row=row,
            record=export_record(row),
            routing=(route.detail or {}) if route else {},
            verified=verified,
            package=package,
            events=history(records, row.id),
            pages=text_pages(row.text),
        )

    @app.get("/records/{letter_id}/pdf")
    def record_pdf(letter_id: str, download: bool = False) -> Response:
        """Send the searchable PDF from the archive package: to view, or to download."""
        row = find_record(records, letter_id)
        if row is None or not row.archive_key:
            return render("missing.html", 404, letter_id=letter_id)
        disposition = "attachment" if download else "inline"
        return stream_object(
            archive,
            bucket,
            row.archive_key + "data/searchable.pdf",
            media_type="application/pdf",
            disposition=f'{disposition}; filename="{row.id}-searchable.pdf"',
        )

    @app.get("/records/{letter_id}/original")
    def record_original(letter_id: str) -> Response:
        """Send the original scan from the archive package, bit-exact, as a download."""
        row = find_record(records, letter_id)
        if row is None or not row.archive_key:
            return render("missing.html", 404, letter_id=letter_id)
        package = package_status(archive, bucket, row.archive_key)
        if package.original is None:
            return render("missing.html", 404, letter_id=letter_id)
        suffix = re.sub(r"[^a-z0-9]", "", package.original.rsplit(".", 1)[-1].lower())
        return stream_object(
            archive,
            bucket,
            package.original,
            media_type=row.media_type or "application/octet-stream",
            disposition=f'attachment; filename="{row.id}-original.{suffix}"',
        )

    @app.get("/api/search")
    def api_search(request: Request) -> JSONResponse:
        """Return one page of ranked hits as JSON."""
        query, problems = search_query(request.query_params)
        if problems:
            return JSONResponse({"detail": problems}, status_code=422)
        found: SearchPage = search(records, query)
        return JSONResponse(found.model_dump(mode="json"))

    @app.get("/api/records/{letter_id}")
    def api_record(letter_id: str) -> JSONResponse:
        """Return one record (the export object) with its event log, oldest first."""
        row = find_record(records, letter_id)
        if row is None:
            return JSONResponse({"detail": f"no single letter matches {letter_id!r}"}, 404)
        return JSONResponse({**export_record(row), "events": history(records, row.id)})

    return app


def same_origin(request: Request) -> bool:
    """Return whether a form was posted from this site's own page (or not by a browser at all)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.rstrip("/") == str(request.base_url).rstrip("/")


def stream_object(
    s3: S3Client, bucket: str, key: str, *, media_type: str, disposition: str
) -> Response:
    """Stream an object of the archive bucket to the browser."""
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return render("missing.html", 404, letter_id=key.split("/", 1)[0])
    except (BotoCoreError, ClientError) as exc:
        return render("archive-error.html", 502, error=str(exc))
    body = obj["Body"]

    def chunks() -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    return StreamingResponse(
        chunks(),
        media_type=media_type,
        headers={
            "Content-Length": str(obj["ContentLength"]),
            "Content-Disposition": disposition,
            "Content-Security-Policy": PDF_CSP,
            "X-Frame-Options": "SAMEORIGIN",
        },
    )
