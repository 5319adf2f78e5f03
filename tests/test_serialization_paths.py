"""gradienti.save to paths and file objects: special files, permissions, links, bad names."""

import contextlib
import io
import os
import pathlib
import stat
import tempfile
import threading

import numpy as np
import pytest

import gradienti
from gradienti.serialization import load, save

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX files and permissions")


def _values(t):
    return np.asarray(t.detach().numpy()).tolist()


def _saved_bytes(obj):
    buffer = io.BytesIO()
    save(obj, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ special files
@contextlib.contextmanager
def _fifo_reader(path):
    """Make ``path`` a FIFO and read it to its end in a thread; yields the list of what it read."""
    os.mkfifo(path)
    # A second name for the FIFO: if save replaced the first instead of writing to it, the
    # reader, blocked opening the FIFO, is let go through this one rather than hanging the test.
    spare = path.with_name(path.name + ".spare")
    os.link(path, spare)
    received = []
    reader = threading.Thread(target=lambda: received.append(path.read_bytes()), daemon=True)
    reader.start()
    try:
        yield received
    finally:
        with contextlib.suppress(OSError):  # ENXIO: the reader has already finished
            os.close(os.open(spare, os.O_WRONLY | os.O_NONBLOCK))
        reader.join()


@posix_only
def test_save_to_a_fifo_writes_into_it_and_keeps_it_a_fifo(tmp_path):
    path = tmp_path / "pipe"
    sd = {"w": gradienti.arange(50000, dtype=gradienti.float32), "n": 3}  # > a pipe's buffer
    with _fifo_reader(path) as received:
        save(sd, path)
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    with tempfile.TemporaryDirectory() as elsewhere:
        regular = pathlib.Path(elsewhere) / "pipe"  # the same name: the same archive folder
        save(sd, regular)
        assert received == [regular.read_bytes()]
    back = load(io.BytesIO(received[0]))
    assert _values(back["w"]) == _values(sd["w"]) and back["n"] == 3
    assert sorted(os.listdir(tmp_path)) == ["pipe", "pipe.spare"]


@posix_only
def test_load_from_a_fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    payload = _saved_bytes({"w": gradienti.ones(3)})
    writer = threading.Thread(target=path.write_bytes, args=(payload,), daemon=True)
    writer.start()
    back = load(path)
    writer.join()
    assert _values(back["w"]) == [1.0, 1.0, 1.0]


def _private_null(tmp_path):
    """A character device like /dev/null inside tmp_path, where making one is allowed."""
    null = os.stat("/dev/null")
    path = tmp_path / "null"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, null.st_rdev)
        os.close(os.open(path, os.O_WRONLY))  # a filesystem mounted nodev refuses to open it
    except (OSError, AttributeError):
        return None
    return path


@posix_only
def test_save_to_a_character_device_keeps_it_a_device(tmp_path):
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    # A private copy of /dev/null first (as root): if save still replaced special files, only
    # that copy is lost. Without root, replacing /dev/null itself fails rather than harms.
    targets = [path for path in (_private_null(tmp_path), "/dev/null") if path is not None]
    for target in targets:
        save({"w": gradienti.ones(1000)}, target)
        assert stat.S_ISCHR(os.stat(target).st_mode), target
        assert os.path.getsize(target) == 0
        with pytest.raises(EOFError):
            load(target)  # reads nothing back: EOFError, as from torch.load("/dev/null")
    assert os.listdir(tmp_path) in ([], ["null"])


# ------------------------------------------------------------------- permissions and owners
@posix_only
@pytest.mark.parametrize("mode", [0o664, 0o600, 0o640, 0o777], ids=oct)
def test_resaving_keeps_the_files_mode_bits(tmp_path, mode):
    target = tmp_path / "m.safetensors"
    save(gradienti.ones(1), target)
    os.chmod(target, mode)
    umask = os.umask(0o022)  # masks 0o664 to 0o644 for a file that is created afresh
    try:
        save(gradienti.zeros(2), target)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(target).st_mode) == mode
    assert _values(load(target)) == [0.0, 0.0]


