"""Make the searchable PDF a PDF/A-2b without Ghostscript, or say why it is not one.

What ISO 19005-2 level B asks of a file, and what `make_pdfa` does about it::

    requirement                                   done here
    XMP metadata with pdfaid:part 2, conf. B      written; the Info dictionary rewritten to match
    an output intent for device colours           sRGB, the ICC profile from Pillow (littleCMS)
    a trailer /ID                                 generated
    no encryption                                 intake refuses encrypted PDFs; none is added
    every font embedded                           checked; an unembedded standard Latin font
                                                  (Helvetica, Times, Courier and their Arial,
                                                  Times New Roman, Courier New aliases) gets its
                                                  metric-compatible Liberation font embedded
    no JavaScript, no additional actions          /AA removed everywhere, forbidden actions
                                                  (JavaScript, Launch, ResetForm, …) removed,
                                                  /Names /JavaScript removed
    no LZW                                        LZW streams decoded and stored as Flate
    no embedded files that are not PDF/A          removed (the archive keeps the original file)
    printable annotations, no NeedAppearances,    flags set, entries removed
      no XFA, no /Interpolate, /Alternates, /OPI
    optional content configurations named         names added, /AS removed

What cannot be repaired without rendering the page anew is reported instead, and the file then
does not claim PDF/A (its XMP carries no pdfaid): any other unembedded font (no
metric-compatible substitute means the glyph widths would not match the font program),
DeviceCMYK colour (it would need a CMYK output intent), transfer functions, PostScript or
reference XObjects, external streams, an LZW-compressed inline image, annotations without an
appearance. Born-digital letters with such content are rare; their original is archived as it is.

The substitute fonts are embedded whole: fontTools, which could subset them, is not installed,
so a letter with a non-embedded Helvetica grows by about 250 KB per font style.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf._codecs import adobe_glyphs, charset_encoding  # the encoding tables pypdf reads with
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)

PRODUCER = f"postroom (pypdf {version('pypdf')})"
SRGB = "sRGB IEC61966-2.1"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
)
# Actions PDF/A-2 allows (6.6.1); Named actions only for these four pages.
ALLOWED_ACTIONS = frozenset({"/GoTo", "/GoToR", "/GoToE", "/Thread", "/URI", "/SubmitForm"})
ALLOWED_NAMED = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
GENERAL_FILTERS = frozenset(
    {"/LZWDecode", "/FlateDecode", "/ASCIIHexDecode", "/ASCII85Decode", "/RunLengthDecode"}
)
FORBIDDEN_ANNOTATIONS = frozenset({"/3D", "/Sound", "/Screen", "/Movie", "/FileAttachment"})
# Annotation flags: Invisible 1, Hidden 2, Print 4, NoView 32, ToggleNoView 256 (6.3.2).
PRINT_FLAG, HIDING_FLAGS = 4, 1 | 2 | 32 | 256
CMYK_OPERATOR = re.compile(rb"(?:[-+]?(?:\d+\.?\d*|\.\d+)\s+){4}[kK](?![\w#])")


@dataclass(frozen=True)
class PdfaResult:
    """A PDF made PDF/A-2b where it could be, with what was changed and what stands in the way."""

    pdf: bytes
    changes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()  # empty: the file claims PDF/A-2b

    @property
    def conforming(self) -> bool:
        """Return whether the file claims PDF/A-2b."""
        return not self.problems


@dataclass
class _Findings:
    """What a pass over the document changed and found, each said once."""

    changes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def change(self, text: str) -> None:
        """Record a repair."""
        if text not in self.changes:
            self.changes.append(text)

    def problem(self, text: str) -> None:
        """Record something that keeps the file from claiming PDF/A."""
        if text not in self.problems:
            self.problems.append(text)


def make_pdfa(pdf: bytes, *, title: str, created: dt.datetime) -> PdfaResult:
    """Return ``pdf`` repaired towards PDF/A-2b, identified as PDF/A when nothing is in the way."""
    reader = PdfReader(io.BytesIO(pdf))
    findings = _Findings()
    if reader.is_encrypted:
        findings.problem("the PDF is encrypted")
        return PdfaResult(pdf, problems=tuple(findings.problems))
    repaired = PdfWriter(clone_from=reader)
    fonts = _FontEmbedder(repaired)
    for obj in reachable(repaired.root_object):
        _repair(obj, findings, fonts)
    _check_content_streams(repaired, findings)
    # Copying the repaired document leaves behind what the repairs cut off (scripts, files).
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_written(repaired))))
    _output_intent(writer, findings)
    writer.pdf_header = "%PDF-1.7"
    if str(writer.root_object.get("/Version", "/1.7")) > "/1.7":
        writer.root_object[NameObject("/Version")] = NameObject("/1.7")
        findings.change("catalog version set to 1.7")
    writer.generate_file_identifiers()
    _identify(writer, title, created, claim=not findings.problems)
    return PdfaResult(_written(writer), tuple(findings.changes), tuple(findings.problems))


def _written(writer: PdfWriter) -> bytes:
    """Return what a PDF writer writes."""
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def reachable(root: PdfObject) -> Iterator[DictionaryObject]:
    """Yield every dictionary (and stream) reachable from ``root``, each once.

    A dictionary's entries are followed after the caller has looked at it, so entries the caller
    deletes are not visited.
    """
    stack: list[PdfObject | None] = [root]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(value for key, value in item.items() if key not in ("/Parent", "/P"))
        elif isinstance(item, ArrayObject):
            stack.extend(item)


# -- repairs, one dictionary at a time --


def _repair(obj: DictionaryObject, findings: _Findings, fonts: _FontEmbedder) -> None:
    """Repair or report one dictionary of the document."""
    if "/AA" in obj:
        del obj["/AA"]
        findings.change("additional actions (/AA) removed")
    for key in ("/A", "/OpenAction", "/Next"):
        if key in obj and _forbidden_action(obj[key].get_object()):
            del obj[key]
            findings.change(f"forbidden actions removed ({key})")
    following = obj.get("/Next")
    following = following.get_object() if following is not None else None
    if isinstance(following, ArrayObject):
        kept = [a for a in following if not _forbidden_action(a.get_object())]
        if len(kept) < len(following):
            obj[NameObject("/Next")] = ArrayObject(kept)
            findings.change("forbidden actions removed (/Next)")
    if "/JavaScript" in obj:  # the name tree of document-level scripts, in /Names
        del obj["/JavaScript"]
        findings.change("document JavaScript removed")
    if "/EmbeddedFiles" in obj:
        del obj["/EmbeddedFiles"]
        findings.change("embedded files removed (the archive keeps the original)")
    if obj.get("/NeedAppearances") is not None or "/XFA" in obj:
        for key in ("/NeedAppearances", "/XFA"):
            if key in obj:
                del obj[key]
                findings.change(f"form {key} removed")
    if isinstance(obj, StreamObject):
        _repair_stream(obj, findings)
    kind = obj.get("/Type")
    if kind == "/Font":
        fonts.check(obj, findings)
    elif "/TR" in obj or obj.get("/TR2", "/Default") != "/Default" or "/HTP" in obj:
        findings.problem("a graphics state uses a transfer function or halftone phase")
    if "/Rect" in obj and "/Subtype" in obj:
        _repair_annotation(obj, findings)
    if "/Group" in obj:
        group = obj["/Group"].get_object()
        if isinstance(group, DictionaryObject) and group.get("/CS") == "/DeviceCMYK":
            findings.problem("a transparency group blends in DeviceCMYK")
    if "/OCProperties" in obj:
        _repair_optional_content(obj["/OCProperties"].get_object(), findings)


def _forbidden_action(action: object) -> bool:
    """Return whether an action (or a destination) may not stay in a PDF/A file."""
    if not isinstance(action, DictionaryObject):
        return False  # a destination array
    kind = action.get("/S")
    if kind == "/Named":
        return action.get("/N") not in ALLOWED_NAMED
    if kind not in ALLOWED_ACTIONS:
        return True
    following = action.get("/Next")
    following = following.get_object() if following is not None else None
    chain = following if isinstance(following, ArrayObject) else [following]
    return any(_forbidden_action(a.get_object() if a is not None else None) for a in chain)


def _repair_stream(stream: StreamObject, findings: _Findings) -> None:
    """Re-encode LZW as Flate; drop image entries PDF/A forbids; report external streams."""
    if any(key in stream for key in ("/F", "/FFilter", "/FDecodeParms")):
        findings.problem("a stream refers to an external file")
    filters = stream.get("/Filter")
    filters = filters.get_object() if filters is not None else ArrayObject()
    names = [str(f) for f in filters] if isinstance(filters, ArrayObject) else [str(filters)]
    if "/LZWDecode" in names:
        if set(names) <= GENERAL_FILTERS:
            decoded = stream.get_data()  # LZW (and anything around it) undone, predictors too
            stream[NameObject("/Filter")] = NameObject("/FlateDecode")
            stream.pop("/DecodeParms", None)
            stream.set_data(decoded)
            findings.change("LZW streams re-encoded as Flate")
        else:
            findings.problem("an LZW stream is chained with an image codec")
    if "/Crypt" in names:
        findings.problem("a stream uses the Crypt filter")
    if stream.get("/Subtype") == "/Image":
        for key in ("/Interpolate", "/Alternates", "/OPI"):
            if key in stream:
                del stream[key]
                findings.change(f"image {key} removed")
        if stream.get("/ColorSpace") == "/DeviceCMYK":
            findings.problem("an image is in DeviceCMYK (the output intent is sRGB)")
    elif stream.get("/Subtype") == "/PS" or stream.get("/Subtype2") == "/PS":
        findings.problem("a PostScript XObject")
    elif "/Ref" in stream and stream.get("/Subtype") == "/Form":
        findings.problem("a reference XObject")


def _repair_annotation(annotation: DictionaryObject, findings: _Findings) -> None:
    """Make an annotation printable and visible; report kinds PDF/A-2b cannot carry."""
    kind = annotation.get("/Subtype")
    if kind in FORBIDDEN_ANNOTATIONS:
        findings.problem(f"a {str(kind)[1:]} annotation")
        return
    if kind == "/Popup":
        return
    flags = int(annotation.get("/F", 0))
    fixed = (flags | PRINT_FLAG) & ~HIDING_FLAGS
    if fixed != flags:
        annotation[NameObject("/F")] = NumberObject(fixed)
        findings.change("annotations made printable")
    if kind != "/Link" and "/AP" not in annotation:
        findings.problem(f"a {str(kind)[1:]} annotation has no appearance")


def _repair_optional_content(properties: object, findings: _Findings) -> None:
    """Name every optional-content configuration and drop their /AS entries (6.9)."""
    if not isinstance(properties, DictionaryObject):
        return
    configs = [properties.get("/D")]
    extra = properties.get("/Configs")
    configs += list(extra.get_object()) if extra is not None else []
    for config in configs:
        config = config.get_object() if config is not None else None
        if not isinstance(config, DictionaryObject):
            continue
        if "/Name" not in config:
            config[NameObject("/Name")] = TextStringObject("Default")
            findings.change("optional content configurations named")
        if "/AS" in config:
            del config["/AS"]
            findings.change("optional content /AS removed")


def _check_content_streams(writer: PdfWriter, findings: _Findings) -> None:
    """Report DeviceCMYK operators and LZW inline images in the pages' content streams."""
    for page in writer.pages:
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        if CMYK_OPERATOR.search(data):
            findings.problem("a page paints in DeviceCMYK (the output intent is sRGB)")
        if b"/LZW" in data:
            findings.problem("a page may hold an LZW-compressed inline image")


