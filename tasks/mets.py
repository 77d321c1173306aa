"""The METS document of an archival package: METS 1.12 with PREMIS 3 and Dublin Core.

``mets.xml`` lists every other payload file with its SHA-512 and size, holds the letter's core
metadata as Dublin Core, the original and the searchable PDF as PREMIS objects, and the events
capture, ocr, classification, routing and ingest with their outcome, date and agents (from the
records database's event log).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Literal

import pytesseract
from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.export import as_utc
from schemas.letter import (
    Classification,
    Filing,
    Intake,
    MediaType,
    OcrResult,
)
from schemas.records import Event
from tasks.edges import Edges
from tasks.record import load_letter

if TYPE_CHECKING:
    pass


# -- METS and PREMIS -------------------------------------------------------------------------------

METS_FILE = "mets.xml"
METS_NS = "http://www.loc.gov/METS/"
PREMIS_NS = "http://www.loc.gov/premis/v3"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
SCHEMA_LOCATION = (
    f"{METS_NS} http://www.loc.gov/standards/mets/version1121/mets.xsd "
    f"{PREMIS_NS} http://www.loc.gov/standards/premis/v3/premis.xsd"
)
for _prefix, _uri in {
    "mets": METS_NS,
    "premis": PREMIS_NS,
    "xlink": XLINK_NS,
    "xsi": XSI_NS,
    "dc": DC_NS,
    "dcterms": DCTERMS_NS,
}.items():
    ET.register_namespace(_prefix, _uri)

FORMAT_NAMES = {
    MediaType.PDF: "Portable Document Format",
    MediaType.TIFF: "Tagged Image File Format",
    MediaType.JPEG: "JPEG File Interchange Format",
    MediaType.PNG: "Portable Network Graphics",
}
# Payload files by their use in the METS fileSec, in this order.
FILE_GROUPS = ("original", "preservation", "text", "metadata")


@dataclass(frozen=True)
class Step:
    """When a step of a letter was recorded, and by whom."""

    at: dt.datetime
    actor: str


@dataclass(frozen=True)
class Provenance:
    """What the PREMIS events of a package need beyond the letter's models."""

    created: dt.datetime  # when the package is made
    received: dt.datetime  # when intake claimed the letter
    steps: Mapping[str, Step]  # the latest recorded event of each step
    actor: str  # the flow run writing the package
    organization: str
    location: str  # s3://<archive bucket>/<letter id>/
    postroom_version: str
    tesseract_version: str | None  # None when no page went through tesseract
    languages: str | None  # tesseract's languages, when known


@dataclass(frozen=True)
class Agent:
    """A PREMIS agent: the software, organisation, person or flow run behind an event."""

    id_type: str
    id_value: str
    name: str
    kind: Literal["software", "organization", "person"]
    version: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class PremisEvent:
    """A PREMIS event of the letter, with the agents and package files it links."""

    name: str
    at: dt.datetime
    details: tuple[tuple[str, str], ...]
    outcome: str
    note: str
    agents: tuple[tuple[Agent, str], ...]  # (agent, role)
    files: tuple[tuple[str, str], ...]  # (payload path, role)


def _m(tag: str) -> str:
    """Return a METS element name."""
    return f"{{{METS_NS}}}{tag}"


def _p(tag: str) -> str:
    """Return a PREMIS element name."""
    return f"{{{PREMIS_NS}}}{tag}"


def _add(
    parent: ET.Element, tag: str, text: object = None, attrs: Mapping[str, str] | None = None
) -> ET.Element:
    """Append a child element with optional text and attributes; return it."""
    element = ET.SubElement(parent, tag, dict(attrs or {}))
    if text is not None:
        element.text = str(text)
    return element


def _xml_id(kind: str, name: str) -> str:
    """Return an XML ID (an NCName) for a METS section of ``kind`` about ``name``."""
    return f"{kind}-{re.sub(r'[^A-Za-z0-9.-]+', '-', name).strip('-')}"


def _iso(moment: dt.datetime) -> str:
    """Return a moment as ISO 8601 in UTC, to the second."""
    return as_utc(moment).isoformat(timespec="seconds")


def original_name(intake: Intake) -> str:
    """Return the payload path of the original scan."""
    return f"original{intake.media_type.suffix}"


def file_group(path: str) -> str:
    """Return the METS fileGrp USE of a payload file."""
    if path.startswith("original."):
        return "original"
    if path == "searchable.pdf":
        return "preservation"
    if path == "metadata.json":
        return "metadata"
    return "text"


