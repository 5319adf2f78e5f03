"""Writing ``gradienti.save``'s bytes to a path, the way each kind of file needs.

* A regular file, new or existing with a single link, is replaced atomically: the bytes go to a
  temporary file in the same directory that then takes the file's name, so no reader ever sees
  half a file and a failed save leaves the old file as it was. A replaced file keeps its
  permission bits and, where the process may set them, its owner and group.
* An existing regular file with more than one hard link is rewritten in place, so that every
  link sees the new content (replacing it would silently split the links into an old and a new
  file). That write is not atomic: if it fails midway (a full disk), the file is left partly
  written.
* Anything else (a FIFO, a character device such as ``/dev/null``, a socket) is opened and
  written directly, as ``torch.save`` does: replacing it would destroy the special file.

A name that cannot be a file, a missing parent directory, or a destination that cannot be
opened raises ``RuntimeError`` with ``torch.save``'s text; the ``OSError`` is its ``__cause__``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat

__all__ = ["check_destination", "write_file"]

# Room for ".<name>.<12 hex digits>.tmp" inside the usual 255-byte limit on a file name.
_TEMPORARY_BASE_CHARS = 200


def check_destination(name: str) -> None:
    """Refuse, as ``torch.save`` does, a path that cannot name a file to write."""
    head, tail = os.path.split(name)
    if tail in ("", "."):  # "", "dir/name/", "dir/.": no file name at the end
        raise RuntimeError(f"invalid file name: {name}")
    if head and not os.path.isdir(head):
        raise RuntimeError(f"Parent directory {head} does not exist.")


def write_file(name: str, chunks: list) -> None:
    """Write ``chunks`` (bytes-like) to the file ``name`` as the module docstring describes."""
    try:
        existing = os.stat(name)  # through symlinks: the kind of file that would be written
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise _open_failed(error) from error
    if existing is not None and (not stat.S_ISREG(existing.st_mode) or existing.st_nlink > 1):
        _write_in_place(name, chunks)
    else:
        # Through a symlink, replace the file it points to and leave the link alone.
        _replace(os.path.realpath(name), chunks, existing)


def _open_failed(error: OSError) -> RuntimeError:
    return RuntimeError(f"open file failed with strerror: {error.strerror}")


def _write_in_place(name: str, chunks: list) -> None:
    try:
        out = open(name, "wb")  # noqa: SIM115 - closed by the with below
    except OSError as error:
        raise _open_failed(error) from error
    with out:
        for chunk in chunks:
            out.write(chunk)


def _replace(path: str, chunks: list, existing: os.stat_result | None) -> None:
    directory, base = os.path.split(path)
    # A new file gets the permissions open() would give it (0o666 less the umask). A replaced
    # file's owner and mode are copied onto the temporary below, so until then it is private.
    fd, temporary = _create_temporary(directory, base, 0o666 if existing is None else 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            if existing is not None:
                _copy_owner_and_mode(out.fileno(), temporary, existing)
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _create_temporary(directory: str, base: str, mode: int) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f".{base[:_TEMPORARY_BASE_CHARS]}.{secrets.token_hex(6)}.tmp"
        temporary = os.path.join(directory, name)
        try:
            return os.open(temporary, flags, mode), temporary
        except FileExistsError:
            continue
        except OSError as error:
            raise _open_failed(error) from error
    raise RuntimeError(  # pragma: no cover - a hundred random names all taken
        f"gradienti.save: could not create a temporary file in {directory}"
    )


def _copy_owner_and_mode(fd: int, temporary: str, existing: os.stat_result) -> None:
    if hasattr(os, "fchown"):
        # Only root may give a file to another user; anyone may keep a group they belong to.
        for user in (existing.st_uid, -1):
            try:
                os.fchown(fd, user, existing.st_gid)
                break
            except OSError:
                continue
    # After the chown, which clears the set-user-ID and set-group-ID bits.
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