# -- identification: output intent and metadata --


def srgb_profile() -> bytes:
    """Return the sRGB ICC profile (littleCMS's, through Pillow)."""
    return bytes(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())


def _output_intent(writer: PdfWriter, findings: _Findings) -> None:
    """Give the document an sRGB PDF/A output intent, unless it already has a PDF/A one."""
    root = writer.root_object
    existing = root.get("/OutputIntents")
    intents = list(existing.get_object()) if existing is not None else []
    if any(intent.get_object().get("/S") == "/GTS_PDFA1" for intent in intents):
        return
    profile = DecodedStreamObject()
    profile.set_data(srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject(SRGB),
            NameObject("/Info"): TextStringObject(SRGB),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
        }
    )
    if intents:
        findings.change("output intents replaced by the PDF/A sRGB intent")
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])


def _aware(moment: dt.datetime) -> dt.datetime:
    """Return a moment with a time zone (UTC when it has none), to the second."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.replace(microsecond=0)


def pdf_date(moment: dt.datetime) -> str:
    """Return a PDF date string (D:YYYYMMDDHHmmSS+HH'mm')."""
    moment = _aware(moment)
    offset = moment.strftime("%z")
    return f"D:{moment:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}'"


def xmp_date(moment: dt.datetime) -> str:
    """Return an XMP date (ISO 8601 with the offset)."""
    return _aware(moment).isoformat(timespec="seconds")


def xmp_packet(title: str, created: dt.datetime, *, claim: bool) -> bytes:
    """Return the document's XMP metadata, with the PDF/A-2b identification when ``claim``."""
    identification = (
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>" if claim else ""
    )
    when = xmp_date(created)
    body = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/">
   {identification}
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
   <xmp:CreatorTool>postroom</xmp:CreatorTool>
   <pdf:Producer>{escape(PRODUCER)}</pdf:Producer>
   <xmpMM:DocumentID>uuid:{uuid.uuid4()}</xmpMM:DocumentID>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
{" " * 2000}
<?xpacket end="w"?>"""
    return body.encode("utf-8")


def _identify(writer: PdfWriter, title: str, created: dt.datetime, *, claim: bool) -> None:
    """Write XMP metadata and an Info dictionary that say the same (6.6.2.3)."""
    metadata = DecodedStreamObject()  # unfiltered, so that any reader finds the packet
    metadata.set_data(xmp_packet(title, created, claim=claim))
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(metadata)
    when = pdf_date(created)
    writer.metadata = {
        "/Title": title,
        "/Creator": "postroom",
        "/Producer": PRODUCER,
        "/CreationDate": when,
        "/ModDate": when,
    }


# -- fonts --


# Unembedded fonts with a metric-compatible Liberation font: family by name, style by suffix.
FAMILIES = {
    "helvetica": "Sans",
    "arial": "Sans",
    "arialmt": "Sans",
    "times": "Serif",
    "timesroman": "Serif",
    "timesnewroman": "Serif",
    "timesnewromanps": "Serif",
    "timesnewromanpsmt": "Serif",
    "courier": "Mono",
    "couriernew": "Mono",
    "couriernewpsmt": "Mono",
}
STYLES = {"": "Regular", "bold": "Bold", "italic": "Italic", "bolditalic": "BoldItalic"}


def substitute_for(base_font: str) -> tuple[str, str] | None:
    """Return (file name, PostScript name) of the Liberation font matching a font name, or None."""
    name = base_font.lstrip("/").replace(",", "-")
    family, _, style = name.partition("-")
    style = re.sub(r"(mt|ps)$", "", style.lower().replace("oblique", "italic"))
    style = {"roman": "", "regular": ""}.get(style, style)
    kind = FAMILIES.get(family.lower())
    if kind is None or style not in STYLES:
        return None
    face = STYLES[style]
    postscript = f"Liberation{kind}" + ("" if face == "Regular" else f"-{face}")
    return f"Liberation{kind}-{face}.ttf", postscript


@dataclass(frozen=True)
class TrueType:
    """What a PDF font descriptor and widths array need from a TrueType font program."""

    data: bytes
    units_per_em: int
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float
    fixed_pitch: bool
    advances: tuple[int, ...]
    cmap: dict[int, int]  # Unicode code point → glyph id (the (3,1) subtable)

    def width(self, char: str) -> int:
        """Return a character's advance in PDF glyph space (1/1000 em); .notdef's when missing."""
        glyph = self.cmap.get(ord(char), 0) if len(char) == 1 else 0
        advance = self.advances[min(glyph, len(self.advances) - 1)]
        return round(advance * 1000 / self.units_per_em)

    def scaled(self, value: int) -> int:
        """Return a font-unit value in PDF glyph space."""
        return round(value * 1000 / self.units_per_em)


def read_truetype(data: bytes) -> TrueType:
    """Read the metrics and the Unicode cmap of a TrueType font program."""
    (count,) = struct.unpack(">H", data[4:6])
    tables = {}
    for index in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", data[12 + 16 * index : 28 + 16 * index])
        tables[tag.decode("latin-1")] = data[offset : offset + length]
    head, hhea, post, os2 = tables["head"], tables["hhea"], tables["post"], tables["OS/2"]
    (units,) = struct.unpack(">H", head[18:20])
    bbox = struct.unpack(">hhhh", head[36:44])
    ascent, descent = struct.unpack(">hh", hhea[4:8])
    (metrics,) = struct.unpack(">H", hhea[34:36])
    advances = struct.unpack(
        f">{metrics}H", b"".join(tables["hmtx"][4 * i : 4 * i + 2] for i in range(metrics))
    )
    (angle,) = struct.unpack(">i", post[4:8])
    (fixed,) = struct.unpack(">I", post[12:16])
    (cap,) = struct.unpack(">h", os2[88:90]) if len(os2) >= 90 else (ascent,)
    return TrueType(
        data=data,
        units_per_em=units,
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        ascent=ascent,
        descent=descent,
        cap_height=cap,
        italic_angle=angle / 65536,
        fixed_pitch=bool(fixed),
        advances=advances,
        cmap=_unicode_cmap(tables["cmap"]),
    )


def _unicode_cmap(table: bytes) -> dict[int, int]:
    """Return the (3,1) format-4 subtable of a cmap table as a dict."""
    (count,) = struct.unpack(">H", table[2:4])
    for index in range(count):
        platform, encoding, offset = struct.unpack(">HHI", table[4 + 8 * index : 12 + 8 * index])
        if (platform, encoding) == (3, 1) and struct.unpack(">H", table[offset : offset + 2]) == (
            4,
        ):
            return _format4(table[offset:])
    raise ValueError("the font has no Windows Unicode cmap")


def _format4(sub: bytes) -> dict[int, int]:
    """Decode a cmap format-4 subtable."""
    segments = struct.unpack(">H", sub[6:8])[0] // 2
    ends = struct.unpack(f">{segments}H", sub[14 : 14 + 2 * segments])
    base = 16 + 2 * segments
    starts = struct.unpack(f">{segments}H", sub[base : base + 2 * segments])
    deltas = struct.unpack(f">{segments}h", sub[base + 2 * segments : base + 4 * segments])
    range_at = base + 4 * segments
    ranges = struct.unpack(f">{segments}H", sub[range_at : range_at + 2 * segments])
    mapping = {}
    for i, (start, end, delta, offset) in enumerate(zip(starts, ends, deltas, ranges, strict=True)):
        for code in range(start, min(end, 0xFFFE) + 1):
            if offset == 0:
                glyph = (code + delta) & 0xFFFF
            else:
                at = range_at + 2 * i + offset + 2 * (code - start)
                (glyph,) = struct.unpack(">H", sub[at : at + 2])
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            if glyph:
                mapping[code] = glyph
    return mapping


class _FontEmbedder:
    """Checks fonts and embeds Liberation for unembedded standard ones, each file once."""

    def __init__(self, writer: PdfWriter) -> None:
        self.writer = writer
        self.programs: dict[str, tuple[TrueType, IndirectObject]] = {}

    def check(self, font: DictionaryObject, findings: _Findings) -> None:
        """Leave an embedded font alone, embed a substitute, or report the font."""
        kind = font.get("/Subtype")
        if kind == "/Type3" or _embedded(font):
            return
        name = str(font.get("/BaseFont", "?"))
        if kind == "/Type0" or not self.embed(font):
            findings.problem(f"font {name[1:]} is not embedded and has no substitute")
            return
        findings.change(f"font {name[1:]} embedded as {str(font['/BaseFont'])[1:]}")

    def embed(self, font: DictionaryObject) -> bool:
        """Turn an unembedded simple standard font into an embedded Liberation TrueType font."""
        found = substitute_for(str(font.get("/BaseFont", "")))
        program = self.program(found[0]) if found else None
        encoding = _simple_encoding(font)
        if found is None or program is None or encoding is None:
            return False
        metrics, stream = program
        base_name, differences = encoding
        first = int(font.get("/FirstChar", 32))
        last = int(font.get("/LastChar", 255))
        chars = _code_chars(base_name, differences)
        font[NameObject("/Subtype")] = NameObject("/TrueType")
        font[NameObject("/BaseFont")] = NameObject(f"/{found[1]}")
        font[NameObject("/FirstChar")] = NumberObject(first)
        font[NameObject("/LastChar")] = NumberObject(last)
        font[NameObject("/Widths")] = ArrayObject(
            NumberObject(metrics.width(chars[code])) for code in range(first, last + 1)
        )
        font[NameObject("/Encoding")] = _encoding_object(base_name, differences, chars)
        font[NameObject("/FontDescriptor")] = self.writer._add_object(
            _descriptor(found[1], metrics, stream)
        )
        return True

    def program(self, file_name: str) -> tuple[TrueType, IndirectObject] | None:
        """Return a Liberation font's metrics and its embedded program, reading it once."""
        if file_name not in self.programs:
            path = next((d / file_name for d in FONT_DIRS if (d / file_name).is_file()), None)
            if path is None:
                return None
            metrics = read_truetype(path.read_bytes())
            raw = DecodedStreamObject()
            raw.set_data(metrics.data)
            raw[NameObject("/Length1")] = NumberObject(len(metrics.data))
            self.programs[file_name] = (metrics, self.writer._add_object(raw.flate_encode(9)))
        return self.programs[file_name]


