"""How many cores this process may run on, the one count every stage sizes its work by.

`os.cpu_count()` counts the machine's cores. A process confined to fewer (by `taskset`, a
container's cpuset, or a cluster that gives each Dask worker a core of its own) that
started a pandoc per counted core, or wrote the DOCX in a thread beside the other formats,
would only crowd the cores it has.
"""

from __future__ import annotations

import os


def usable_cores() -> int:
    """The cores this process may be scheduled on (its affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
