"""Archive: BagIt packages, their METS/PREMIS document, reading them back, retention dates."""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import pytest

from schemas.letter import (
    Classification,
    Fields,
    Filing,
    Intake,
    LetterRef,
    MediaType,
    OcrResult,
    PageText,
    SourceObject,
)
from tasks.archive import (
    FileCheck,
    LocalPackage,
    PackageCheck,
    build_bag,
    check_bag,
    lock_problems,
    parse_manifest,
    retention_date,
)
from tasks.mets import Provenance, Step, mets_document

RECEIVED = dt.date(2026, 11, 21)


def test_a_bag_has_its_tag_files_and_both_manifests() -> None:
    bag = build_bag(
        {"original.pdf": b"%PDF-1.7 scan", "text.txt": "Grüße".encode()},
        {"External-Identifier": "abc"},
    )
    assert bag["bagit.txt"] == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = bag["bag-info.txt"].decode()
    assert "External-Identifier: abc\n" in info
    assert "Payload-Oxum: 20.2\n" in info
    payload = parse_manifest(bag["manifest-sha512.txt"].decode())
    assert payload == {
        path: hashlib.sha512(bag[path]).hexdigest()
        for path in ("data/original.pdf", "data/text.txt")
    }
    tags = parse_manifest(bag["tagmanifest-sha512.txt"].decode())
    assert set(tags) == {"bagit.txt", "bag-info.txt", "manifest-sha512.txt"}
    assert all(hashlib.sha512(bag[p]).hexdigest() == d for p, d in tags.items())


@pytest.mark.parametrize(
    ("letter_date", "years", "expected"),
    [
        (dt.date(2026, 3, 12), 10, dt.date(2036, 12, 31)),
        (dt.date(2025, 12, 30), 10, dt.date(2035, 12, 31)),
        (None, 10, dt.date(2036, 12, 31)),
        (dt.date(2027, 1, 5), 10, dt.date(2036, 12, 31)),  # in the future: misread
        (dt.date(1996, 1, 5), 10, dt.date(2036, 12, 31)),  # far before receipt: misread
        (dt.date(2026, 3, 12), 0, None),
    ],
)
def test_retention_ends_with_the_calendar_year(
    letter_date: dt.date | None, years: int, expected: dt.date | None
) -> None:
    assert retention_date(letter_date, RECEIVED, years) == expected


# -- METS and PREMIS -----------------------------------------------------------------------------

NS = {
    "mets": "http://www.loc.gov/METS/",
    "premis": "http://www.loc.gov/premis/v3",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "dc": "http://purl.org/dc/elements/1.1/",
}
LETTER_ID = "9c527a1d5f0cbfa2c1334290"
NOW = dt.datetime(2026, 11, 21, 16, 42, tzinfo=dt.UTC)


def letter_parts(
    classified_by: Literal["rule", "model", "operator"] = "rule",
) -> tuple[Intake, OcrResult, Classification, Filing]:
    """Return the models the archive step gets for a two-page PNG letter."""
    source = SourceObject(
        bucket="postroom-inbox", key="scanner-1/Brief Müller.png", version_id="v7"
    )
    intake = Intake(
        letter=LetterRef(letter_id=LETTER_ID, source=source),
        sha256=hashlib.sha256(b"PNG scan").hexdigest(),
        size=8,
        media_type=MediaType.PNG,
        pages=2,
        local_path="/unused",
    )
    ocr = OcrResult(
        letter_id=LETTER_ID,
        pages=(
            PageText(number=1, text="Rechnung", confidence=91.0, source="ocr", layer_pdf="/p1"),
            PageText(number=2, text="Seite 2", confidence=100.0, source="text-layer"),
        ),
        pdf_key="work/x/searchable.pdf",
        text_key="work/x/text.txt",
    )
    classification = Classification(
        doc_type="rechnung",
        confidence=1.0 if classified_by == "operator" else 0.93,
        classified_by=classified_by,
        reasons=("rechnung: any Rechnung (+2.0)",),
        fields=Fields(sender="Stadtwerke Musterstadt GmbH", date=dt.date(2026, 3, 12)),
    )
    filing = Filing(
        department="Kämmerei",
        dms_path=f"Kaemmerei/ohne-az/{LETTER_ID}/",
        dms_ref=f"s3://postroom-dms/Kaemmerei/ohne-az/{LETTER_ID}/",
        rule="rechnung → Kämmerei",
    )
    return intake, ocr, classification, filing


