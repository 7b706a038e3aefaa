"""Zip entries as every writer's archive (EPUB, KEPUB, DOCX) stores them: reproducibly."""

from __future__ import annotations

import zipfile
from datetime import datetime

# Pictures that deflate saves nothing on: stored in the archives as they are.
COMPRESSED_PICTURES = (".jpg", ".jpeg", ".png", ".gif", ".webp")


def archive_entry(
    name: str, when: datetime, compress_type: int = zipfile.ZIP_DEFLATED
) -> zipfile.ZipInfo:
    """The entry `name`, stamped `when` and readable by all.

    A zip entry records the years 1980 to 2107 only: a time outside is recorded as the
    nearest it can hold (the package document keeps the true one, as the Kindle header does).

    It is compressed with `compress_type`, unless it is a picture compressed already:
    deflating a JPEG again costs time and saves nothing.
    """
    stamp = min(max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0)), (2107, 12, 31, 23, 59, 58))
    entry = zipfile.ZipInfo(name, date_time=stamp)
    stored = name.lower().endswith(COMPRESSED_PICTURES)
    entry.compress_type = zipfile.ZIP_STORED if stored else compress_type
    entry.create_system = 3
    entry.external_attr = 0o644 << 16
    return entry
