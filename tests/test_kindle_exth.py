"""EXTH: block layout, the metadata records, the ids derived from the identifier."""

from __future__ import annotations

import re
import struct
from datetime import UTC, datetime

from ebook_builder.formats.kindle import exth
from ebook_builder.model import Contributor, Isbns, Metadata, Person, Series
from tests.kindle_decode import read_exth

META = Metadata(
    title="Ten Days",
    language="en-GB",
    identifier="urn:isbn:978-0-14-018293-0",
    creators=(Person("John Reed", "Reed, John"), Person("A. N. Other")),
    modified=datetime(2017, 11, 7, tzinfo=UTC),
    publisher="Boni & Liveright",
    date="1919",
    description="Eyewitness account.",
    subjects=("History", "Russia"),
)


def test_block_layout_and_padding() -> None:
    block = exth.exth_block([(100, b"abc"), (201, exth.number(7))])
    assert block[:4] == b"EXTH"
    length, count = struct.unpack_from(">II", block, 4)
    assert count == 2
    assert length == 12 + (8 + 3) + (8 + 4)  # the padding is not counted
    assert len(block) % 4 == 0 and len(block) == 36
    assert block[12:23] == struct.pack(">II", 100, 11) + b"abc"
    assert read_exth(block) == [(100, b"abc"), (201, b"\0\0\0\7")]


def test_metadata_records() -> None:
    ids = exth.book_ids(META.identifier)
    records = exth.metadata_records(META, ids)
    values: dict[int, list[bytes]] = {}
    for kind, data in records:
        values.setdefault(kind, []).append(data)
    assert values[exth.AUTHOR] == [b"John Reed", b"A. N. Other"]
    assert values[exth.PUBLISHER] == [b"Boni & Liveright"]
    assert values[exth.ISBN] == [b"9780140182930"]
    assert values[exth.SUBJECT] == [b"History", b"Russia"]
    assert values[exth.PUBLISHED] == [b"1919"]
    assert values[exth.CDE_TYPE] == [b"EBOK"]
    assert values[exth.UPDATED_TITLE] == [b"Ten Days"]
    assert values[exth.LANGUAGE] == [b"en-GB"]
    assert values[exth.ASIN] == values[exth.CDE_CONTENT_KEY] == [ids.asin.encode()]
    assert values[204] == [exth.number(201)]


def test_no_isbn_record_for_a_uuid() -> None:
    meta = Metadata("T", "en", "urn:uuid:0b0e", (Person("A"),), datetime(2020, 1, 1, tzinfo=UTC))
    kinds = [kind for kind, _ in exth.metadata_records(meta, exth.book_ids(meta.identifier))]
    assert exth.ISBN not in kinds
    assert exth.PUBLISHER not in kinds


def test_contributors_rights_and_the_kindle_isbn() -> None:
    meta = Metadata(
        "T",
        "en",
        "urn:isbn:978-0-14-018293-0",
        (Person("A"),),
        datetime(2020, 1, 1, tzinfo=UTC),
        contributors=(Contributor("Tr Anslator", "translator"), Contributor("Ed", "editor")),
        rights="© 2020 A",
        series=Series("Cycle", "2"),
        isbn=Isbns(epub="9780306406157", kindle="0306406152"),
    )
    records = exth.metadata_records(meta, exth.book_ids(meta.identifier))
    values: dict[int, list[bytes]] = {}
    for kind, data in records:
        values.setdefault(kind, []).append(data)
    assert values[exth.ISBN] == [b"0306406152"]  # the Kindle edition's, not the identifier's
    assert values[exth.CONTRIBUTOR] == [b"Tr Anslator", b"Ed"]
    assert values[exth.RIGHTS] == ["© 2020 A".encode()]
    assert b"Cycle" not in b"".join(data for _, data in records)  # EXTH has no series record


def test_resource_records() -> None:
    assert exth.resource_records(0, 3, 4) == [
        (201, exth.number(0)),
        (203, exth.number(0)),
        (202, exth.number(3)),
        (125, exth.number(4)),
    ]


def test_ids_are_stable_and_asin_shaped() -> None:
    first = exth.book_ids("urn:uuid:9b5a4f0e-3c3e-5d8e-8f00-0a1b2c3d4e5f")
    again = exth.book_ids("urn:uuid:9b5a4f0e-3c3e-5d8e-8f00-0a1b2c3d4e5f")
    other = exth.book_ids("urn:uuid:00000000-3c3e-5d8e-8f00-0a1b2c3d4e5f")
    assert first == again
    assert first.asin != other.asin and first.unique_id != other.unique_id
    assert re.fullmatch(r"EB[A-Z2-7]{8}", first.asin)
    assert 0 <= first.unique_id < 2**32
