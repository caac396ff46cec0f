"""The one atomic writer: the whole new file or the old one, the user's umask, one-line reasons."""

import errno
import os
import stat

import pytest

from nnviz.core import files
from nnviz.core.files import WriteError, current_umask, write_atomic

OLD = b"old contents\n"


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def umask():
    """Sets the process's umask for the test, and puts the old one back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_the_file_gets_the_mode_the_umask_implies(tmp_path, umask, mask, mode):
    umask(mask)
    assert current_umask() == mask
    path = tmp_path / "out.csv"
    write_atomic(path, "a,b\n1,2\n")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    write_atomic(path, b"\x89PNG")  # a replaced file too
    assert stat.S_IMODE(path.stat().st_mode) == mode and path.read_bytes() == b"\x89PNG"


def test_the_umask_is_read_without_proc_too(tmp_path, umask, monkeypatch):
    umask(0o027)
    real_open = open

    def no_proc(name, *args, **kwargs):
        if str(name).startswith("/proc"):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory")
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr("builtins.open", no_proc)
    assert current_umask() == 0o027
    monkeypatch.undo()
    assert os.umask(0o027) == 0o027  # left as it was


def test_text_is_written_as_utf8_and_whole(tmp_path):
    path = tmp_path / "t.txt"
    text = "β,γ\n" * 100_000
    write_atomic(path, text)
    assert path.read_text(encoding="utf-8") == text and _names(tmp_path) == ["t.txt"]


def _fail_on(monkeypatch, name, code):
    real = getattr(os, name)

    def failing(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files.os, name, failing)
    return real


@pytest.mark.parametrize("step", ["write", "fsync", "replace", "fchmod"])
def test_a_full_disk_at_any_step_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, step):
    path = tmp_path / "keep.csv"
    path.write_bytes(OLD)
    _fail_on(monkeypatch, step, errno.ENOSPC)
    with pytest.raises(WriteError) as info:
        write_atomic(path, "new\n" * 1000)
    assert str(info.value) == f"{path}: cannot write: no space left on the device"
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    monkeypatch.undo()
    assert path.read_bytes() == OLD and _names(tmp_path) == ["keep.csv"]


def test_a_short_write_is_continued_not_truncated(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(files.os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    path = tmp_path / "out.txt"
    write_atomic(path, "0123456789" * 10)
    assert path.read_text() == "0123456789" * 10


def test_a_write_that_writes_nothing_is_a_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "write", lambda fd, data: 0)
    path = tmp_path / "out.txt"
    with pytest.raises(WriteError, match="no space left on the device"):
        write_atomic(path, "x")
    assert _names(tmp_path) == []


def test_other_reasons_are_the_systems_words(tmp_path, monkeypatch):
    path = tmp_path / "keep.csv"
    path.write_bytes(OLD)
    _fail_on(monkeypatch, "fsync", errno.EIO)
    with pytest.raises(WriteError, match=r"keep.csv: cannot write: Input/output error$"):
        write_atomic(path, "new")
    monkeypatch.undo()
    with pytest.raises(WriteError, match="cannot write: No such file or directory$"):
        write_atomic(tmp_path / "missing" / "x.csv", "new")
    with pytest.raises(WriteError, match="is a folder; give a file name$"):
        write_atomic(tmp_path, "new")
    assert path.read_bytes() == OLD and _names(tmp_path) == ["keep.csv"]


def test_ctrl_c_while_writing_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "keep.csv"
    path.write_bytes(OLD)

    def interrupted(fd, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "new")
    monkeypatch.undo()
    assert path.read_bytes() == OLD and _names(tmp_path) == ["keep.csv"]


def test_a_very_long_name_still_gets_a_temporary_file(tmp_path):
    path = tmp_path / ("n" * 250)
    write_atomic(path, "x")
    assert path.read_text() == "x" and _names(tmp_path) == ["n" * 250]


def test_messages_cut_a_very_long_path(tmp_path):
    path = tmp_path / ("d" * 200) / ("n" * 200)
    with pytest.raises(WriteError) as info:
        write_atomic(path, "x")
    assert len(str(info.value)) < 300 and "(" in str(info.value)