def mime_type(path: str, intake: Intake) -> str:
    """Return a payload file's MIME type."""
    if path == original_name(intake):
        return intake.media_type.value
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


def premis_agents(
    classification: Classification, provenance: Provenance
) -> dict[str, Agent | None]:
    """Return the agents of a letter's events by their part: software, people, flow runs."""
    postroom = Agent(
        "preservation system",
        f"postroom-{provenance.postroom_version}",
        "postroom",
        "software",
        provenance.postroom_version,
    )
    tesseract = None
    if provenance.tesseract_version is not None:
        tesseract = Agent(
            "software",
            f"tesseract-{provenance.tesseract_version}",
            "tesseract",
            "software",
            provenance.tesseract_version,
        )
    # Fields a trained model or the review form may add to Classification; absent today.
    model_version = getattr(classification, "model_version", None)
    review = provenance.steps.get("review")
    operator = getattr(classification, "operator", None) or (review.actor if review else None)
    if classification.classified_by == "operator":
        who = str(operator or "operator (not recorded)")
        classifier = Agent("person", who, who, "person", note="decided in the review form")
    elif classification.classified_by == "model":
        label = str(model_version or "unknown")
        classifier = Agent(
            "software", f"postroom-model-{label}", "postroom classifier model", "software", label
        )
    else:
        classifier = Agent(
            "software",
            "postroom-rules",
            "postroom rules of the taxonomy",
            "software",
            provenance.postroom_version,
        )
    organization = Agent(
        "organization", provenance.organization, provenance.organization, "organization"
    )
    return {
        "postroom": postroom,
        "tesseract": tesseract,
        "classifier": classifier,
        "organization": organization,
    }


def run_agent(actor: str) -> Agent:
    """Return the agent of a Prefect flow run (the actor of a recorded step)."""
    return Agent("prefect flow run", actor, actor, "software", note="Prefect flow run")


def _step(provenance: Provenance, name: str) -> Step:
    """Return a recorded step, or the package's own creation when it was not recorded."""
    return provenance.steps.get(name) or Step(provenance.created, provenance.actor)


def capture_event(
    intake: Intake, provenance: Provenance, agents: Mapping[str, Agent | None]
) -> PremisEvent:
    """Return the capture event: the scan taken from the inbox bit-exact."""
    source, batch = intake.letter.source, intake.letter.batch
    details = [
        ("inbox object", f"s3://{source.bucket}/{source.key}"),
        ("version id", source.version_id),
        ("sha256", intake.sha256),
        ("size", str(intake.size)),
        ("media type", intake.media_type.value),
        ("received", _iso(provenance.received)),
    ]
    if batch:
        details.append(("pages of the batch file", f"{batch.first_page}-{batch.last_page}"))
    step = _step(provenance, "intake")
    return PremisEvent(
        "capture",
        provenance.received,
        tuple(details),
        "success",
        f"taken from the inbox bit-exact, SHA-256 {intake.sha256}",
        _linked(agents, ("postroom", "organization"), step.actor),
        ((original_name(intake), "outcome"),),
    )


def ocr_event(
    intake: Intake, ocr: OcrResult, provenance: Provenance, agents: Mapping[str, Agent | None]
) -> PremisEvent:
    """Return the OCR event: engine and version, languages, pages and confidence."""
    read = [p for p in ocr.pages if p.source == "ocr"]
    unreadable = [p.number for p in read if p.layer_pdf is None]
    engine = (
        f"tesseract {provenance.tesseract_version}"
        if read and provenance.tesseract_version
        else "none: every page has its own text layer"
    )
    details = [
        ("engine", engine),
        ("languages", provenance.languages or "not recorded"),
        ("pages", str(len(ocr.pages))),
        ("pages read by OCR", str(len(read))),
        ("pages with their own text layer", str(len(ocr.pages) - len(read))),
        ("mean confidence", f"{ocr.mean_confidence:.1f}"),
        *((f"page {p.number}", f"{p.source}, confidence {p.confidence:.1f}") for p in ocr.pages),
    ]
    note = f"mean word confidence {ocr.mean_confidence:.1f} over {len(ocr.pages)} page(s)"
    if unreadable:
        note += f"; unreadable (timed out): page(s) {', '.join(map(str, unreadable))}"
    return PremisEvent(
        "ocr",
        _step(provenance, "ocr").at,
        tuple(details),
        "warning" if unreadable else "success",
        note,
        _linked(agents, ("tesseract", "postroom"), _step(provenance, "ocr").actor),
        ((original_name(intake), "source"), ("searchable.pdf", "outcome")),
    )