def _embedded(font: DictionaryObject) -> bool:
    """Return whether a font (or a Type0 font's descendant) carries its font program."""
    if font.get("/Subtype") == "/Type0":
        descendants = font.get("/DescendantFonts")
        descendants = descendants.get_object() if descendants is not None else []
        return bool(descendants) and _embedded(descendants[0].get_object())
    descriptor = font.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    return isinstance(descriptor, DictionaryObject) and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
    )


def _simple_encoding(font: DictionaryObject) -> tuple[str, dict[int, str]] | None:
    """Return a simple font's base encoding name and its differences, or None when unknown."""
    encoding = font.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    if encoding is None:
        return "/StandardEncoding", {}
    if isinstance(encoding, NameObject):
        name = str(encoding)
        return (name, {}) if name in charset_encoding else None
    if not isinstance(encoding, DictionaryObject):
        return None
    base = str(encoding.get("/BaseEncoding", "/StandardEncoding"))
    differences: dict[int, str] = {}
    code = 0
    for item in encoding.get("/Differences", ArrayObject()):
        if isinstance(item, NumberObject):
            code = int(item)
        else:
            differences[code] = str(item)
            code += 1
    return (base, differences) if base in charset_encoding else None


def _code_chars(base: str, differences: dict[int, str]) -> list[str]:
    """Return the character each code 0-255 shows under an encoding."""
    chars = list(charset_encoding[base])
    for code, glyph in differences.items():
        if 0 <= code < 256:
            chars[code] = adobe_glyphs.get(glyph, "")
    return chars


