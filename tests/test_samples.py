"""Tests for flows/samples.py: sample letters are complete, valid, deterministic and readable."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import pypdf
import pytesseract
import pytest
from PIL import Image
from PIL.TiffImagePlugin import TiffImageFile
from pypdf.generic import DictionaryObject

from flows import samples
from flows.samples import DOC_TYPES, FORMATS, GroundTruth

SEED = 1  # ten letters from this seed hold every type and every format
A4_POINTS = (595.2, 841.9)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GroundTruth]]:
    """Ten generated letters, one of each type, and where they were written."""
    out = tmp_path_factory.mktemp("samples")
    return out, samples.generate(out, 10, seed=SEED)


def levenshtein(a: str, b: str) -> int:
    """Return the edit distance of two strings (Myers' bit-parallel algorithm, Hyyrö's form)."""
    if not a:
        return len(b)
    masks: dict[str, int] = {}
    for i, char in enumerate(a):
        masks[char] = masks.get(char, 0) | 1 << i
    full, top = (1 << len(a)) - 1, 1 << (len(a) - 1)
    plus, minus, score = full, 0, len(a)
    for char in b:
        eq = masks.get(char, 0)
        xv = eq | minus
        xh = (((eq & plus) + plus) ^ plus) | eq
        hp = (minus | ~(xh | plus)) & full
        hm = plus & xh
        score += bool(hp & top) - bool(hm & top)
        hp = (hp << 1 | 1) & full
        hm = (hm << 1) & full
        plus = (hm | ~(xv | hp)) & full
        minus = hp & xv
    return score


def cer(truth: str, ocr: str) -> float:
    """Return the character error rate of ``ocr`` against ``truth``, whitespace collapsed."""
    a, b = " ".join(truth.split()), " ".join(ocr.split())
    return levenshtein(a, b) / max(1, len(a))


def iban_checksum_ok(iban: str) -> bool:
    """Check an IBAN's ISO 13616 checksum, written here apart from the generator's own."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in moved)) % 97 == 1


def test_batch_covers_every_type_and_format(batch: tuple[Path, list[GroundTruth]]) -> None:
    out, truths = batch
    assert [t.doc_type for t in truths] == list(DOC_TYPES)
    assert {t.format for t in truths} == set(FORMATS)
    for index, truth in enumerate(truths, 1):
        assert truth.name.startswith(f"{index:04d}-{truth.doc_type}.")
        assert (out / truth.name).stat().st_size > 10_000
        assert 1 <= len(truth.pages) <= 3
        assert truth.sender and truth.date
    antrag = truths[DOC_TYPES.index("antrag")]
    assert antrag.subject in samples.ANTRAG_SUBJECTS
    assert all(t.subject is None for t in truths if t.doc_type != "antrag")


def test_truth_jsonl_holds_one_parsable_line_per_letter(
    batch: tuple[Path, list[GroundTruth]],
) -> None:
    out, truths = batch
    lines = (out / samples.TRUTH_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(truths)
    for line, truth in zip(lines, truths, strict=True):
        data = json.loads(line)
        assert GroundTruth(**{**data, "pages": tuple(data["pages"])}) == truth


def test_pdfs_hold_one_a4_image_per_page(batch: tuple[Path, list[GroundTruth]]) -> None:
    out, truths = batch
    filters = {"pdf": "/DCTDecode", "pdf-g4": "/CCITTFaxDecode"}
    for truth in (t for t in truths if t.format in filters):
        reader = pypdf.PdfReader(out / truth.name)
        assert len(reader.pages) == len(truth.pages)
        for page in reader.pages:
            box = sorted((float(page.mediabox.width), float(page.mediabox.height)))
            assert box == pytest.approx(A4_POINTS, abs=1.0)
            resources = page["/Resources"].get_object()
            assert isinstance(resources, DictionaryObject)
            xobjects = resources["/XObject"].get_object()
            assert isinstance(xobjects, DictionaryObject)
            images = [x.get_object() for x in xobjects.values()]
            assert len(images) == 1
            assert isinstance(images[0], DictionaryObject)
            kind = images[0]["/Filter"]
            assert (kind[0] if isinstance(kind, list) else kind) == filters[truth.format]
            assert page.extract_text().strip() == ""  # image only, no text layer


def test_tiffs_hold_one_frame_per_page_at_300_dpi(batch: tuple[Path, list[GroundTruth]]) -> None:
    out, truths = batch
    tiffs = [t for t in truths if t.format == "tiff"]
    compressions = set()
    for truth in tiffs:
        with Image.open(out / truth.name) as image:
            assert isinstance(image, TiffImageFile)
            assert image.n_frames == len(truth.pages)
            assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
            assert image.size == samples.PAGE_SIZE
            compressions.add(image.info["compression"])
    assert compressions == {"group4", "tiff_lzw"}


def test_single_images_are_one_page_at_300_dpi(batch: tuple[Path, list[GroundTruth]]) -> None:
    out, truths = batch
    for truth in (t for t in truths if t.format in ("jpeg", "png")):
        assert len(truth.pages) == 1
        with Image.open(out / truth.name) as image:
            assert image.format == truth.format.upper()
            assert image.mode == "L"
            assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)