def classification_event(
    classification: Classification, provenance: Provenance, agents: Mapping[str, Agent | None]
) -> PremisEvent:
    """Return the classification event: type, confidence, by whom (rules, model or operator)."""
    step = _step(provenance, "review" if classification.classified_by == "operator" else "classify")
    classifier = agents["classifier"]
    details = [
        ("doc type", classification.doc_type),
        ("subject", classification.subject or "-"),
        ("confidence", f"{classification.confidence:.2f}"),
        ("classified by", classification.classified_by),
    ]
    if classifier is not None and classification.classified_by == "model":
        details.append(("model version", classifier.version or "unknown"))
    if classifier is not None and classification.classified_by == "operator":
        details.append(("operator", classifier.name))
    details.extend(("reason", reason) for reason in classification.reasons)
    return PremisEvent(
        "classification",
        step.at,
        tuple(details),
        "success",
        f"{classification.doc_type} with confidence {classification.confidence:.2f}, "
        f"decided by {classification.classified_by}",
        _linked(agents, ("classifier",), step.actor),
        (("searchable.pdf", "source"),),
    )


def routing_event(
    filing: Filing, provenance: Provenance, agents: Mapping[str, Agent | None]
) -> PremisEvent:
    """Return the routing event: department, the rule that decided, where the DMS filed it."""
    step = _step(provenance, "route")
    return PremisEvent(
        "routing",
        step.at,
        (
            ("department", filing.department),
            ("rule", filing.rule),
            ("dms ref", filing.dms_ref),
            ("dms path", filing.dms_path),
        ),
        "success",
        f"filed for {filing.department} at {filing.dms_ref}",
        _linked(agents, ("postroom",), step.actor),
        (("searchable.pdf", "source"),),
    )


def ingest_event(
    intake: Intake, files: int, provenance: Provenance, agents: Mapping[str, Agent | None]
) -> PremisEvent:
    """Return the ingest event: the package written, and verified before it is locked."""
    return PremisEvent(
        "ingest",
        provenance.created,
        (
            ("package", provenance.location),
            ("format", "BagIt 1.0 with SHA-512 payload and tag manifests"),
            ("payload files", str(files)),
            (
                "verification",
                "every file is read back and checked against the manifests before the "
                "package is locked; a package that does not verify is never locked",
            ),
        ),
        "success",
        f"archival package written to {provenance.location}",
        _linked(agents, ("postroom", "organization"), provenance.actor),
        ((original_name(intake), "source"), ("searchable.pdf", "source")),
    )


def _linked(
    agents: Mapping[str, Agent | None], parts: Iterable[str], actor: str
) -> tuple[tuple[Agent, str], ...]:
    """Return an event's agents with their roles: the software or person, then the flow run."""
    roles = {"organization": "implementer", "classifier": "executing program"}
    linked = []
    for part in parts:
        agent = agents.get(part)
        if agent is not None:
            role = "decider" if agent.kind == "person" else roles.get(part, "executing program")
            linked.append((agent, role))
    return (*linked, (run_agent(actor), "implementer"))


def premis_events(
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    filing: Filing,
    files: int,
    provenance: Provenance,
) -> list[PremisEvent]:
    """Return the letter's PREMIS events: capture, ocr, classification, routing, ingest."""
    agents = premis_agents(classification, provenance)
    return [
        capture_event(intake, provenance, agents),
        ocr_event(intake, ocr, provenance, agents),
        classification_event(classification, provenance, agents),
        routing_event(filing, provenance, agents),
        ingest_event(intake, files, provenance, agents),
    ]


