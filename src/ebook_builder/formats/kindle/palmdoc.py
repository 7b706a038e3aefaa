"""PalmDOC compression: the LZ77 variant every MOBI and KF8 text record is stored in.

The format, as the MobileRead wiki describes it ("MOBI" › "PalmDOC Compression"), is a byte
stream the reader decodes like this:

| byte        | meaning                                                                  |
| ----------- | ------------------------------------------------------------------------ |
| 0x00        | the byte itself                                                          |
| 0x01–0x08   | copy the next 1–8 bytes verbatim (how bytes ≥ 0x80 travel)               |
| 0x09–0x7F   | the byte itself                                                          |
| 0x80–0xBF   | with the next byte, 16 bits `10dddddddddddlll`: copy `lll + 3` bytes     |
|             | from `d` (1–2047) bytes back in the output                               |
| 0xC0–0xFF   | a space followed by the character `byte ^ 0x80`                          |

Each 4096-byte record is compressed on its own: a back-reference never reaches into the
previous record, because a reader decompresses the record it needs and nothing else.

Speed: a byte-by-byte LZ77 search in Python would take about a second for a book. Here one
regular expression picks out the words, runs of markup and runs of bytes that need escaping;
a dictionary remembers where each token last appeared, so a repeated word (" the", "</p>",
"class=") costs one look-up and becomes a 2-byte back-reference. That finds fewer matches
than an exhaustive search (the text shrinks to about 70 % instead of 55 %), but it costs
one pass of a Python loop per word: about 20 ms for 200 KB.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_DISTANCE = 2047  # 11 bits of distance
MIN_MATCH = 3  # 3 bits of length, stored as length - 3
MAX_MATCH = 10

# The tokens a Python call is spent on; every other byte is copied as itself by `re.sub`.
# - `[\x01-\x08\x80-\xff]{1,8}`: bytes that must travel behind a 0x01–0x08 count byte
#   (UTF-8 sequences of curly quotes, dashes, Cyrillic…); a repeated one may be copied.
# - ` ` + 0x40–0x7F + word: a space that can share a byte with the next character, and
#   the rest of the word (a copy when the whole token repeats).
# - Words and runs of markup punctuation of 3–9 bytes, with the space before them: copy
#   candidates (10 bytes at most, the longest copy).
# - ` ` + 0x40–0x7F alone (" [", " _").
_TOKEN = re.compile(
    rb"[\x01-\x08\x80-\xff]{1,8}"
    rb"|\x20[\x40-\x7f][A-Za-z0-9]{0,8}"
    rb"|\x20?[A-Za-z0-9]{3,9}"
    rb"|\x20?[^\sA-Za-z0-9\x00-\x08\x80-\xff]{3,9}"
    rb"|\x20[\x40-\x7f]"
)
_SPLIT = re.compile(b"(" + _TOKEN.pattern + b")")  # gap, token, gap, token, …, gap
# A space and a character from 0x40–0x7F share one byte: the character with its top bit set.
_PAIR = [bytes([b ^ 0x80]) if 0x40 <= b <= 0x7F else None for b in range(256)]
_COUNT = [bytes([n]) for n in range(9)]


@lru_cache(maxsize=4096)
def compress(data: bytes) -> bytes:
    """Compress one text record (at most 4096 bytes) as PalmDOC.

    Deterministic: the same input always gives the same output, so it is kept for the
    next caller: the .azw3 and the .mobi carry the same KF8 text, compressed once.
    """
    # Split, not `sub` with a callback: a plain loop over the pieces costs less per word.
    pieces = _SPLIT.split(data)
    out = [pieces[0]]
    position = len(pieces[0])
    last_seen: dict[bytes, int] = {}
    seen = last_seen.get
    rest = iter(pieces[1:])
    for token, gap in zip(rest, rest, strict=True):  # token, then the bytes up to the next
        size = len(token)
        previous = seen(token)
        last_seen[token] = position
        if previous is not None and size >= MIN_MATCH and position - previous <= MAX_DISTANCE:
            # Distance counts back from the first byte being produced.
            distance = position - previous
            out.append((0x8000 | (distance << 3) | (size - MIN_MATCH)).to_bytes(2, "big"))
        elif token[0] == 0x20:
            pair = _PAIR[token[1]]
            out.append(token if pair is None else pair + token[2:])
        elif token[0] >= 0x80 or token[0] < 0x09:
            out.append(_COUNT[size] + token)  # a run that cannot stand for itself
        else:
            out.append(token)
        out.append(gap)
        position += size + len(gap)
    return b"".join(out)


def decompress(data: bytes) -> bytes:
    """Decode a PalmDOC record: the reader's side, used by the tests and nothing else."""
    out = bytearray()
    i = 0
    size = len(data)
    while i < size:
        byte = data[i]
        i += 1
        if byte == 0 or 0x09 <= byte <= 0x7F:
            out.append(byte)
        elif byte <= 0x08:
            out += data[i : i + byte]
            i += byte
        elif byte >= 0xC0:
            out.append(0x20)
            out.append(byte ^ 0x80)
        else:
            pair = (byte << 8) | data[i]
            i += 1
            distance = (pair >> 3) & 0x7FF
            length = (pair & 0x07) + MIN_MATCH
            if distance == 0 or distance > len(out):
                raise ValueError(f"back-reference {distance} before the start of the record")
            for _ in range(length):  # byte by byte: a copy may overlap its own output
                out.append(out[-distance])
    return bytes(out)
