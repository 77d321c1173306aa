"""Benchmark postroom's OCR against raw tesseract and OCRmyPDF 17 on generated letters.

    .venv/bin/python bench/ocr.py [--pages 100] [--seed 1] [--skip-ocrmypdf] [--skip-postroom]
    make bench-ocr        installs Ghostscript and OCRmyPDF (into .bench/ocrmypdf/) first

The corpus: letters from ``flows/samples.py::generate`` in every format of ``FORMATS`` (image-only
PDF with JPEG or CCITT G4 pages, multi-page TIFF, JPEG, PNG), a share of them turned by 90, 180 or
270 degrees (``rotated_share``), and a few born-digital PDF letters with a real text layer
(Helvetica, written here), until the corpus holds ``--pages`` pages. It is cached under
``.bench/corpus-<key>/`` (the key covers the parameters and the generator's source), with every
page rendered beforehand as a 300 dpi PNG for raw tesseract.

Four systems read the same corpus, one after the other:

    postroom end to end   a real stack (`postroom up` in a temporary data directory on free
                          ports, the server's scheduler on); every file is put into the inbox,
                          then a run of the sweep deployment is asked for at once (`prefect
                          deployment run`, not waiting for the 15 s schedule); timed from the
                          first put until the records database shows every letter settled;
                          then the rounds that read no page (`Overhead`): the same files
                          again under new keys, each a duplicate, and as many flow runs that
                          do nothing (`bench/nothing.py`), with and without tasks; each gives
                          what a letter costs besides its OCR and the bound that sets
    postroom OCR step     the step's own functions in a child process: prepare the pages, read
                          them on 2 threads (`read_or_mark`, what `ocr_page` runs inside the
                          ``ocr-pages`` limit), graft the text layer and make the PDF/A
    raw tesseract         `tesseract PNG stdout -l deu+eng --dpi 300`, 2 at once,
                          OMP_THREAD_LIMIT=1: what this 2-core machine can do at most
    OCRmyPDF 17           `ocrmypdf -l deu+eng --output-type pdfa-2 --pdfa-backend internal
                          --skip-text --jobs 2` per file (``--image-dpi 300`` for images)

Accuracy is measured per letter against the ground truth: word accuracy is the share of the
truth's words (whitespace tokens without surrounding punctuation, as a multiset, order-free) found
in the text read; the character error rate is the edit distance of the whitespace-normalised texts
over the truth's length. Both are given overall and for the turned letters alone. Peak memory is
the largest summed PSS (proportional set size: shared pages counted once in all) of a process
tree, sampled every 100 ms from /proc: for postroom the
worker's tree (the worker and every process below it) while it processes one generated 100-page
PDF, after the corpus run; for the others the tree of processes this script starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import hashlib
import io
import json
import math
import mimetypes
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pypdfium2 as pdfium
from botocore.exceptions import ClientError
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import select
from sqlalchemy.orm import Session

import flows.samples
from flows.samples import DOC_TYPES, FORMATS, GroundTruth, compose, generate
from schemas.letter import SETTLED, MediaType, State
from schemas.records import Letter
from tests.conftest import LocalStack, stack_env

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = PROJECT_DIR / ".bench"
OCRMYPDF = BENCH_DIR / "ocrmypdf" / "bin" / "ocrmypdf"
LANGUAGES = "deu+eng"
DPI = 300
# Bump when the corpus this script writes changes, so that cached corpora are not reused.
CORPUS_VERSION = 1
MEAN_PAGES_PER_LETTER = 1.25  # of generated letters; only a first guess of how many to write
MEDIA_TYPES = {
    ".pdf": MediaType.PDF,
    ".tif": MediaType.TIFF,
    ".jpg": MediaType.JPEG,
    ".png": MediaType.PNG,
}
FINISHED = frozenset({s.value for s in SETTLED} | {State.IN_REVIEW.value})
PUNCTUATION = ".,;:!?()[]\"'„“”‚‘’«»"
GB = 10**9  # decimal: the target says 1 GB

# The targets of issue 3.
E2E_VS_TESSERACT = 0.85
E2E_VS_OCRMYPDF = 3.0
MEMORY_LIMIT = 1 * GB
# Raw tesseract reads this many pages at once: both cores of the machine the issue names.
TESSERACT_PARALLEL = 2
# The Prefect server's part in `postroom up`'s stack.json.
SERVER = "prefect"
# The commands this script runs against the stack (sweeps, runs that do nothing), one CPU part.
COMMANDS = "the bench's commands"
# DESIGN's steps of a letter, each a task: intake, OCR, classify, route, archive, record.
DESIGN_STEPS = 6


# --------------------------------------------------------------------------------------------
# The corpus


@dataclass(frozen=True)
class CorpusLetter:
    """One file of the corpus and what it says."""

    path: Path
    truth: GroundTruth
    born_digital: bool = False

    @property
    def name(self) -> str:
        """Return the file name, which is also the letter's name in every result."""
        return self.path.name

    @property
    def pages(self) -> int:
        """Return the number of pages."""
        return len(self.truth.pages)

    @property
    def media_type(self) -> MediaType:
        """Return the media type the file's suffix stands for."""
        return MEDIA_TYPES[self.path.suffix]


@dataclass(frozen=True)
class Corpus:
    """The letters of a run, the directory they live in, and their pages as PNG."""

    root: Path
    letters: tuple[CorpusLetter, ...]

    @property
    def pages(self) -> int:
        """Return the number of pages of every letter together."""
        return sum(letter.pages for letter in self.letters)

    def png_pages(self, letter: CorpusLetter) -> list[Path]:
        """Return where a letter's pages are rendered as PNG (see `render_pngs`)."""
        stem = self.root / "png" / letter.name
        return [Path(f"{stem}-p{number:03d}.png") for number in range(1, letter.pages + 1)]

    def describe(self) -> str:
        """Return one line saying what the corpus holds."""
        formats = Counter(
            "born-digital pdf" if letter.born_digital else letter.truth.format
            for letter in self.letters
        )
        turned = sum(letter.pages for letter in self.letters if letter.truth.rotation)
        mix = ", ".join(f"{fmt} {count}" for fmt, count in sorted(formats.items()))
        return (
            f"{len(self.letters)} letters, {self.pages} pages ({turned} turned pages); files: {mix}"
        )