def _event_uuid(letter_id: str, name: str) -> str:
    """Return a PREMIS event's identifier: stable for the letter and the event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"postroom:{letter_id}:{name}"))


def _premis_object(
    parent: ET.Element,
    letter_id: str,
    path: str,
    body: bytes,
    media_type: MediaType,
    events: list[PremisEvent],
    *,
    sha256: str | None = None,
    name: str | None = None,
    source: str | None = None,
) -> None:
    """Append a PREMIS file object: identifier, fixity, size, format, provenance links."""
    obj = _add(parent, _p("object"), attrs={f"{{{XSI_NS}}}type": "premis:file", "version": "3.0"})
    ident = _add(obj, _p("objectIdentifier"))
    _add(ident, _p("objectIdentifierType"), "local")
    _add(ident, _p("objectIdentifierValue"), f"{letter_id}/data/{path}")
    chars = _add(obj, _p("objectCharacteristics"))
    _add(chars, _p("compositionLevel"), 0)
    digests = [("SHA-512", hashlib.sha512(body).hexdigest())]
    if sha256:
        digests.append(("SHA-256", sha256))
    for algorithm, digest in digests:
        fixity = _add(chars, _p("fixity"))
        _add(fixity, _p("messageDigestAlgorithm"), algorithm)
        _add(fixity, _p("messageDigest"), digest)
        _add(fixity, _p("messageDigestOriginator"), "postroom")
    _add(chars, _p("size"), len(body))
    fmt = _add(chars, _p("format"))
    _add(_add(fmt, _p("formatDesignation")), _p("formatName"), FORMAT_NAMES[media_type])
    _add(fmt, _p("formatNote"), media_type.value)
    if name:
        _add(obj, _p("originalName"), name)
    if source:
        relation = _add(obj, _p("relationship"))
        _add(relation, _p("relationshipType"), "derivation")
        _add(relation, _p("relationshipSubType"), "has source")
        related = _add(relation, _p("relatedObjectIdentifier"))
        _add(related, _p("relatedObjectIdentifierType"), "local")
        _add(related, _p("relatedObjectIdentifierValue"), f"{letter_id}/data/{source}")
    for event in events:
        if any(linked == path for linked, _ in event.files):
            link = _add(obj, _p("linkingEventIdentifier"))
            _add(link, _p("linkingEventIdentifierType"), "UUID")
            _add(link, _p("linkingEventIdentifierValue"), _event_uuid(letter_id, event.name))


def _premis_event(parent: ET.Element, letter_id: str, event: PremisEvent) -> None:
    """Append a PREMIS event with its details, outcome, agents and objects."""
    node = _add(parent, _p("event"), attrs={"version": "3.0"})
    ident = _add(node, _p("eventIdentifier"))
    _add(ident, _p("eventIdentifierType"), "UUID")
    _add(ident, _p("eventIdentifierValue"), _event_uuid(letter_id, event.name))
    _add(node, _p("eventType"), event.name)
    _add(node, _p("eventDateTime"), _iso(event.at))
    for name, value in event.details:
        _add(_add(node, _p("eventDetailInformation")), _p("eventDetail"), f"{name}: {value}")
    outcome = _add(node, _p("eventOutcomeInformation"))
    _add(outcome, _p("eventOutcome"), event.outcome)
    _add(_add(outcome, _p("eventOutcomeDetail")), _p("eventOutcomeDetailNote"), event.note)
    for agent, role in event.agents:
        link = _add(node, _p("linkingAgentIdentifier"))
        _add(link, _p("linkingAgentIdentifierType"), agent.id_type)
        _add(link, _p("linkingAgentIdentifierValue"), agent.id_value)
        _add(link, _p("linkingAgentRole"), role)
    for path, role in event.files:
        link = _add(node, _p("linkingObjectIdentifier"))
        _add(link, _p("linkingObjectIdentifierType"), "local")
        _add(link, _p("linkingObjectIdentifierValue"), f"{letter_id}/data/{path}")
        _add(link, _p("linkingObjectRole"), role)


def _premis_agent(parent: ET.Element, agent: Agent) -> None:
    """Append a PREMIS agent."""
    node = _add(parent, _p("agent"), attrs={"version": "3.0"})
    ident = _add(node, _p("agentIdentifier"))
    _add(ident, _p("agentIdentifierType"), agent.id_type)
    _add(ident, _p("agentIdentifierValue"), agent.id_value)
    _add(node, _p("agentName"), agent.name)
    _add(node, _p("agentType"), agent.kind)
    if agent.version:
        _add(node, _p("agentVersion"), agent.version)
    if agent.note:
        _add(node, _p("agentNote"), agent.note)


def _md_wrap(parent: ET.Element, section: str, xml_id: str, mdtype: str) -> ET.Element:
    """Append a METS metadata section with an mdWrap; return its xmlData."""
    node = _add(parent, _m(section), attrs={"ID": xml_id})
    wrap = _add(node, _m("mdWrap"), attrs={"MDTYPE": mdtype})
    return _add(wrap, _m("xmlData"))


def _dublin_core(
    parent: ET.Element,
    intake: Intake,
    classification: Classification,
    filing: Filing,
    provenance: Provenance,
) -> None:
    """Append the letter's core metadata as Dublin Core."""
    fields, source = classification.fields, intake.letter.source
    title = " – ".join(
        part for part in (classification.doc_type, classification.subject, fields.sender) if part
    )
    terms: list[tuple[str, object]] = [
        (f"{{{DC_NS}}}identifier", intake.letter.letter_id),
        (f"{{{DC_NS}}}title", title),
        (f"{{{DC_NS}}}type", classification.doc_type),
        (f"{{{DC_NS}}}subject", classification.subject),
        (f"{{{DC_NS}}}creator", fields.sender),
        (f"{{{DC_NS}}}date", fields.date.isoformat() if fields.date else None),
        (f"{{{DCTERMS_NS}}}dateAccepted", _iso(provenance.received)),
        (f"{{{DC_NS}}}description", f"{classification.doc_type} for {filing.department}"),
        (f"{{{DC_NS}}}format", intake.media_type.value),
        (f"{{{DC_NS}}}source", f"s3://{source.bucket}/{source.key}?versionId={source.version_id}"),
        (f"{{{DCTERMS_NS}}}isPartOf", fields.aktenzeichen),
        (f"{{{DC_NS}}}relation", filing.dms_ref),
    ]
    for tag, value in terms:
        if value is not None:
            _add(parent, tag, value)


