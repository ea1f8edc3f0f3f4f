"""Jobs for the worker pool in tests: picklable by name, importable in a worker."""

from __future__ import annotations

import os

from bot.phones import IngestLimits, ingest_bytes


def crash_or_ingest(data: bytes, filename: str, limits: IngestLimits):
    """b"ABORT..." aborts the worker as the Rust allocator does; b"NOMEM..." fails as an
    allocation under the memory ceiling does; anything else is ingested."""
    if data.startswith(b"ABORT"):
        os.abort()
    if data.startswith(b"NOMEM"):
        raise MemoryError
    return ingest_bytes(data, filename, limits)


def worker_facts(data: bytes, filename: str, limits: IngestLimits):
    """What a warmed worker looks like from inside: its memory ceiling and size."""
    import resource

    status = open("/proc/self/status", encoding="ascii").read()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0],
        "vm_peak_kb": int(fields["VmPeak"].split()[0]),
        "vm_size_kb": int(fields["VmSize"].split()[0]),
        "ppid": os.getppid(),
    }
