"""The other files of the project that linting reads in this process, each with the digest
of the bytes read: the project index's class statements and rank inference's classes.

A finding depends on them, so the result cache keeps them with it (a warm run reuses it
only while each still has that digest). The log grows for the life of the process, or
until a run forgets it: answers are memoised across the files a process lints, so a file
may lean on what an earlier one read.
"""

from __future__ import annotations

import hashlib
from typing import Optional

# A path as it was read (as the project's paths write it, or absolute: rank inference finds
# a class's file from its module key): the digest of its bytes ("" when unreadable).
_read: dict[str, str] = {}


def content_digest(data: bytes) -> str:
    """The digest a file's content is known by, in the cache and in this log."""
    return hashlib.sha256(data).hexdigest()[:32]


def read_project_file(path: str) -> Optional[bytes]:
    """The bytes of another file of the project (None when unreadable), noted as read."""
    try:
        with open(path, "rb") as file:
            data: Optional[bytes] = file.read()
    except OSError:
        data = None
    _read[path] = "" if data is None else content_digest(data)
    return data


def files_read() -> dict[str, str]:
    """What this process has read so far: each file's path, as read, with its digest."""
    return dict(_read)


def forget_files_read() -> None:
    """Start the log again (a run starts with nothing read)."""
    _read.clear()