def test_same_seed_gives_identical_bytes_other_seed_differs(
    batch: tuple[Path, list[GroundTruth]], tmp_path: Path
) -> None:
    out, truths = batch
    again = samples.generate(tmp_path / "again", 3, seed=SEED)
    assert again == truths[:3]
    for truth in again:
        assert (tmp_path / "again" / truth.name).read_bytes() == (out / truth.name).read_bytes()
    other = samples.generate(tmp_path / "other", 3, seed=SEED + 1)
    for mine, theirs in zip(other, again, strict=True):
        assert mine.pages != theirs.pages
        assert (tmp_path / "other" / mine.name).read_bytes() != (
            tmp_path / "again" / theirs.name
        ).read_bytes()


@pytest.mark.parametrize("doc_type", ["rechnung", "mahnung"])
def test_invoice_fields_are_valid_and_printed(doc_type: str) -> None:
    for seed in range(40):
        truth = samples.compose(doc_type, seed)
        text = "\n".join(truth.pages)
        assert truth.iban is not None and re.fullmatch(r"DE\d{20}", truth.iban)
        assert iban_checksum_ok(truth.iban)
        assert " ".join(truth.iban[i : i + 4] for i in range(0, 22, 4)) in text
        assert truth.invoice_number is not None and truth.invoice_number in text
        assert truth.amount_total is not None and truth.amount_total > 0
        euros, cents = divmod(round(truth.amount_total * 100), 100)
        assert f"{euros:,}".replace(",", ".") + f",{cents:02d}" in text


def test_compose_is_deterministic_and_honours_the_subject() -> None:
    assert samples.compose("gericht", 7) == samples.compose("gericht", 7)
    assert samples.compose("gericht", 7) != samples.compose("gericht", 8)
    court = samples.compose("gericht", 7)
    assert court.aktenzeichen is not None and court.aktenzeichen in court.pages[0]
    for subject in samples.ANTRAG_SUBJECTS:
        assert samples.compose("antrag", 3, subject).subject == subject


def sentences(truth: GroundTruth) -> set[str]:
    """Return a letter's sentences longer than 30 characters, whitespace collapsed."""
    text = " ".join(" ".join(page.split()) for page in truth.pages)
    return {s for s in re.split(r"(?<=[.!?:])\s+", text) if len(s) > 30}


def sixgrams(truth: GroundTruth) -> set[str]:
    """Return a letter's word 6-grams with digits masked, so numbers do not tell letters apart."""
    words = re.sub(r"\d", "#", " ".join(truth.pages)).split()
    return {" ".join(words[i : i + 6]) for i in range(len(words) - 5)}


def shared_wording(letters: int, split: bool) -> dict[str, float]:
    """Return per type the share of test letters' 6-grams that train letters of the type hold.

    Train letters come from seeds 0.., test letters from seeds 100000..; with ``split`` they
    are drawn from the train and the test half, else both from all the wording.
    """
    shares = {}
    for doc_type in DOC_TYPES:
        seen: set[str] = set()
        for seed in range(letters):
            seen |= sixgrams(samples.compose(doc_type, seed, split="train" if split else None))
        hits = total = 0
        for seed in range(100_000, 100_000 + letters):
            grams = sixgrams(samples.compose(doc_type, seed, split="test" if split else None))
            hits += len(grams & seen)
            total += len(grams)
        shares[doc_type] = hits / total
    return shares


@pytest.mark.parametrize("split", [None, "train", "test"])
def test_letters_of_one_type_share_no_fixed_sentence(split: samples.Split | None) -> None:
    letters = 30
    for doc_type in DOC_TYPES:
        seen: Counter[str] = Counter()
        for seed in range(letters):
            seen.update(sentences(samples.compose(doc_type, seed, split=split)))
        sentence, count = seen.most_common(1)[0]
        assert count <= letters // 2, f"{doc_type}: {count} of {letters} say {sentence!r}"


def test_split_halves_hold_each_option_once_and_balance() -> None:
    assert samples._halves(frozenset({"nur"})) == (frozenset({"nur"}), frozenset({"nur"}))
    for size in range(2, 9):
        options = frozenset(f"Option {chr(65 + i)}" for i in range(size))
        train, test = samples._halves(options)
        assert train and test and not train & test and train | test == options
        assert abs(len(train) - len(test)) <= 1


def test_split_letters_are_deterministic_and_differ_between_halves() -> None:
    assert samples.compose("rechnung", 3, split=None) == samples.compose("rechnung", 3)
    assert samples.compose("rechnung", 3).split is None
    train = samples.compose("rechnung", 3, split="train")
    assert train == samples.compose("rechnung", 3, split="train") and train.split == "train"
    assert train.pages != samples.compose("rechnung", 3, split="test").pages
    with pytest.raises(ValueError, match="unknown split"):
        samples.compose("rechnung", 3, split="dev")  # type: ignore[arg-type]