def provenance(**steps: Step) -> Provenance:
    """Return the provenance of a package made now."""
    return Provenance(
        created=NOW,
        received=NOW - dt.timedelta(minutes=5),
        steps={"intake": Step(NOW, "flow-run/a"), "ocr": Step(NOW, "flow-run/a"), **steps},
        actor="flow-run/a",
        organization="Kreisverwaltung Musterkreis",
        location=f"s3://postroom-archive/{LETTER_ID}/",
        postroom_version="0.1.0",
        tesseract_version="5.3.0",
        languages="deu+eng",
    )


PAYLOAD = {
    "original.png": b"PNG scan",
    "searchable.pdf": b"%PDF-1.7 searchable",
    "text.txt": b"Rechnung\fSeite 2",
    "metadata.json": b"{}",
    "pages/page-0001.txt": b"Rechnung",
    "pages/page-0002.txt": b"Seite 2",
}


def parse_mets(classified_by: Literal["rule", "model", "operator"] = "rule") -> ET.Element:
    """Return the parsed METS document of the sample letter."""
    review = {"review": Step(NOW, "erika.mustermann")} if classified_by == "operator" else {}
    document = mets_document(*letter_parts(classified_by), PAYLOAD, provenance(**review))
    assert document.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ET.fromstring(document)  # noqa: S314 - our own document, not untrusted input


def test_the_mets_document_lists_every_payload_file_with_its_sha512() -> None:
    root = parse_mets()
    assert root.tag == f"{{{NS['mets']}}}mets" and root.get("OBJID") == LETTER_ID
    locations = root.get(f"{{{NS['xsi']}}}schemaLocation", "").split()
    assert locations[0::2] == [NS["mets"], NS["premis"]]
    sections = [child.tag.split("}")[1] for child in root]
    assert sections == ["metsHdr", "dmdSec", "amdSec", "fileSec", "structMap"]
    listed = {}
    for file in root.iterfind("mets:fileSec/mets:fileGrp/mets:file", NS):
        href = file.find("mets:FLocat", NS)
        assert href is not None
        listed[href.get(f"{{{NS['xlink']}}}href", "")] = file
    assert set(listed) == set(PAYLOAD)  # everything but mets.xml itself
    for path, file in listed.items():
        assert file.get("CHECKSUMTYPE") == "SHA-512"
        assert file.get("CHECKSUM") == hashlib.sha512(PAYLOAD[path]).hexdigest()
        assert file.get("SIZE") == str(len(PAYLOAD[path]))
    assert listed["original.png"].get("MIMETYPE") == "image/png"
    uses = {g.get("USE"): len(g) for g in root.iterfind("mets:fileSec/mets:fileGrp", NS)}
    assert uses == {"original": 1, "preservation": 1, "text": 3, "metadata": 1}


def test_every_reference_in_the_mets_document_resolves() -> None:
    root = parse_mets()
    ids = [element.get("ID") for element in root.iter() if element.get("ID")]
    assert len(ids) == len(set(ids))
    references = [
        ref
        for element in root.iter()
        for name in ("FILEID", "DMDID", "ADMID")
        for ref in (element.get(name) or "").split()
    ]
    assert references and set(references) <= set(ids)
    pointed = {fptr.get("FILEID") for fptr in root.iter(f"{{{NS['mets']}}}fptr")}
    files = {file.get("ID") for file in root.iter(f"{{{NS['mets']}}}file")}
    assert pointed == files  # the structMap places every file
    dmd = root.iterfind("mets:dmdSec/mets:mdWrap[@MDTYPE='DC']/mets:xmlData/*", NS)
    dc = {child.tag.split("}")[1]: child.text for child in dmd}
    assert dc["identifier"] == LETTER_ID and dc["creator"] == "Stadtwerke Musterstadt GmbH"
    assert dc["date"] == "2026-03-12" and dc["type"] == "rechnung"


