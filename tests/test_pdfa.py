"""PDF/A-2b without Ghostscript: the structure of `make_pdfa`'s output, checked item by item.

No validator (veraPDF) can be installed here, so each requirement of ISO 19005-2 level B that
postroom claims is checked on the written file itself, with pypdf reading every object of it.
The input is a real searchable page (tesseract's invisible text layer grafted onto a scan) with a
born-digital page beside it, made hostile: JavaScript, additional actions, an attachment, LZW
streams, an interpolated image, a hidden annotation and an unembedded Helvetica.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree as ET

import img2pdf
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf._codecs._codecs import LzwCodec
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from flows.samples import compose, render_pages
from schemas.letter import LetterRef, SourceObject
from tasks.ocr import graft, read_or_mark
from tasks.pages import image_pages
from tasks.pdfa import FONT_DIRS, make_pdfa, read_truetype, substitute_for

CREATED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TITLE = "Antrag <Wohngeld> & Co.pdf"
NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
}
LETTER = LetterRef(letter_id="p" * 24, source=SourceObject(bucket="b", key="k", version_id="v"))
PAYLOAD = bytes(range(256)) * 40


# -- inputs --------------------------------------------------------------------------------------


def name(value: str) -> NameObject:
    """Return a PDF name."""
    return NameObject(value)


def stream_of(data: bytes, entries: dict[str, PdfObject]) -> DecodedStreamObject:
    """Return a stream holding ``data`` as it is, with the given dictionary entries."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in entries.items():
        stream[name(key)] = value
    return stream


def font(base: str, encoding: str | None = "/WinAnsiEncoding") -> DictionaryObject:
    """Return an unembedded simple font dictionary."""
    entries = {
        name("/Type"): name("/Font"),
        name("/Subtype"): name("/Type1"),
        name("/BaseFont"): name(base),
    }
    if encoding:
        entries[name("/Encoding")] = name(encoding)
    return DictionaryObject(entries)


def text_page(writer: PdfWriter, fonts: dict[str, DictionaryObject], text: bytes) -> None:
    """Add a page showing ``text`` (cp1252) in each of ``fonts``."""
    page = writer.add_blank_page(width=595, height=842)
    page[name("/Resources")] = DictionaryObject(
        {
            name("/Font"): DictionaryObject(
                {name(key): writer._add_object(value) for key, value in fonts.items()}
            )
        }
    )
    shown = b" ".join(
        b"BT %s 11 Tf 72 %d Td (%s) Tj ET" % (k.encode(), 700 - 20 * i, text)
        for i, k in enumerate(fonts)
    )
    page[name("/Contents")] = writer._add_object(stream_of(shown, {}))


def javascript(code: str) -> DictionaryObject:
    """Return a JavaScript action."""
    return DictionaryObject({name("/S"): name("/JavaScript"), name("/JS"): TextStringObject(code)})


@pytest.fixture(scope="module")
def searchable(tmp_path_factory: pytest.TempPathFactory, tesseract: str) -> bytes:
    """Return a real searchable page: a scan with tesseract's invisible text layer grafted on."""
    folder = tmp_path_factory.mktemp("pdfa")
    scan = render_pages(compose("mahnung", seed=3), seed=3)[0].crop((0, 0, 2480, 700))
    source = folder / "scan.jpg"
    scan.save(source, "JPEG", quality=80, dpi=(300, 300))
    (page,) = image_pages(LETTER.letter_id, source, folder)
    text = read_or_mark(page, "deu+eng", 60)
    assert text.layer_pdf is not None
    original = bytes(
        img2pdf.convert(str(source), layout_fun=img2pdf.get_fixed_dpi_layout_fun((300, 300)))
    )
    return graft(original, [text])