def test_split_keeps_every_subject_and_format() -> None:
    for split in ("train", "test"):
        truths = [samples.compose("antrag", seed, split=split) for seed in range(60)]
        assert {t.subject for t in truths} == set(samples.ANTRAG_SUBJECTS)
        assert {t.format for t in truths} == set(FORMATS)


def test_split_holds_wording_out_of_training() -> None:
    """Test letters share far fewer 6-grams with train letters when drawn from their half."""
    together, apart = shared_wording(20, split=False), shared_wording(20, split=True)
    mean_together = sum(together.values()) / len(together)
    mean_apart = sum(apart.values()) / len(apart)
    print(f"shared 6-grams: {mean_together:.3f} without a split, {mean_apart:.3f} with one")
    assert mean_together > 0.2
    assert mean_apart < 0.03
    assert all(apart[t] < together[t] / 4 for t in DOC_TYPES), apart


@pytest.mark.slow
def test_split_holds_wording_out_of_training_at_scale() -> None:
    """The same over 200 train and 200 test letters per type (about a minute)."""
    together, apart = shared_wording(200, split=False), shared_wording(200, split=True)
    for doc_type in DOC_TYPES:
        print(f"{doc_type:12s} {together[doc_type]:.3f} → {apart[doc_type]:.3f}")
    assert max(apart.values()) < 0.05
    assert min(together.values()) > 0.3


def test_generate_and_render_a_split(tmp_path: Path) -> None:
    truths = samples.generate(tmp_path, 2, seed=3, formats=["png"], split="test")
    assert [t.split for t in truths] == ["test", "test"]
    line = (tmp_path / samples.TRUTH_FILE).read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(line)["split"] == "test"
    # render_pages redraws the split's own layout (the truth names its split), not plain lines.
    truth = samples.compose("werbung", 5, split="test")
    assert samples._draft("werbung", 5, None, truth.split).truth == truth
    assert samples._draft("werbung", 5, None, None).truth != truth
    assert len(samples.render_pages(truth, 5)) == len(truth.pages)


def test_render_is_deterministic_and_rotates_clockwise() -> None:
    truth = samples.compose("beschwerde", 4)
    first = samples.render_pages(truth, 4)
    assert [p.tobytes() for p in first] == [p.tobytes() for p in samples.render_pages(truth, 4)]
    assert first[0].size == samples.PAGE_SIZE and first[0].mode == "L"
    turned = samples.render_pages(truth, 4, rotation=90)[0]
    assert turned.size == samples.PAGE_SIZE[::-1]
    # The page's top-left corner (letterhead side) ends up at the top right after 90° clockwise.
    assert turned.transpose(Image.Transpose.ROTATE_90).size == samples.PAGE_SIZE


def test_a_truth_not_from_this_seed_is_set_as_plain_lines() -> None:
    truth = dataclasses.replace(samples.compose("anfrage", 2), pages=("Erste Zeile\nZweite Zeile",))
    pages = samples.render_pages(truth, 2)
    assert len(pages) == 1 and pages[0].size == samples.PAGE_SIZE


def test_rotated_share_turns_that_share_of_letters(tmp_path: Path) -> None:
    truths = samples.generate(tmp_path, 2, seed=5, formats=["png"], rotated_share=0.5)
    assert [t.rotation for t in truths] == [0, 90]
    with Image.open(tmp_path / truths[1].name) as image:
        assert image.size == samples.PAGE_SIZE[::-1]


def test_missing_font_names_the_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Point the font search at an empty directory, as on a machine without the packages."""
    monkeypatch.setattr(samples, "FONT_ROOT", tmp_path)
    with pytest.raises(samples.FontNotFoundError, match=r"fonts-(dejavu-core|liberation2)"):
        samples.compose("rechnung", 1)


def test_main_prints_one_line_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert samples.main([str(tmp_path), "--count", "2", "--seed", "3", "--format", "jpeg"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(line.endswith("1 page") and "\tjpeg\t" in line for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "0001-rechnung.jpg",
        "0002-mahnung.jpg",
        samples.TRUTH_FILE,
    ]


def test_main_takes_a_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert samples.main([str(tmp_path), "--count", "1", "--split", "train"]) == 0
    assert capsys.readouterr().out.count("\n") == 1
    line = (tmp_path / samples.TRUTH_FILE).read_text(encoding="utf-8")
    assert json.loads(line)["split"] == "train"


def test_levenshtein_counts_edits() -> None:
    assert levenshtein("Kreisverwaltung", "Kreisverwaltung") == 0
    assert levenshtein("Rechnung", "Rechung") == 1
    assert levenshtein("kitten", "sitting") == levenshtein("sitting", "kitten") == 3
    assert levenshtein("", "abc") == levenshtein("abc", "") == 3


def test_tesseract_reads_a_rendered_invoice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One OpenMP thread: tesseract runs several times faster than with its default team.
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    truth = samples.compose("rechnung", 4)
    page = tmp_path / "page.png"
    samples.render_pages(truth, 4)[0].save(page, dpi=(300, 300))
    text = pytesseract.image_to_string(str(page), lang="deu", config="--dpi 300")
    assert cer(truth.pages[0], text) < 0.03