def cache_key(**parameters: object) -> str:
    """Return a short digest of the parameters and of the generator's source."""
    digest = hashlib.sha256(json.dumps(parameters, sort_keys=True).encode())
    digest.update(Path(flows.samples.__file__).read_bytes())
    digest.update(str(CORPUS_VERSION).encode())
    return digest.hexdigest()[:12]


def born_digital_pdf(truth: GroundTruth) -> bytes:
    """Return a letter as a born-digital PDF: each page's lines as real text in Helvetica.

    The font is the standard Helvetica (WinAnsi, not embedded), sized so that the longest line
    and every line of the fullest page fit an A4 page.
    """
    writer = PdfWriter()
    font = writer._add_object(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
                NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
            }
        )
    )
    pages = [page.split("\n") for page in truth.pages]
    longest = max(len(line) for lines in pages for line in lines)
    most = max(len(lines) for lines in pages)
    # Helvetica averages about half an em per character; 50 pt margins, 1.25 line spacing.
    size = min(11.0, 495 / (0.5 * max(longest, 1)), 740 / (1.25 * most))
    for lines in pages:
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        shown = b" T* ".join(b"(" + _pdf_string(line) + b") Tj" for line in lines)
        contents = DecodedStreamObject()
        contents.set_data(
            f"BT /F1 {size:.2f} Tf {size * 1.25:.2f} TL 50 {842 - 50 - size:.2f} Td ".encode()
            + shown
            + b" ET"
        )
        page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_string(text: str) -> bytes:
    """Return text as the inside of a PDF literal string in WinAnsi (cp1252)."""
    data = text.encode("cp1252")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def write_scans(out_dir: Path, pages: int, seed: int, rotated_share: float) -> list[CorpusLetter]:
    """Generate scanned letters in every format until they hold at least ``pages`` pages.

    `generate` writes the same first letters whatever the count, so a count that falls short is
    raised and the batch written again; only the shortest prefix holding ``pages`` is kept.
    """
    count = max(1, math.ceil(pages / MEAN_PAGES_PER_LETTER))
    # A small corpus still gets two turned letters, so that their accuracy can be told at all.
    share = max(rotated_share, min(1.0, 2 / count))
    while True:
        truths = generate(out_dir, count, seed, FORMATS, rotated_share=share)
        total = sum(len(truth.pages) for truth in truths)
        if total >= pages:
            break
        count += math.ceil((pages - total) / MEAN_PAGES_PER_LETTER)
    kept: list[CorpusLetter] = []
    for truth in truths:
        if sum(letter.pages for letter in kept) >= pages:
            (out_dir / truth.name).unlink()
        else:
            kept.append(CorpusLetter(out_dir / truth.name, truth))
    return kept


def write_born_digital(out_dir: Path, pages: int, seed: int) -> list[CorpusLetter]:
    """Compose letters and write them as born-digital PDFs until they hold ``pages`` pages."""
    letters: list[CorpusLetter] = []
    index = 0
    while sum(letter.pages for letter in letters) < pages:
        doc_type = DOC_TYPES[index % len(DOC_TYPES)]
        truth = compose(doc_type, 700_000_000 + seed * 1000 + index)
        path = out_dir / f"digital-{index + 1:04d}-{doc_type}.pdf"
        truth = dataclasses.replace(truth, name=path.name, format="pdf")
        path.write_bytes(born_digital_pdf(truth))
        letters.append(CorpusLetter(path, truth, born_digital=True))
        index += 1
    return letters


def render_pngs(corpus: Corpus) -> None:
    """Render every page of the corpus as a 300 dpi PNG for raw tesseract (once; cached)."""
    done = corpus.root / "png" / "complete"
    if done.exists():
        return
    done.parent.mkdir(exist_ok=True)
    for letter in corpus.letters:
        targets = corpus.png_pages(letter)
        if letter.media_type is MediaType.PDF:
            document = pdfium.PdfDocument(letter.path)
            try:
                for index, target in enumerate(targets):
                    bitmap = document[index].render(scale=DPI / 72, grayscale=True)
                    bitmap.to_pil().save(target, dpi=(DPI, DPI))
            finally:
                document.close()
        else:
            with Image.open(letter.path) as image:
                for index, target in enumerate(targets):
                    image.seek(index)
                    image.save(target, dpi=(DPI, DPI))
    done.touch()