def premis_events(root: ET.Element) -> dict[str, ET.Element]:
    """Return the PREMIS events of a METS document by type."""
    events = root.iterfind(".//mets:digiprovMD/mets:mdWrap/mets:xmlData/premis:event", NS)
    return {event.findtext("premis:eventType", namespaces=NS) or "": event for event in events}


def details(event: ET.Element) -> list[str]:
    """Return an event's detail lines."""
    return [
        d.text or "" for d in event.iterfind("premis:eventDetailInformation/premis:eventDetail", NS)
    ]


def test_the_premis_objects_carry_fixity_size_and_format() -> None:
    root = parse_mets()
    objects = {
        obj.findtext("premis:objectIdentifier/premis:objectIdentifierValue", namespaces=NS): obj
        for obj in root.iterfind(".//mets:techMD/mets:mdWrap/mets:xmlData/premis:object", NS)
    }
    original = objects[f"{LETTER_ID}/data/original.png"]
    searchable = objects[f"{LETTER_ID}/data/searchable.pdf"]
    assert original.get(f"{{{NS['xsi']}}}type") == "premis:file"
    fixity = {
        f.findtext("premis:messageDigestAlgorithm", namespaces=NS): f.findtext(
            "premis:messageDigest", namespaces=NS
        )
        for f in original.iterfind("premis:objectCharacteristics/premis:fixity", NS)
    }
    assert fixity == {
        "SHA-512": hashlib.sha512(b"PNG scan").hexdigest(),
        "SHA-256": hashlib.sha256(b"PNG scan").hexdigest(),
    }
    assert original.findtext("premis:objectCharacteristics/premis:size", namespaces=NS) == "8"
    assert original.findtext("premis:originalName", namespaces=NS) == "scanner-1/Brief Müller.png"
    name = "premis:objectCharacteristics/premis:format/premis:formatDesignation/premis:formatName"
    assert searchable.findtext(name, namespaces=NS) == "Portable Document Format"
    related = searchable.findtext(
        "premis:relationship/premis:relatedObjectIdentifier/premis:relatedObjectIdentifierValue",
        namespaces=NS,
    )
    assert related == f"{LETTER_ID}/data/original.png"


def test_the_premis_events_have_outcome_date_and_known_agents() -> None:
    root = parse_mets()
    events = premis_events(root)
    assert list(events) == ["capture", "ocr", "classification", "routing", "ingest"]
    agents = {
        (
            agent.findtext("premis:agentIdentifier/premis:agentIdentifierType", namespaces=NS),
            agent.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS),
        ): agent
        for agent in root.iterfind(".//premis:agent", NS)
    }
    for event in events.values():
        assert event.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=NS)
        assert dt.datetime.fromisoformat(
            event.findtext("premis:eventDateTime", namespaces=NS) or ""
        )
        linked = [
            (
                link.findtext("premis:linkingAgentIdentifierType", namespaces=NS),
                link.findtext("premis:linkingAgentIdentifierValue", namespaces=NS),
            )
            for link in event.iterfind("premis:linkingAgentIdentifier", NS)
        ]
        assert linked and set(linked) <= set(agents)
    capture = details(events["capture"])
    assert "inbox object: s3://postroom-inbox/scanner-1/Brief Müller.png" in capture
    assert "version id: v7" in capture
    assert f"sha256: {hashlib.sha256(b'PNG scan').hexdigest()}" in capture
    ocr = details(events["ocr"])
    assert "engine: tesseract 5.3.0" in ocr and "languages: deu+eng" in ocr
    assert "pages read by OCR: 1" in ocr and "mean confidence: 95.5" in ocr
    assert ("software", "tesseract-5.3.0") in agents
    assert "classified by: rule" in details(events["classification"])
    routing = details(events["routing"])
    assert "department: Kämmerei" in routing and "rule: rechnung → Kämmerei" in routing
    assert f"dms ref: s3://postroom-dms/Kaemmerei/ohne-az/{LETTER_ID}/" in routing
    assert f"package: s3://postroom-archive/{LETTER_ID}/" in details(events["ingest"])