@posix_only
def test_resaving_keeps_the_files_owner_and_group(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    target = tmp_path / "o.safetensors"
    save(gradienti.ones(1), target)
    os.chown(target, 4321, 8765)
    os.chmod(target, 0o6640)  # set-user-ID and set-group-ID: a chown would clear them
    save(gradienti.zeros(2), target)
    after = os.stat(target)
    assert (after.st_uid, after.st_gid) == (4321, 8765)
    assert stat.S_IMODE(after.st_mode) == 0o6640
    assert _values(load(target)) == [0.0, 0.0]


def test_save_to_new_file_has_umask_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    umask = os.umask(0o022)
    try:
        save(gradienti.ones(1), tmp_path / "n.safetensors")
    finally:
        os.umask(umask)
    assert (tmp_path / "n.safetensors").stat().st_mode & 0o777 == 0o644


# ----------------------------------------------------------------------------- atomic saving
def test_failed_replace_leaves_existing_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "good.safetensors"
    save({"w": gradienti.ones(3)}, target)
    before = target.read_bytes()

    def fail(*args):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk on fire"):
        save({"w": gradienti.zeros(1000)}, target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["good.safetensors"]


def test_failure_mid_write_leaves_existing_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "good.safetensors"
    save({"w": gradienti.ones(3)}, target)
    before = target.read_bytes()
    real_fdopen = os.fdopen

    class HalfWriter:
        def __init__(self, f):
            self.f, self.calls = f, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, chunk):
            self.calls += 1
            if self.calls == 3:  # the length and header went out; die inside the data
                self.f.write(chunk[: len(chunk) // 2])
                raise OSError("No space left on device")
            return self.f.write(chunk)

        def __getattr__(self, name):
            return getattr(self.f, name)

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: HalfWriter(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        save({"w": gradienti.zeros(1000), "v": gradienti.zeros(10)}, target)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["good.safetensors"]
    assert _values(load(target)["w"]) == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------------- hard links
@posix_only
def test_saving_to_a_hard_linked_file_updates_every_link(tmp_path):
    first, second = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save(gradienti.ones(1), first)
    os.link(first, second)
    inode = os.stat(first).st_ino
    save({"x": gradienti.zeros(3)}, first)
    assert _values(load(second)["x"]) == [0.0, 0.0, 0.0]
    save({"x": gradienti.ones(2)}, second)
    assert _values(load(first)["x"]) == [1.0, 1.0]
    assert os.stat(first).st_ino == os.stat(second).st_ino == inode
    assert os.stat(first).st_nlink == 2
    assert sorted(os.listdir(tmp_path)) == ["a.safetensors", "b.safetensors"]


def test_a_single_link_file_is_replaced_atomically(tmp_path, monkeypatch):
    target = tmp_path / "one.safetensors"
    save(gradienti.ones(1), target)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(b), real_replace(a, b)))
    save(gradienti.zeros(1), target)
    assert replaced == [os.path.realpath(target)]
    assert _values(load(target)) == [0.0]


def test_save_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.safetensors"
    save(gradienti.ones(1), target)
    try:
        (tmp_path / "link.safetensors").symlink_to(target)
    except (OSError, NotImplementedError):
        pytest.skip("no symlinks here")
    save(gradienti.zeros(2), tmp_path / "link.safetensors")
    assert (tmp_path / "link.safetensors").is_symlink()
    assert _values(load(target)) == [0.0, 0.0]


# ----------------------------------------------------------- names that are not files (torch)
def _torch_save_error(torch, where):
    with pytest.raises(Exception) as info:  # noqa: B017 - the class is what is compared
        torch.save(torch.ones(2), where)
    return info.value


@pytest.mark.parametrize(
    "where",
    ["existing/name/", "missing/name/", "name/", "", ".", "existing/.", "existing//",
     "missing/x.pt", "existing", "..", "existing/.."],
)  # fmt: skip
def test_bad_destination_raises_like_torch_and_writes_nothing(tmp_path, monkeypatch, where):
    torch = pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    os.mkdir("existing")
    theirs = _torch_save_error(torch, where)
    with pytest.raises(Exception) as info:  # noqa: B017 - compared with torch's below
        save(gradienti.ones(2), where)
    ours = info.value
    assert type(ours) is type(theirs) is RuntimeError
    # torch's text has a C++ source location in front: "[enforce fail at ...] . invalid ..."
    assert str(theirs).endswith(str(ours)), (str(ours), str(theirs))
    assert sorted(os.listdir(tmp_path)) == ["existing"] and os.listdir("existing") == []


def test_save_into_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .*nope does not exist"):
        save(gradienti.ones(1), tmp_path / "nope" / "x.safetensors")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- file objects
def test_bytes_io_round_trip_from_the_current_position():
    sd = {"w": gradienti.arange(6, dtype=gradienti.float64).reshape(2, 3), "step": 7}
    buffer = io.BytesIO()
    buffer.write(b"prefix")
    save(sd, buffer)
    assert buffer.getvalue()[:6] == b"prefix"
    buffer.seek(6)
    back = load(buffer)
    assert _values(back["w"]) == _values(sd["w"]) and back["step"] == 7


def test_open_binary_file_round_trip(tmp_path):
    t = gradienti.tensor([[1, 2], [3, 4]], dtype=gradienti.int16)
    with open(tmp_path / "f.bin", "wb") as out:
        save(t, out)
    with open(tmp_path / "f.bin", "rb") as source:
        back = load(source)
    assert back.dtype == gradienti.int16 and _values(back) == [[1, 2], [3, 4]]


def test_failed_save_to_a_file_object_writes_nothing():
    buffer = io.BytesIO()
    cyclic = []
    cyclic.append(cyclic)
    for bad in ({"a": object()}, cyclic):
        with pytest.raises((TypeError, ValueError)):
            save(bad, buffer)
    assert buffer.getvalue() == b""


def test_an_empty_file_raises_what_torch_load_raises(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    for make_source in (lambda: path, lambda: str(path), lambda: io.BytesIO()):
        with pytest.raises(EOFError):
            gradienti.load(make_source())
        with pytest.raises(EOFError):
            torch.load(make_source(), weights_only=True)
    for source in (path, str(path)):
        with pytest.raises(RuntimeError) as ours:
            gradienti.load(source, mmap=True)
        with pytest.raises(RuntimeError) as theirs:
            torch.load(source, mmap=True, weights_only=True)
        assert str(ours.value) == str(theirs.value)
