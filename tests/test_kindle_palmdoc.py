"""PalmDOC compression: byte codes, round trips through our own decoder, determinism."""

from __future__ import annotations

import random

import pytest

from ebook_builder.formats.kindle.palmdoc import MAX_DISTANCE, compress, decompress

PROSE = (
    "<p>The workers of Petrograd met in the soviet; the workers of Moscow met in theirs. "
    "“All power to the soviets!” — the slogan of the workers’ councils — spread.</p>\n"
).encode()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", b""),
        (b"abc", b"abc"),  # 0x09–0x7F stand for themselves
        (b"\x00", b"\x00"),  # so does NUL
        (b" x", bytes([ord("x") ^ 0x80])),  # space + 0x40–0x7F share one byte
        (b" 1", b" 1"),  # a digit is below 0x40: no sharing
        (b"\x01", b"\x01\x01"),  # 0x01–0x08 must be escaped behind a count
        ("é".encode(), b"\x02\xc3\xa9"),  # so must bytes ≥ 0x80
        ("——".encode(), b"\x06" + "——".encode()),  # up to 8 in one run
    ],
)
def test_literal_codes(data: bytes, expected: bytes) -> None:
    assert compress(data) == expected
    assert decompress(expected) == data


def test_a_repeated_word_becomes_a_back_reference() -> None:
    data = b"<b>soviet</b><i>soviet</i>"
    packed = compress(data)
    # "soviet" (6 bytes) again, 13 bytes back: 0x8000 | 13 << 3 | (6 - 3)
    assert (0x8000 | 13 << 3 | 3).to_bytes(2, "big") in packed
    assert len(packed) < len(data)
    assert decompress(packed) == data


def test_no_back_reference_beyond_the_window() -> None:
    filler = b"-" * (MAX_DISTANCE + 10)
    data = b"soviet" + filler.replace(b"-", b".") + b"soviet"
    assert decompress(compress(data)) == data
    # The second "soviet" is too far back to copy: both appear literally.
    assert compress(data).count(b"soviet") == 2


def test_decoder_reads_overlapping_copies() -> None:
    # "ab" then copy 6 bytes from 2 back: the copy reads bytes it has just written.
    assert decompress(b"ab" + (0x8000 | 2 << 3 | 3).to_bytes(2, "big")) == b"abababab"


def test_decoder_refuses_a_reference_before_the_start() -> None:
    with pytest.raises(ValueError):
        decompress((0x8000 | 5 << 3).to_bytes(2, "big"))


def test_round_trip_of_prose_with_multibyte_characters() -> None:
    record = (PROSE * 40)[:4096]
    packed = compress(record)
    assert decompress(packed) == record
    assert len(packed) < 0.75 * len(record)


def test_round_trip_of_random_bytes() -> None:
    generator = random.Random(1917)
    for _ in range(50):
        size = generator.randrange(0, 4097)
        alphabet = bytes(generator.sample(range(256), generator.randrange(1, 40)))
        data = bytes(generator.choice(alphabet) for _ in range(size))
        assert decompress(compress(data)) == data


def test_round_trip_of_every_byte_value() -> None:
    data = bytes(range(256)) * 16
    assert decompress(compress(data)) == data


def test_compression_is_deterministic() -> None:
    assert compress(PROSE * 20) == compress(PROSE * 20)