def load_corpus(pages: int, seed: int, rotated_share: float, born_share: float) -> Corpus:
    """Return the corpus for these parameters, generating it only when it is not cached."""
    key = cache_key(pages=pages, seed=seed, rotated=rotated_share, born=born_share)
    root = BENCH_DIR / f"corpus-{key}"
    manifest = root / "manifest.json"
    if not manifest.exists():
        print(f"generating the corpus in {root} …", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        born = write_born_digital(root, math.ceil(pages * born_share), seed) if born_share else []
        scans = write_scans(root, pages - sum(letter.pages for letter in born), seed, rotated_share)
        entries = [
            {"file": letter.name, "born_digital": letter.born_digital, **letter.truth.to_json()}
            for letter in scans + born
        ]
        manifest.write_text(json.dumps(entries, ensure_ascii=False, indent=1))
    letters = []
    for entry in json.loads(manifest.read_text()):
        born_digital = bool(entry.pop("born_digital"))
        path = root / entry.pop("file")
        entry["pages"] = tuple(entry["pages"])
        letters.append(CorpusLetter(path, GroundTruth(**entry), born_digital))
    corpus = Corpus(root, tuple(letters))
    render_pngs(corpus)
    return corpus


def big_pdf(pages: int, seed: int) -> Path:
    """Return one image-only PDF of ``pages`` pages joined from generated letters (cached)."""
    key = cache_key(big=pages, seed=seed)
    path = BENCH_DIR / f"big-{key}" / f"big-{pages}.pdf"
    if path.exists():
        return path
    print(f"generating a {pages}-page PDF in {path.parent} …", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as tmp:
        count = math.ceil(pages / MEAN_PAGES_PER_LETTER) + 10
        truths = generate(Path(tmp), count, seed + 1, formats=["pdf"])
        writer = PdfWriter()
        for truth in truths:
            writer.append(Path(tmp) / truth.name)
            if len(writer.pages) >= pages:
                break
        while len(writer.pages) > pages:
            writer.remove_page(len(writer.pages) - 1)
        if len(writer.pages) < pages:
            raise RuntimeError(f"the generated letters hold fewer than {pages} PDF pages")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            writer.write(out)
    return path


# --------------------------------------------------------------------------------------------
# Measures: accuracy and memory


def normalised(text: str) -> str:
    """Return text with every run of whitespace (line breaks, form feeds) as one space."""
    return " ".join(text.split())


def words(text: str) -> Counter[str]:
    """Return a text's words as a multiset: whitespace tokens, surrounding punctuation removed."""
    tokens = (token.strip(PUNCTUATION) for token in text.split())
    return Counter(token for token in tokens if token)


def levenshtein(a: str, b: str) -> int:
    """Return the edit distance of two strings (Hyyrö's bit-parallel form of Myers' algorithm).

    One Python integer holds a whole column of the dynamic-programming table as bits, so a
    letter of a few thousand characters takes milliseconds instead of seconds.
    """
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    masks: dict[str, int] = {}
    for index, char in enumerate(b):
        masks[char] = masks.get(char, 0) | (1 << index)
    full, top = (1 << len(b)) - 1, 1 << (len(b) - 1)
    positive, negative, distance = full, 0, len(b)
    for char in a:
        match = masks.get(char, 0)
        vertical = match | negative
        horizontal = (((match & positive) + positive) ^ positive) | match
        up = negative | (~(horizontal | positive) & full)
        down = positive & horizontal
        if up & top:
            distance += 1
        elif down & top:
            distance -= 1
        up = ((up << 1) | 1) & full
        down = (down << 1) & full
        positive = down | (~(vertical | up) & full)
        negative = up & vertical
    return distance


@dataclass(frozen=True)
class Accuracy:
    """Counts of words found and characters wrong, summed over letters."""

    words: int = 0
    found: int = 0
    chars: int = 0
    edits: int = 0

    def __add__(self, other: Accuracy) -> Accuracy:
        return Accuracy(
            self.words + other.words,
            self.found + other.found,
            self.chars + other.chars,
            self.edits + other.edits,
        )

    @property
    def word_accuracy(self) -> float | None:
        """Return the share of the truth's words found, or None for no letters."""
        return self.found / self.words if self.words else None

    @property
    def cer(self) -> float | None:
        """Return the character error rate, or None for no letters."""
        return self.edits / self.chars if self.chars else None


def letter_accuracy(truth: GroundTruth, text: str) -> Accuracy:
    """Return how well ``text`` reads a letter."""
    expected, got = normalised("\n".join(truth.pages)), normalised(text)
    wanted, read = words(expected), words(got)
    found = sum(min(count, read[word]) for word, count in wanted.items())
    return Accuracy(sum(wanted.values()), found, len(expected), levenshtein(expected, got))


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass(frozen=True)
class ProcessStat:
    """What /proc/<pid>/stat says of a process that matters here."""

    parent: int
    rss: int  # bytes
    cpu_seconds: float  # its own and its reaped children's, user and system


def process_table() -> dict[int, ProcessStat]:
    """Return every process's parent, resident set size and CPU time, read from /proc."""
    table: dict[int, ProcessStat] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # fields from the 3rd (state) on
        table[int(entry.name)] = ProcessStat(
            parent=int(fields[1]),
            rss=int(fields[21]) * PAGE_SIZE,
            cpu_seconds=sum(int(value) for value in fields[11:15]) / CLOCK_TICKS,
        )
    return table


def process_tree(root: int, table: dict[int, ProcessStat]) -> list[int]:
    """Return a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, stat in table.items():
        children.setdefault(stat.parent, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def proportional_set_size(pid: int) -> int | None:
    """Return a process's PSS in bytes: its own pages plus its share of pages it shares."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def tree_memory(root: int, include_root: bool = True) -> int:
    """Return the memory a process and all its descendants use (optionally without itself).

    Summed PSS, not RSS: forked flow-run processes share the zygote's pages copy-on-write, and
    summed RSS would count every shared page once per process. RSS where PSS is unreadable.
    """
    table = process_table()
    total = 0
    for pid in process_tree(root, table):
        if pid != root or include_root:
            pss = proportional_set_size(pid)
            total += table[pid].rss if pss is None else pss
    return total


class PeakMemory:
    """Sample a process tree's memory (summed PSS) every 100 ms in a thread, keeping the peak."""

    def __init__(self, root: int, include_root: bool = True, interval: float = 0.1) -> None:
        self.root, self.include_root, self.interval = root, include_root, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, tree_memory(self.root, self.include_root))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------------------------
# The systems


@dataclass
class SystemRun:
    """What one system did with the corpus."""

    name: str
    seconds: float
    pages: int
    letters: int
    texts: dict[str, str]  # letter name → the text read
    peak_memory: int | None = None
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def pages_per_minute(self) -> float:
        """Return the throughput in pages per minute."""
        return self.pages / self.seconds * 60

    @property
    def seconds_per_letter(self) -> float:
        """Return the wall time per letter (file)."""
        return self.seconds / self.letters

    def accuracy(self, corpus: Corpus, rotated: bool = False) -> Accuracy:
        """Return the accuracy over every letter, or over the turned ones alone."""
        total = Accuracy()
        for letter in corpus.letters:
            if not rotated or letter.truth.rotation:
                total += letter_accuracy(letter.truth, self.texts.get(letter.name, ""))
        return total


def ocr_env() -> dict[str, str]:
    """Return this process's environment with tesseract held to one thread."""
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def run_tesseract(corpus: Corpus) -> SystemRun:
    """Read every pre-rendered page PNG with the tesseract command, two at once."""
    env = ocr_env()

    def read(png: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tesseract", str(png), "stdout", "-l", LANGUAGES, "--dpi", str(DPI)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    images = [png for letter in corpus.letters for png in corpus.png_pages(letter)]
    memory = PeakMemory(os.getpid(), include_root=False)
    with memory, ThreadPoolExecutor(TESSERACT_PARALLEL) as pool:
        started = time.perf_counter()
        done = list(pool.map(read, images))
        seconds = time.perf_counter() - started
    by_page = dict(zip(images, done, strict=True))
    texts: dict[str, str] = {}
    failures: list[str] = []
    for letter in corpus.letters:
        pages = [by_page[png] for png in corpus.png_pages(letter)]
        failures += [f"{letter.name}: {p.stderr.strip()}" for p in pages if p.returncode]
        texts[letter.name] = "\f".join(p.stdout for p in pages if p.returncode == 0)
    return SystemRun(
        "raw tesseract",
        seconds,
        corpus.pages,
        len(corpus.letters),
        texts,
        memory.peak,
        failures,
        ["pages pre-rendered to 300 dpi PNG (not timed); 2 tesseract processes at once"],
    )


def ocr_step(files: list[tuple[str, str, int]]) -> tuple[float, dict[str, str], list[str]]:
    """Run postroom's OCR step over files (path, media type, pages); return time, texts, failures.

    Runs in a child process of its own, so that its memory is measured apart from this script.
    """
    from schemas.letter import Intake, LetterRef, Limits, SourceObject
    from tasks.errors import PermanentError
    from tasks.ocr import prepare_pages, read_or_mark, searchable_pdf
    from tasks.pages import base_pdf

    timeout = Limits().page_timeout_seconds
    gc.freeze()  # as the worker's zygote does: the imports stay out of every collection

    def one(path: str, media_type: str, pages: int) -> tuple[str, str | None, list[str]]:
        """OCR one file as the flow does: prepare, read each page, graft, PDF/A."""
        name = Path(path).name
        letter_id = hashlib.sha256(name.encode()).hexdigest()[:24]
        source = SourceObject(bucket="bench", key=name, version_id="1")
        intake = Intake(
            letter=LetterRef(letter_id=letter_id, source=source),
            sha256="0" * 64,
            size=Path(path).stat().st_size,
            media_type=MediaType(media_type),
            pages=pages,
            local_path=path,
        )
        with tempfile.TemporaryDirectory(prefix="postroom-bench-") as workdir:
            try:
                prepared = prepare_pages.fn(intake, workdir)
            except PermanentError as exc:
                return name, None, [f"{name}: {exc.reason}"]
            read = [read_or_mark(page, LANGUAGES, timeout) for page in prepared]
            searchable_pdf(base_pdf(intake), read, name)
        failed = [f"{name}: {page.unreadable}" for page in read if page.unreadable]
        return name, "\f".join(page.text for page in read), failed

    texts: dict[str, str] = {}
    failures: list[str] = []
    started = time.perf_counter()
    # Two files at a time, as two letters' runs share the machine's two OCR slots in the stack
    # (file after file, a one-page letter would leave a core idle).
    with ThreadPoolExecutor(2) as pool:
        for name, text, failed in pool.map(lambda f: one(*f), files):
            failures += failed
            if text is not None:
                texts[name] = text
    return time.perf_counter() - started, texts, failures


def run_ocr_step(corpus: Corpus) -> SystemRun:
    """Run the OCR step's functions over the corpus in a child process, two files at a time."""
    files = [(str(c.path), c.media_type.value, c.pages) for c in corpus.letters]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(time.sleep, 0).result()  # start the child before sampling and timing
        with PeakMemory(os.getpid(), include_root=False) as memory:
            seconds, texts, failures = pool.submit(ocr_step, files).result()
    return SystemRun(
        "postroom OCR step",
        seconds,
        corpus.pages,
        len(corpus.letters),
        texts,
        memory.peak,
        failures,
        [
            "in-process, no Prefect, no S3: prepare, read, graft, PDF/A, 2 files at once; "
            "memory: the child process (its Python with postroom imported) and its tesseracts"
        ],
    )


def pdf_text(path: Path) -> str:
    """Return a PDF's text layer as pypdf extracts it, pages joined by form feed."""
    return "\f".join(page.extract_text() or "" for page in PdfReader(path).pages)


def run_ocrmypdf(corpus: Corpus, exe: Path) -> SystemRun:
    """Run OCRmyPDF over every file of the corpus, one after the other; record failures per file."""
    env = ocr_env()
    failures: list[str] = []
    notes: list[str] = []
    outputs: dict[str, Path] = {}
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True)
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as tmp:
        with PeakMemory(os.getpid(), include_root=False) as memory:
            started = time.perf_counter()
            for letter in corpus.letters:
                out = Path(tmp) / f"{letter.name}.pdf"
                command = [str(exe), "-q", "-l", LANGUAGES, "--output-type", "pdfa-2"]
                command += ["--pdfa-backend", "internal", "--skip-text", "--jobs", "2"]
                if letter.media_type is not MediaType.PDF:
                    command += ["--image-dpi", str(DPI)]
                done = subprocess.run(
                    [*command, str(letter.path), str(out)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode == 0:
                    outputs[letter.name] = out
                else:
                    said = [line.strip() for line in done.stderr.splitlines() if line.strip()]
                    reason = " / ".join(said[-3:]) or "no message"
                    failures.append(f"{letter.name}: exit {done.returncode}: {reason}")
            seconds = time.perf_counter() - started
        texts = {name: pdf_text(path) for name, path in outputs.items()}
    notes.append(
        f"OCRmyPDF {version.stdout.strip()}, one file at a time, --jobs 2 within a file, "
        "OMP_THREAD_LIMIT=1; multi-page TIFF read as it is (no conversion needed); "
        "text from its output PDF with pypdf"
    )
    return SystemRun(
        "OCRmyPDF",
        seconds,
        corpus.pages,
        len(corpus.letters),
        texts,
        memory.peak,
        failures,
        notes,
    )


# -- postroom end to end --


@dataclass(frozen=True)
class Outcome:
    """A letter's row in the records database, as far as the benchmark cares."""

    letter_id: str
    status: str
    text: str | None
    reason: str | None


def outcomes(stack: LocalStack, keys: Sequence[str]) -> dict[str, Outcome]:
    """Return the records of the inbox objects with these keys."""
    with Session(stack.engine) as session:
        rows = session.execute(
            select(
                Letter.source_key,
                Letter.id,
                Letter.status,
                Letter.text,
                Letter.quarantine_reason,
            ).where(Letter.bucket == stack.settings.buckets.inbox, Letter.source_key.in_(keys))
        ).all()
    return {
        key: Outcome(letter_id, status, text, reason)
        for key, letter_id, status, text, reason in rows
    }


def letter_text(stack: LocalStack, outcome: Outcome) -> str:
    """Return the text postroom read: the record's, or for a letter in review, its work copy."""
    if outcome.text is not None:
        return outcome.text
    try:
        stored = stack.s3.get_object(
            Bucket=stack.settings.buckets.system, Key=f"work/{outcome.letter_id}/text.txt"
        )
    except ClientError:  # no OCR text was kept: the letter failed before or in the ocr step
        return ""
    return stored["Body"].read().decode()


@dataclass(frozen=True)
class Processed:
    """The inbox objects a drop-and-process round handled, and how long it took."""

    seconds: float
    outcomes: dict[str, Outcome]
    peak_memory: int


def drop_and_process(
    stack: LocalStack, files: dict[str, Path], worker: int, timeout: float
) -> Processed:
    """Put files into the inbox, ask for a sweep, and wait until the records show them settled.

    Timed from the first put until every letter is settled (or in review), polled every 250 ms;
    the worker's process tree is sampled meanwhile. The sweep is a run of the sweep deployment,
    as a scanner's event or an operator would start it, so it waits for a scheduled sweep in
    progress rather than racing it to start the same letters.
    """
    s3, inbox = stack.s3, stack.settings.buckets.inbox
    keys = list(files)
    with PeakMemory(worker) as memory:
        started = time.perf_counter()
        for key, path in files.items():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            s3.put_object(Bucket=inbox, Key=key, Body=path.read_bytes(), ContentType=kind)
        sweep = stack.prefect("deployment", "run", "sweep-inbox/sweep-inbox", timeout=120)
        if sweep.returncode != 0:
            raise RuntimeError(f"starting a sweep failed: {sweep.stdout}{sweep.stderr}")
        found = wait_until_settled(stack, keys, started + timeout)
        seconds = time.perf_counter() - started
    return Processed(seconds, found, memory.peak)


def wait_until_settled(
    stack: LocalStack, keys: Sequence[str], deadline: float
) -> dict[str, Outcome]:
    """Poll the records until every key's letter is finished or time is up."""
    while True:
        found = outcomes(stack, keys)
        if len(found) == len(keys) and all(o.status in FINISHED for o in found.values()):
            return found
        if time.perf_counter() > deadline:
            return found
        time.sleep(0.25)


def worker_pid(stack: LocalStack) -> int:
    """Return the PID of the worker `postroom up` started, from its stack.json."""
    parts: dict[str, Any] = json.loads((stack.data_dir / "stack.json").read_text())
    if "worker" not in parts:
        raise RuntimeError(f"no worker in {stack.data_dir / 'stack.json'}: {sorted(parts)}")
    return int(parts["worker"]["pid"])


def tree_cpu_seconds(root: int) -> float:
    """Return the CPU seconds a process tree used so far, reaped children included."""
    table = process_table()
    return sum(table[pid].cpu_seconds for pid in process_tree(root, table))


def stack_cpu_seconds(stack: LocalStack) -> dict[str, float]:
    """Return the CPU seconds each part of the stack used so far (its whole process tree)."""
    parts: dict[str, Any] = json.loads((stack.data_dir / "stack.json").read_text())
    return {name: tree_cpu_seconds(int(part["pid"])) for name, part in parts.items()}


@contextmanager
def metered(stack: LocalStack) -> Iterator[dict[str, float]]:
    """Fill the dict yielded, on leaving, with the CPU seconds each part used meanwhile.

    The parts are the stack's (each a whole process tree) and the commands this script ran.
    """
    used: dict[str, float] = {}
    before = stack_cpu_seconds(stack)
    commands_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    yield used
    commands = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = stack_cpu_seconds(stack)
    used.update({name: after[name] - before.get(name, 0.0) for name in after})
    used[COMMANDS] = (
        commands.ru_utime + commands.ru_stime - commands_before.ru_utime - commands_before.ru_stime
    )


def timed_round(
    stack: LocalStack, files: dict[str, Path], worker: int, timeout: float
) -> tuple[Processed, dict[str, float]]:
    """Drop and process files; return the round and the CPU seconds each part used meanwhile."""
    with metered(stack) as used:
        run = drop_and_process(stack, files, worker, timeout)
    return run, used


def cpu_note(used: dict[str, float]) -> str:
    """Return where the CPU of a round went, part by part."""
    shown = ", ".join(f"{name} {seconds:.0f}" for name, seconds in used.items())
    return f"{shown} (total {sum(used.values()):.0f})"


@dataclass(frozen=True)
class Overhead:
    """A round through the stack that reads no page: what a letter costs besides its OCR.

    Three such rounds follow the corpus, each of as many letters (or runs) as the corpus has:

    - the corpus again under new keys, every letter a duplicate of its first drop: a flow run,
      four task runs (claim, intake with the download and the SHA-256, settle, release) and its
      records; the least a letter costs through postroom;
    - runs of a flow that does nothing (`bench/nothing.py`), started as the sweep starts
      letters: Prefect's flow run alone;
    - the same with one task that does nothing per step of DESIGN's letter (``DESIGN_STEPS``):
      the orchestration the project's shape asks for, with no work in it.

    Together with tesseract's own CPU for the pages, each bounds what end to end can reach.
    """

    what: str
    letters: int
    seconds: float
    cpu: dict[str, float]

    def cpu_per_letter(self, elsewhere: Sequence[str] = ()) -> float:
        """Return the CPU seconds per letter of the stack, but for the parts ``elsewhere``.

        The bench's own commands (asking for the sweep, starting the runs, polling) are not the
        stack's: never counted, so that each bound is one the stack cannot beat.
        """
        counted = (v for part, v in self.cpu.items() if part not in (*elsewhere, COMMANDS))
        return sum(counted) / self.letters

    def ceiling(self, pages: int, tesseract_seconds: float, elsewhere: Sequence[str] = ()) -> float:
        """Return the pages per minute end to end could reach, at best, on this machine.

        The corpus's tesseract CPU (raw tesseract's run: its processes kept
        ``TESSERACT_PARALLEL`` cores busy) plus this overhead for every letter, spread over every
        core with none idle; the parts ``elsewhere`` (e.g. the Prefect server) run on another
        machine.
        """
        overhead = self.cpu_per_letter(elsewhere) * self.letters
        return (
            pages
            / ((TESSERACT_PARALLEL * tesseract_seconds + overhead) / (os.cpu_count() or 1))
            * 60
        )


def budget(pages: int, letters: int, tesseract_seconds: float, pages_per_minute: float) -> float:
    """Return the CPU seconds a letter may cost besides tesseract's to reach ``pages_per_minute``.

    The inverse of `Overhead.ceiling`: every core busy for the time the pages may take, less
    the corpus's tesseract CPU, shared among the letters.
    """
    cores = os.cpu_count() or 1
    return (
        cores * pages / pages_per_minute * 60 - TESSERACT_PARALLEL * tesseract_seconds
    ) / letters


def orchestration_round(stack: LocalStack, runs: int, steps: int, timeout: float) -> Overhead:
    """Start ``runs`` runs of the flow that does nothing, with ``steps`` tasks each; meter them."""
    with metered(stack) as used:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.nothing", str(runs), str(steps)],
            env=stack.env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"flow runs that do nothing failed: {done.stdout}{done.stderr}")
    tasks = f", {steps} no-op tasks each" if steps else ""
    return Overhead(f"{runs} flow runs that do nothing{tasks}", runs, seconds, used)


def run_postroom(
    corpus: Corpus, big: Path | None, timeout: float
) -> tuple[SystemRun, Processed | None, list[Overhead]]:
    """Start a stack; process the corpus, the rounds without OCR (`Overhead`), the big PDF."""
    with tempfile.TemporaryDirectory(prefix="postroom-bench-") as tmp:
        # As in production: the server schedules the sweep every 15 s.
        stack = LocalStack(env=stack_env(Path(tmp), scheduler=True), data_dir=Path(tmp))
        try:
            print("starting a stack (postroom up) …", file=sys.stderr)
            stack.postroom("up", timeout=600)
            worker = worker_pid(stack)
            print(f"processing {len(corpus.letters)} letters end to end …", file=sys.stderr)
            files = {f"bench/{letter.name}": letter.path for letter in corpus.letters}
            run, used = timed_round(stack, files, worker, timeout)
            print("the same letters again, each a duplicate …", file=sys.stderr)
            again = {f"bench-again/{letter.name}": letter.path for letter in corpus.letters}
            repeat, repeat_used = timed_round(stack, again, worker, timeout)
            duplicates = sum(o.status == State.DUPLICATE for o in repeat.outcomes.values())
            overheads = [
                Overhead(
                    f"the same {len(again)} letters again ({duplicates} recognised as "
                    "duplicates, no OCR)",
                    len(again),
                    repeat.seconds,
                    repeat_used,
                )
            ]
            for steps in (0, DESIGN_STEPS):
                print(f"flow runs that do nothing, {steps} tasks each …", file=sys.stderr)
                overheads.append(orchestration_round(stack, len(again), steps, timeout))
            texts = {
                key.removeprefix("bench/"): letter_text(stack, outcome)
                for key, outcome in run.outcomes.items()
            }
            single = None
            if big is not None:
                print(f"processing {big.name} alone (peak memory) …", file=sys.stderr)
                single = drop_and_process(stack, {f"bench-big/{big.name}": big}, worker, timeout)
        finally:
            stack.postroom("down", timeout=120, check=False)
    failures = [
        f"{key}: {o.status}{': ' + o.reason if o.reason else ''}"
        for key, o in run.outcomes.items()
        if o.status not in (State.DONE, State.IN_REVIEW)
    ]
    failures += [f"{key}: no record" for key in files if key not in run.outcomes]
    in_review = sum(o.status == State.IN_REVIEW for o in run.outcomes.values())
    result = SystemRun(
        "postroom end to end",
        run.seconds,
        corpus.pages,
        len(corpus.letters),
        texts,
        single.peak_memory if single else None,
        failures,
        [
            "from the first put into the inbox until every record is settled; a sweep run is "
            "asked for right after the last put (`prefect deployment run`, its start-up "
            "included); "
            f"worker tree peak during the corpus run {run.peak_memory / GB:.2f} GB",
            f"{in_review} letter(s) wait for review (counted as finished: the machine's part is "
            "done; their text is the OCR text kept in the system bucket)",
            f"CPU seconds during the corpus run: {cpu_note(used)}",
        ],
    )
    return result, single, overheads


# --------------------------------------------------------------------------------------------
# The report


def percent(value: float | None) -> str:
    """Return a share as a percentage, or n/a."""
    return "n/a" if value is None else f"{value * 100:.1f} %"


def gigabytes(value: int | None) -> str:
    """Return bytes as GB, or n/a."""
    return "n/a" if value is None else f"{value / GB:.2f} GB"


def figures(run: SystemRun, corpus: Corpus) -> dict[str, Any]:
    """Return one system's figures, as they go into the JSON file."""
    overall, turned = run.accuracy(corpus), run.accuracy(corpus, rotated=True)
    return {
        "seconds": round(run.seconds, 1),
        "pages": run.pages,
        "letters": run.letters,
        "pages_per_minute": round(run.pages_per_minute, 2),
        "seconds_per_letter": round(run.seconds_per_letter, 2),
        "word_accuracy": overall.word_accuracy,
        "cer": overall.cer,
        "rotated_word_accuracy": turned.word_accuracy,
        "rotated_cer": turned.cer,
        "peak_pss_bytes": run.peak_memory,
        "per_letter": {
            letter.name: dataclasses.asdict(
                letter_accuracy(letter.truth, run.texts.get(letter.name, ""))
            )
            for letter in corpus.letters
        },
        "failures": run.failures,
        "notes": run.notes,
    }


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Return the side-by-side table of every system's figures."""
    head = (
        f"{'system':<22}{'pages/min':>10}{'s/letter':>10}{'words':>9}{'CER':>8}"
        f"{'turned: words':>15}{'CER':>8}{'peak memory':>13}"
    )
    lines = [head, "-" * len(head)]
    for name, f in results.items():
        lines.append(
            f"{name:<22}{f['pages_per_minute']:>10.1f}{f['seconds_per_letter']:>10.2f}"
            f"{percent(f['word_accuracy']):>9}{percent(f['cer']):>8}"
            f"{percent(f['rotated_word_accuracy']):>15}{percent(f['rotated_cer']):>8}"
            f"{gigabytes(f['peak_pss_bytes']):>13}"
        )
    return lines


@dataclass(frozen=True)
class Target:
    """One target of the issue, checked against the figures."""

    label: str
    passed: bool | None  # None: a figure it needs was not measured
    detail: str


def at_least(label: str, mine: float | None, theirs: float | None, factor: float = 1.0) -> Target:
    """Return whether ``mine`` ≥ ``factor`` × ``theirs``; not judged when either is missing."""
    if mine is None or theirs is None:
        return Target(label, None, "not measured in this run")
    times = f"{factor:g} × " if factor != 1.0 else ""
    return Target(label, mine >= factor * theirs, f"{mine:.3g} vs {times}{theirs:.3g}")


def targets(results: dict[str, dict[str, Any]]) -> list[Target]:
    """Check the issue's targets against the figures."""
    none: dict[str, Any] = {}
    e2e = results.get("postroom end to end", none)
    tesseract = results.get("raw tesseract", none)
    ocrmypdf = results.get("OCRmyPDF", none)
    turned_mine = e2e.get("rotated_word_accuracy")
    turned_theirs = tesseract.get("rotated_word_accuracy")
    peak = e2e.get("peak_pss_bytes")
    return [
        at_least(
            f"postroom end to end ≥ {E2E_VS_TESSERACT:g} × raw tesseract pages/min",
            e2e.get("pages_per_minute"),
            tesseract.get("pages_per_minute"),
            E2E_VS_TESSERACT,
        ),
        at_least(
            f"postroom end to end ≥ {E2E_VS_OCRMYPDF:g} × OCRmyPDF pages/min",
            e2e.get("pages_per_minute"),
            ocrmypdf.get("pages_per_minute"),
            E2E_VS_OCRMYPDF,
        ),
        at_least(
            "postroom word accuracy ≥ raw tesseract's",
            e2e.get("word_accuracy"),
            tesseract.get("word_accuracy"),
        ),
        Target(
            "postroom word accuracy better than raw tesseract's on turned pages",
            None if turned_mine is None or turned_theirs is None else turned_mine > turned_theirs,
            f"{percent(turned_mine)} vs {percent(turned_theirs)}",
        ),
        Target(
            "postroom peak memory < 1 GB (worker tree, the big PDF alone)",
            None if peak is None else peak < MEMORY_LIMIT,
            gigabytes(peak),
        ),
    ]


def report(
    corpus: Corpus,
    runs: list[SystemRun],
    single: Processed | None,
    big_pages: int,
    overheads: Sequence[Overhead],
) -> tuple[list[str], dict[str, Any]]:
    """Return the printed report and the JSON document of a benchmark run."""
    results = {run.name: figures(run, corpus) for run in runs}
    checks = targets(results)
    load = os.getloadavg()
    lines = [
        f"corpus: {corpus.describe()}",
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} at the end (the machine is "
        "shared: other work may have run meanwhile)",
        "",
        *table(results),
        "",
    ]
    if single is not None:
        lines.append(
            f"postroom, one {big_pages}-page PDF alone: {single.seconds:.1f} s "
            f"({big_pages / single.seconds * 60:.1f} pages/min), worker tree peak "
            f"{gigabytes(single.peak_memory)}"
        )
    tesseract = results.get("raw tesseract")
    bounds: list[dict[str, Any]] = []
    for overhead in overheads:
        bound: dict[str, Any] = {
            "what": overhead.what,
            "letters": overhead.letters,
            "seconds": round(overhead.seconds, 1),
            "cpu_seconds": {name: round(value, 1) for name, value in overhead.cpu.items()},
            "cpu_seconds_per_letter": round(overhead.cpu_per_letter(), 2),
        }
        lines.append(
            f"{overhead.what}: {overhead.seconds:.1f} s, {overhead.cpu_per_letter():.2f} CPU-s "
            f"a letter ({cpu_note(overhead.cpu)})"
        )
        if tesseract is not None:
            ceiling = overhead.ceiling(corpus.pages, tesseract["seconds"])
            apart = overhead.ceiling(corpus.pages, tesseract["seconds"], elsewhere=[SERVER])
            bound["ceiling_pages_per_minute"] = round(ceiling, 1)
            bound["ceiling_pages_per_minute_server_apart"] = round(apart, 1)
            lines.append(
                f"    with that for every letter, end to end reaches at most {ceiling:.1f} "
                f"pages/min ({ceiling / tesseract['pages_per_minute']:.2f} × raw tesseract); "
                f"with the Prefect server elsewhere {apart:.1f} "
                f"({apart / tesseract['pages_per_minute']:.2f} ×)"
            )
        bounds.append(bound)
    if overheads and tesseract is not None:
        target = E2E_VS_TESSERACT * tesseract["pages_per_minute"]
        allowed = budget(corpus.pages, len(corpus.letters), tesseract["seconds"], target)
        lines.append(
            f"(bounds: tesseract's CPU for the pages plus the stack's CPU above for every letter, "
            f"the bench's commands not counted, every core busy; {E2E_VS_TESSERACT:g} × raw "
            f"tesseract, {target:.1f} pages/min, leaves {allowed:.2f} CPU-s a letter for "
            "everything but tesseract)"
        )
    for run in runs:
        for note in run.notes:
            lines.append(f"{run.name}: {note}")
        if run.failures:
            lines.append(f"{run.name}: {len(run.failures)} failure(s):")
            lines += [f"    {failure}" for failure in run.failures[:20]]
    lines += ["", "targets"]
    for target in checks:
        mark = {True: "PASS", False: "FAIL", None: "n/a "}[target.passed]
        lines.append(f"  {mark}  {target.label}: {target.detail}")
    document = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "corpus": {
            "root": str(corpus.root),
            "letters": len(corpus.letters),
            "pages": corpus.pages,
            "turned_pages": sum(c.pages for c in corpus.letters if c.truth.rotation),
            "born_digital_pages": sum(c.pages for c in corpus.letters if c.born_digital),
            "description": corpus.describe(),
        },
        "load_average": load,
        "systems": results,
        "single_file": None
        if single is None
        else {
            "pages": big_pages,
            "seconds": round(single.seconds, 1),
            "peak_pss_bytes": single.peak_memory,
        },
        "overheads": bounds,
        "targets": [dataclasses.asdict(target) for target in checks],
    }
    return lines, document


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print its table and targets, write the JSON figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100, help="pages in the corpus (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rotated-share", type=float, default=0.05, help="of letters (default 0.05)"
    )
    parser.add_argument(
        "--born-digital-share", type=float, default=0.05, help="of pages (default 0.05)"
    )
    parser.add_argument(
        "--big-pages", type=int, default=100, help="pages of the memory run's PDF (0: skip it)"
    )
    parser.add_argument("--skip-postroom", action="store_true", help="no stack, no end to end")
    parser.add_argument("--skip-ocrmypdf", action="store_true")
    parser.add_argument("--ocrmypdf", type=Path, default=OCRMYPDF, help=f"default {OCRMYPDF}")
    parser.add_argument("--timeout", type=float, default=3600, help="per postroom round, seconds")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "ocr-results.json")
    args = parser.parse_args(argv)
    if not args.skip_ocrmypdf and not args.ocrmypdf.exists():
        parser.error(f"{args.ocrmypdf} is missing: run `make bench-ocr`, or pass --skip-ocrmypdf")
    corpus = load_corpus(args.pages, args.seed, args.rotated_share, args.born_digital_share)
    big = big_pdf(args.big_pages, args.seed) if args.big_pages and not args.skip_postroom else None
    print(f"corpus: {corpus.describe()}", file=sys.stderr)
    runs: list[SystemRun] = []
    single = None
    overheads: list[Overhead] = []
    if not args.skip_postroom:
        e2e, single, overheads = run_postroom(corpus, big, args.timeout)
        runs.append(e2e)
    print("postroom OCR step …", file=sys.stderr)
    runs.append(run_ocr_step(corpus))
    print("raw tesseract …", file=sys.stderr)
    runs.append(run_tesseract(corpus))
    if not args.skip_ocrmypdf:
        print("OCRmyPDF …", file=sys.stderr)
        runs.append(run_ocrmypdf(corpus, args.ocrmypdf))
    lines, document = report(corpus, runs, single, args.big_pages, overheads)
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"\nfigures written to {args.json}")
    return 1 if any(target["passed"] is False for target in document["targets"]) else 0


if __name__ == "__main__":
    sys.exit(main())