def test_an_operator_decision_names_the_operator_as_a_person() -> None:
    events = premis_events(root := parse_mets("operator"))
    assert "operator: erika.mustermann" in details(events["classification"])
    person = next(
        agent
        for agent in root.iterfind(".//premis:agent", NS)
        if agent.findtext("premis:agentType", namespaces=NS) == "person"
    )
    assert person.findtext("premis:agentName", namespaces=NS) == "erika.mustermann"


# -- reading a package back ----------------------------------------------------------------------


def write_bag(root: Path, bag: dict[str, bytes]) -> None:
    """Write a bag's files below ``root``."""
    for path, body in bag.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(body)


def test_a_sound_bag_verifies(tmp_path: Path) -> None:
    write_bag(tmp_path, build_bag(PAYLOAD, {"External-Identifier": LETTER_ID}))
    check = check_bag(LocalPackage(tmp_path))
    assert check.ok, check.problems
    assert check.declared_oxum == check.found_oxum == f"{sum(map(len, PAYLOAD.values()))}.6"
    assert {f.path for f in check.files} == {f"data/{p}" for p in PAYLOAD} | {
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha512.txt",
    }


def test_every_altered_missing_and_unlisted_file_is_reported(tmp_path: Path) -> None:
    write_bag(tmp_path, build_bag(PAYLOAD, {"External-Identifier": LETTER_ID}))
    (tmp_path / "data/searchable.pdf").write_bytes(b"%PDF-1.7 tampered")
    (tmp_path / "data/pages/page-0002.txt").unlink()
    (tmp_path / "data/extra.txt").write_bytes(b"smuggled in")
    (tmp_path / "bag-info.txt").write_bytes(b"External-Identifier: changed\n")
    check = check_bag(LocalPackage(tmp_path))
    status = {f.path: f.status for f in check.files}
    assert status["data/searchable.pdf"] == "mismatch"
    assert status["data/pages/page-0002.txt"] == "missing"
    assert status["data/extra.txt"] == "unlisted"
    assert status["bag-info.txt"] == "mismatch"
    assert status["data/original.png"] == "ok"
    assert not check.ok and not check.missing
    text = "\n".join(check.problems)
    for path in ("data/searchable.pdf", "data/pages/page-0002.txt", "data/extra.txt"):
        assert path in text
    assert "Payload-Oxum is None" in text  # bag-info.txt lost it


def test_an_empty_place_is_a_missing_package(tmp_path: Path) -> None:
    check = check_bag(LocalPackage(tmp_path / "nothing"))
    assert check.missing and not check.ok and check.files == ()


def test_lock_problems_name_every_unlocked_or_short_locked_file() -> None:
    until = dt.datetime(2036, 12, 31, 23, 59, tzinfo=dt.UTC)
    check = PackageCheck(
        location="s3://postroom-archive/x/",
        files=(
            FileCheck(path="a", status="ok", lock_mode="COMPLIANCE", locked_until=until),
            FileCheck(path="b", status="ok"),
            FileCheck(path="c", status="ok", lock_mode="GOVERNANCE", locked_until=until),
            FileCheck(path="d", status="ok", lock_mode="COMPLIANCE", locked_until=NOW),
            FileCheck(path="e", status="missing"),
        ),
    )
    problems = lock_problems(check, dt.date(2036, 12, 31))
    assert [p.split()[0] for p in problems] == ["b", "c", "d"]
    assert "only until 2026-11-21" in problems[-1]
    assert [
        p.split()[0] for p in lock_problems(check, dt.date(2036, 12, 31), to_the_day=False)
    ] == [
        "b",
        "c",
    ]