def _mets_header(root: ET.Element, provenance: Provenance) -> None:
    """Append the METS header: when, and by which organisation and software."""
    header = _add(
        root,
        _m("metsHdr"),
        attrs={"CREATEDATE": _iso(provenance.created), "RECORDSTATUS": "complete"},
    )
    creator = _add(header, _m("agent"), attrs={"ROLE": "CREATOR", "TYPE": "ORGANIZATION"})
    _add(creator, _m("name"), provenance.organization)
    software = _add(
        header, _m("agent"), attrs={"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"}
    )
    _add(software, _m("name"), f"postroom {provenance.postroom_version}")


def _amd_sec(
    root: ET.Element,
    intake: Intake,
    files: Mapping[str, bytes],
    events: list[PremisEvent],
) -> dict[str, str]:
    """Append the PREMIS objects, events and agents; return each object's and event's ID."""
    letter_id, original = intake.letter.letter_id, original_name(intake)
    amd = _add(root, _m("amdSec"), attrs={"ID": "amdSec-letter"})
    ids = {original: "techMD-original", "searchable.pdf": "techMD-searchable"}
    _premis_object(
        _md_wrap(amd, "techMD", ids[original], "PREMIS:OBJECT"),
        letter_id,
        original,
        files[original],
        intake.media_type,
        events,
        sha256=intake.sha256,
        name=intake.letter.source.key,
    )
    _premis_object(
        _md_wrap(amd, "techMD", ids["searchable.pdf"], "PREMIS:OBJECT"),
        letter_id,
        "searchable.pdf",
        files["searchable.pdf"],
        MediaType.PDF,
        events,
        source=original,
    )
    for event in events:
        ids[event.name] = _xml_id("digiprovMD-event", event.name)
        _premis_event(
            _md_wrap(amd, "digiprovMD", ids[event.name], "PREMIS:EVENT"), letter_id, event
        )
    agents = {(a.id_type, a.id_value): a for event in events for a, _ in event.agents}
    for (kind, value), agent in agents.items():
        _premis_agent(
            _md_wrap(
                amd, "digiprovMD", _xml_id("digiprovMD-agent", f"{kind}-{value}"), "PREMIS:AGENT"
            ),
            agent,
        )
    return ids


def _file_sec(
    root: ET.Element,
    intake: Intake,
    files: Mapping[str, bytes],
    events: list[PremisEvent],
    ids: Mapping[str, str],
) -> None:
    """Append the fileSec: every payload file with its MIME type, size and SHA-512."""
    file_sec = _add(root, _m("fileSec"))
    for use in FILE_GROUPS:
        group = _add(file_sec, _m("fileGrp"), attrs={"USE": use})
        for path in (p for p in sorted(files) if file_group(p) == use):
            body = files[path]
            attrs = {
                "ID": _xml_id("file", path),
                "MIMETYPE": mime_type(path, intake),
                "SIZE": str(len(body)),
                "CHECKSUM": hashlib.sha512(body).hexdigest(),
                "CHECKSUMTYPE": "SHA-512",
            }
            if path in ids:  # a PREMIS object: its techMD and the events about it
                linked = [ids[e.name] for e in events if any(f == path for f, _ in e.files)]
                attrs["ADMID"] = " ".join([ids[path], *linked])
            entry = _add(group, _m("file"), attrs=attrs)
            _add(entry, _m("FLocat"), attrs={"LOCTYPE": "URL", f"{{{XLINK_NS}}}href": path})


