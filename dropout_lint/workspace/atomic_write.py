"""Replacing a file's contents so that a crash leaves either the old file or the new one.

The new bytes go to a temporary file in the same directory (so the rename cannot cross
file systems), are flushed to disk, get the old file's permissions, and replace it with
``os.replace``. A symlink is written through: its target changes, the link stays a link.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile


class ChangedOnDisk(Exception):
    """The file no longer holds what was read and fixed: someone else wrote it meanwhile."""


def replace_file_contents(path: str, data: bytes, expected: bytes) -> None:
    """Write ``data`` to ``path`` atomically, if it still holds ``expected``.

    Raises OSError when the file cannot be written, ChangedOnDisk when it was modified
    since it was read.
    """
    target = os.path.realpath(path)
    with open(target, "rb") as current:
        if current.read() != expected:
            raise ChangedOnDisk(path)
    status = os.stat(target)
    if not _is_writable(target, status):
        raise PermissionError(errno.EACCES, "read-only file", path)
    directory, name = os.path.split(target)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        if hasattr(os, "chown") and (status.st_uid, status.st_gid) != _owner(temporary):
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except PermissionError:
                pass  # only root may give a file away; the mode is what matters
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    _sync_directory(directory)


def _is_writable(path: str, status: os.stat_result) -> bool:
    """Whether we may write the file, by access and by its mode.

    Replacing a file needs only the directory's permission, so without this check a
    read-only file would be rewritten; and for root ``os.access`` allows everything.
    """
    write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    return os.access(path, os.W_OK) and bool(status.st_mode & write_bits)


def _owner(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_uid, status.st_gid


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable, where the platform allows opening a directory."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