def hostile(searchable: bytes) -> bytes:
    """Return the searchable page with a born-digital page and everything PDF/A forbids."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(searchable)))
    text_page(
        writer,
        {"/F1": font("/Helvetica"), "/F2": font("/Times-Bold", None)},
        b"Gr\xfc\xdfe, it\x92s",
    )
    root, scan_page = writer.root_object, writer.pages[0]
    root[name("/OpenAction")] = writer._add_object(javascript("app.alert('hi')"))
    root[name("/AA")] = DictionaryObject({name("/WC"): javascript("app.alert('bye')")})
    attachment = stream_of(b"attached", {"/Type": name("/EmbeddedFile")})
    root[name("/Names")] = DictionaryObject(
        {
            name("/JavaScript"): DictionaryObject(
                {
                    name("/Names"): ArrayObject(
                        [TextStringObject("x"), writer._add_object(javascript("1"))]
                    )
                }
            ),
            name("/EmbeddedFiles"): DictionaryObject(
                {
                    name("/Names"): ArrayObject(
                        [
                            TextStringObject("a.txt"),
                            DictionaryObject(
                                {
                                    name("/Type"): name("/Filespec"),
                                    name("/F"): TextStringObject("a.txt"),
                                    name("/EF"): DictionaryObject(
                                        {name("/F"): writer._add_object(attachment)}
                                    ),
                                }
                            ),
                        ]
                    )
                }
            ),
        }
    )
    scan_page[name("/AA")] = DictionaryObject({name("/O"): javascript("2")})
    link = DictionaryObject(
        {
            name("/Type"): name("/Annot"),
            name("/Subtype"): name("/Link"),
            name("/Rect"): ArrayObject([NumberObject(v) for v in (10, 10, 100, 30)]),
            name("/F"): NumberObject(2),  # hidden, not printed
            name("/A"): javascript("3"),
        }
    )
    scan_page[name("/Annots")] = ArrayObject([writer._add_object(link)])
    lzw_image = stream_of(
        LzwCodec().encode(PAYLOAD),
        {
            "/Type": name("/XObject"),
            "/Subtype": name("/Image"),
            "/Width": NumberObject(64),
            "/Height": NumberObject(160),
            "/ColorSpace": name("/DeviceGray"),
            "/BitsPerComponent": NumberObject(8),
            "/Filter": name("/LZWDecode"),
            "/Interpolate": BooleanObject(True),
        },
    )
    resources = cast(DictionaryObject, scan_page["/Resources"].get_object())
    xobjects = cast(DictionaryObject, resources["/XObject"].get_object())
    xobjects[name("/Lzw")] = writer._add_object(lzw_image)
    writer.add_metadata({"/Author": "Max Mustermann", "/Producer": "Scanner 3000"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def made(searchable: bytes) -> tuple[PdfReader, tuple[str, ...], tuple[str, ...]]:
    """Return the hostile document made PDF/A, parsed, with the changes and the problems."""
    result = make_pdfa(hostile(searchable), title=TITLE, created=CREATED)
    return PdfReader(io.BytesIO(result.pdf)), result.changes, result.problems


# -- reading every object of a file, independently of tasks/pdfa.py --------------------------------


def every_object(reader: PdfReader) -> Iterator[PdfObject]:
    """Yield every object of the file: each numbered object, then its nested dictionaries/arrays."""
    for number in range(1, int(cast(int, reader.trailer["/Size"]))):
        found = reader.get_object(number)
        if found is None:
            continue
        stack: list[PdfObject] = [found]
        while stack:
            item = stack.pop()
            yield item
            if isinstance(item, DictionaryObject):
                stack.extend(v for v in item.values() if not hasattr(v, "idnum"))
            elif isinstance(item, ArrayObject):
                stack.extend(v for v in item if not hasattr(v, "idnum"))


def dictionaries(reader: PdfReader) -> list[DictionaryObject]:
    """Return every dictionary (and stream dictionary) in the file."""
    return [o for o in every_object(reader) if isinstance(o, DictionaryObject)]


def at(obj: Any, *path: str | int) -> Any:
    """Return the object at ``path`` below ``obj``, following references (untyped, for checks)."""
    for key in path:
        obj = obj.get_object()[key]
    return obj.get_object() if hasattr(obj, "get_object") else obj


def raw_string(value: object) -> bytes:
    """Return a PDF string's bytes, whether pypdf read it as text or as bytes."""
    return (
        value.original_bytes if isinstance(value, TextStringObject) else bytes(cast(bytes, value))
    )


def xmp(reader: PdfReader) -> ET.Element:
    """Return the document's XMP packet, parsed."""
    stream = at(reader.trailer, "/Root", "/Metadata")
    assert "/Filter" not in stream, "the metadata stream must not be filtered"
    data = stream.get_data()
    assert data.startswith(b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>')
    assert data.rstrip().endswith(b'<?xpacket end="w"?>')
    return ET.fromstring(data)  # noqa: S314 - the packet postroom just wrote


def description(reader: PdfReader) -> ET.Element:
    """Return the XMP rdf:Description."""
    found = xmp(reader).find("rdf:RDF/rdf:Description", NS)
    assert found is not None
    return found


# -- the requirements, one by one ----------------------------------------------------------------


def test_nothing_stands_in_the_way_and_the_repairs_are_listed(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    _, changes, problems = made
    assert problems == ()
    joined = " | ".join(changes)
    for expected in ("/AA", "JavaScript", "embedded files", "LZW", "Interpolate", "printable"):
        assert expected in joined
    assert "font Helvetica embedded as LiberationSans" in joined
    assert "font Times-Bold embedded as LiberationSerif-Bold" in joined


def test_the_header_is_pdf_17_with_a_binary_comment(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]], searchable: bytes
) -> None:
    reader, _, _ = made
    assert reader.pdf_header == "%PDF-1.7"
    data = make_pdfa(searchable, title=TITLE, created=CREATED).pdf
    second_line = data.split(b"\n")[1]
    assert second_line.startswith(b"%") and sum(byte > 127 for byte in second_line) >= 4