def _encoding_object(base: str, differences: dict[int, str], chars: list[str]) -> PdfObject:
    """Return a TrueType-legal encoding (WinAnsi or MacRoman base, named differences) (6.2.11.6)."""
    if base in ("/WinAnsiEncoding", "/MacRomanEncoding") and not differences:
        return NameObject(base)
    target = base if base in ("/WinAnsiEncoding", "/MacRomanEncoding") else "/WinAnsiEncoding"
    names = glyph_names()
    changed = ArrayObject()
    for code, char in enumerate(chars):
        if char and char != charset_encoding[target][code] and char in names:
            changed += [NumberObject(code), NameObject(names[char])]
    result = DictionaryObject({NameObject("/BaseEncoding"): NameObject(target)})
    if changed:
        result[NameObject("/Type")] = NameObject("/Encoding")
        result[NameObject("/Differences")] = changed
    return result


def glyph_names() -> dict[str, str]:
    """Return the Adobe glyph name of each character, preferring the plain names (no afii/uni)."""
    names: dict[str, str] = {}
    for glyph, char in sorted(adobe_glyphs.items(), key=lambda item: (_odd(item[0]), item[0])):
        if len(char) == 1:
            names.setdefault(char, glyph)
    return names


def _odd(glyph: str) -> bool:
    """Return whether a glyph name is one of the numbered (afii, uniXXXX) kind."""
    return glyph.startswith(("/afii", "/uni", "/u0", "/u1"))


def _descriptor(name: str, metrics: TrueType, program: IndirectObject) -> DictionaryObject:
    """Return the font descriptor of an embedded Liberation font."""
    flags = 32  # non-symbolic
    flags |= 1 if metrics.fixed_pitch else 0
    flags |= 2 if "Serif" in name else 0
    flags |= 64 if metrics.italic_angle else 0
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/FontDescriptor"),
            NameObject("/FontName"): NameObject(f"/{name}"),
            NameObject("/Flags"): NumberObject(flags),
            NameObject("/FontBBox"): ArrayObject(
                NumberObject(metrics.scaled(v)) for v in metrics.bbox
            ),
            NameObject("/ItalicAngle"): FloatObject(metrics.italic_angle),
            NameObject("/Ascent"): NumberObject(metrics.scaled(metrics.ascent)),
            NameObject("/Descent"): NumberObject(metrics.scaled(metrics.descent)),
            NameObject("/CapHeight"): NumberObject(metrics.scaled(metrics.cap_height)),
            NameObject("/StemV"): NumberObject(120 if "Bold" in name else 80),
            NameObject("/FontFile2"): program,
        }
    )