def _struct_map(
    root: ET.Element, letter_id: str, files: Mapping[str, bytes], event_ids: list[str]
) -> None:
    """Append the structMap: the letter, its files, and its text page by page."""
    struct = _add(root, _m("structMap"), attrs={"TYPE": "physical", "LABEL": "archival package"})
    letter = _add(
        struct,
        _m("div"),
        attrs={
            "TYPE": "letter",
            "LABEL": letter_id,
            "DMDID": "dmdSec-letter",
            "ADMID": " ".join(event_ids),
        },
    )
    whole = [p for p in sorted(files) if not p.startswith("pages/")]
    for order, path in enumerate(whole, start=1):
        part = _add(
            letter, _m("div"), attrs={"TYPE": file_group(path), "LABEL": path, "ORDER": str(order)}
        )
        _add(part, _m("fptr"), attrs={"FILEID": _xml_id("file", path)})
    by_page: dict[str, list[str]] = {}
    for path in sorted(p for p in files if p.startswith("pages/")):
        # pages/page-0001.txt and pages/page-0001.alto.xml are the same page
        by_page.setdefault(path.removeprefix("pages/").split(".", 1)[0], []).append(path)
    if by_page:
        text = _add(letter, _m("div"), attrs={"TYPE": "pages", "LABEL": "text per page"})
        for number, (name, paths) in enumerate(sorted(by_page.items()), start=1):
            page = _add(
                text, _m("div"), attrs={"TYPE": "page", "ORDER": str(number), "LABEL": name}
            )
            for path in paths:
                _add(page, _m("fptr"), attrs={"FILEID": _xml_id("file", path)})


def mets_document(
    intake: Intake,
    ocr: OcrResult,
    classification: Classification,
    filing: Filing,
    payload: Mapping[str, bytes],
    provenance: Provenance,
) -> bytes:
    """Return the package's METS document for ``payload`` (path under data/ → bytes).

    Every payload file but ``mets.xml`` itself is listed with its SHA-512; hrefs are relative to
    ``data/``, where ``mets.xml`` lies.
    """
    letter_id = intake.letter.letter_id
    files = {path: body for path, body in payload.items() if path != METS_FILE}
    events = premis_events(intake, ocr, classification, filing, len(files) + 1, provenance)
    root = ET.Element(
        _m("mets"),
        {
            "OBJID": letter_id,
            "LABEL": f"{classification.doc_type} {letter_id}",
            "TYPE": "letter",
            f"{{{XSI_NS}}}schemaLocation": SCHEMA_LOCATION,
        },
    )
    _mets_header(root, provenance)
    _dublin_core(
        _md_wrap(root, "dmdSec", "dmdSec-letter", "DC"), intake, classification, filing, provenance
    )
    ids = _amd_sec(root, intake, files, events)
    _file_sec(root, intake, files, events, ids)
    _struct_map(root, letter_id, files, [ids[event.name] for event in events])
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return document


@cache
def tesseract_version() -> str:
    """Return the installed tesseract's version."""
    return str(pytesseract.get_tesseract_version())


def postroom_version() -> str:
    """Return postroom's own version."""
    try:
        return version("postroom")
    except PackageNotFoundError:
        return "unknown"


def recorded_steps(edges: Edges, letter_id: str) -> dict[str, Step]:
    """Return the latest recorded event of each step of a letter."""
    with Session(edges.engine) as session:
        events = session.scalars(
            select(Event).where(Event.letter_id == letter_id).order_by(Event.id)
        ).all()
    return {event.step: Step(as_utc(event.at), event.actor) for event in events}


def provenance_for(
    edges: Edges,
    intake: Intake,
    ocr: OcrResult,
    now: dt.datetime,
    actor: str,
    languages: str | None,
) -> Provenance:
    """Gather the facts of the PREMIS events from the records database and the OCR engine."""
    letter_id = intake.letter.letter_id
    return Provenance(
        created=now,
        received=as_utc(load_letter(edges.engine, letter_id).received_at),
        steps=recorded_steps(edges, letter_id),
        actor=actor,
        organization=edges.settings.archive.source_organization,
        location=f"s3://{edges.settings.buckets.archive}/{letter_id}/",
        postroom_version=postroom_version(),
        tesseract_version=(
            tesseract_version() if any(p.source == "ocr" for p in ocr.pages) else None
        ),
        languages=languages,
    )