def test_xmp_identifies_pdfa_2b_and_agrees_with_the_info_dictionary(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    about = description(reader)
    assert about.findtext("pdfaid:part", namespaces=NS) == "2"
    assert about.findtext("pdfaid:conformance", namespaces=NS) == "B"
    info = at(reader.trailer, "/Info")
    assert about.findtext("dc:title/rdf:Alt/rdf:li", namespaces=NS) == TITLE == info["/Title"]
    assert about.findtext("xmp:CreateDate", namespaces=NS) == "2026-03-02T09:00:00+00:00"
    assert about.findtext("xmp:ModifyDate", namespaces=NS) == "2026-03-02T09:00:00+00:00"
    assert info["/CreationDate"] == info["/ModDate"] == "D:20260302090000+00'00'"
    assert about.findtext("pdf:Producer", namespaces=NS) == info["/Producer"]
    assert about.findtext("xmp:CreatorTool", namespaces=NS) == info["/Creator"]
    # Info entries without an XMP counterpart written here are gone, not left to disagree.
    assert set(info) == {"/Title", "/Producer", "/Creator", "/CreationDate", "/ModDate"}


def test_the_output_intent_is_srgb_with_a_valid_icc_profile(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    (intent,) = at(reader.trailer, "/Root", "/OutputIntents")
    intent = intent.get_object()
    assert intent["/Type"] == "/OutputIntent" and intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    profile = at(intent, "/DestOutputProfile")
    assert profile["/N"] == 3
    icc = profile.get_data()
    assert int.from_bytes(icc[0:4], "big") == len(icc)  # the header's size field
    assert icc[36:40] == b"acsp"  # the profile signature
    assert icc[12:16] == b"mntr" and icc[16:20] == b"RGB " and icc[20:24] == b"XYZ "
    assert icc[8] in (2, 4)  # major version: ICC v2 or v4


def test_every_font_is_embedded(made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]]) -> None:
    reader, _, _ = made
    fonts: list[Any] = [d for d in dictionaries(reader) if d.get("/Type") == "/Font"]
    kinds = {str(f["/Subtype"]) for f in fonts}
    assert {"/Type0", "/TrueType"} <= kinds  # tesseract's GlyphLessFont and the substitutes
    for font_dict in fonts:
        if font_dict["/Subtype"] == "/Type3":
            continue
        if font_dict["/Subtype"] == "/Type0":
            font_dict = font_dict["/DescendantFonts"][0].get_object()
        descriptor = font_dict["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font_dict["/BaseFont"]


def test_the_trailer_has_an_id_and_nothing_is_encrypted(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    identifiers = [raw_string(part) for part in cast(ArrayObject, reader.trailer["/ID"])]
    assert [len(part) for part in identifiers] == [16, 16]
    assert "/Encrypt" not in reader.trailer and not reader.is_encrypted


def test_no_javascript_no_additional_actions_no_attachments_remain(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    root = at(reader.trailer, "/Root")
    assert "/OpenAction" not in root and "/AA" not in root
    for found in dictionaries(reader):
        assert "/AA" not in found and "/JS" not in found and "/JavaScript" not in found
        assert found.get("/S") != "/JavaScript" and "/EmbeddedFiles" not in found
        assert found.get("/Type") != "/EmbeddedFile"


def test_no_lzw_remains_and_the_data_is_kept(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    for found in dictionaries(reader):
        filters = found.get("/Filter")
        filters = filters.get_object() if filters is not None else []
        listed = [str(f) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)]
        assert "/LZWDecode" not in listed and "/LZW" not in listed
    for page in reader.pages:
        contents = page.get_contents()
        assert contents is None or b"/LZW" not in contents.get_data()
    image = at(reader.pages[0], "/Resources", "/XObject", "/Lzw")
    assert image["/Filter"] == "/FlateDecode" and image.get_data() == PAYLOAD
    assert "/Interpolate" not in image


def test_annotations_are_printable_and_visible(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    reader, _, _ = made
    (link,) = (a.get_object() for a in at(reader.pages[0], "/Annots"))
    assert int(link["/F"]) & 4 and not int(link["/F"]) & (1 | 2 | 32 | 256)
    assert "/A" not in link


def test_a_standard_font_is_replaced_by_its_metric_compatible_font(
    made: tuple[PdfReader, tuple[str, ...], tuple[str, ...]],
) -> None:
    """Widths come from the embedded program, so they agree with it (6.2.11.5)."""
    reader, _, _ = made
    page = reader.pages[1]
    helvetica = at(page, "/Resources", "/Font", "/F1")
    assert (
        helvetica["/BaseFont"] == "/LiberationSans" and helvetica["/Encoding"] == "/WinAnsiEncoding"
    )
    descriptor = at(helvetica, "/FontDescriptor")
    program = at(descriptor, "/FontFile2").get_data()
    path = next(
        d / "LiberationSans-Regular.ttf"
        for d in FONT_DIRS
        if (d / "LiberationSans-Regular.ttf").is_file()
    )
    assert program == path.read_bytes() and descriptor["/FontFile2"]["/Length1"] == len(program)
    metrics = read_truetype(program)
    first = int(helvetica["/FirstChar"])
    for code in (ord("G"), ord("r"), 0xFC, 0xDF, ord(" ")):
        char = bytes([code]).decode("cp1252")
        assert helvetica["/Widths"][code - first] == metrics.width(char)
    assert int(descriptor["/Flags"]) & 32 and not int(descriptor["/Flags"]) & 4  # non-symbolic
    times = at(
        page, "/Resources", "/Font", "/F2"
    )  # no /Encoding: StandardEncoding, mapped onto WinAnsi
    assert times["/BaseFont"] == "/LiberationSerif-Bold"
    assert times["/Encoding"]["/BaseEncoding"] == "/WinAnsiEncoding"
    differences = list(times["/Encoding"]["/Differences"])
    assert differences[differences.index(0x27) + 1] == "/quoteright"
    assert "Grüße" in page.extract_text()


@pytest.mark.parametrize(
    ("base_font", "expected"),
    [
        ("/Helvetica", ("LiberationSans-Regular.ttf", "LiberationSans")),
        ("/Helvetica-BoldOblique", ("LiberationSans-BoldItalic.ttf", "LiberationSans-BoldItalic")),
        ("/Times-Roman", ("LiberationSerif-Regular.ttf", "LiberationSerif")),
        ("/Courier-Oblique", ("LiberationMono-Italic.ttf", "LiberationMono-Italic")),
        ("/Arial,Bold", ("LiberationSans-Bold.ttf", "LiberationSans-Bold")),
        ("/ArialMT", ("LiberationSans-Regular.ttf", "LiberationSans")),
        (
            "/TimesNewRomanPS-BoldItalicMT",
            ("LiberationSerif-BoldItalic.ttf", "LiberationSerif-BoldItalic"),
        ),
        ("/CourierNewPSMT", ("LiberationMono-Regular.ttf", "LiberationMono")),
        ("/Calibri", None),
        ("/Symbol", None),
    ],
)
def test_substitutes_are_chosen_by_family_and_style(
    base_font: str, expected: tuple[str, str] | None
) -> None:
    assert substitute_for(base_font) == expected


# -- what keeps a file from claiming PDF/A --------------------------------------------------------


def test_a_font_without_a_substitute_keeps_the_file_from_claiming_pdfa(searchable: bytes) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(searchable)))
    text_page(writer, {"/F1": font("/Calibri")}, b"Hallo")
    out = io.BytesIO()
    writer.write(out)
    result = make_pdfa(out.getvalue(), title=TITLE, created=CREATED)
    assert result.problems == ("font Calibri is not embedded and has no substitute",)
    assert not result.conforming
    about = description(PdfReader(io.BytesIO(result.pdf)))
    assert (
        about.find("pdfaid:part", NS) is None
        and about.findtext("dc:title/rdf:Alt/rdf:li", namespaces=NS) == TITLE
    )


def test_device_cmyk_keeps_the_file_from_claiming_pdfa(tmp_path: Path) -> None:
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (300, 300), (0, 0, 0, 255)).save(cmyk, "JPEG", dpi=(300, 300))
    result = make_pdfa(bytes(img2pdf.convert(str(cmyk))), title=TITLE, created=CREATED)
    assert result.problems == ("an image is in DeviceCMYK (the output intent is sRGB)",)
