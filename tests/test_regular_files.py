"""Output files are written only as regular files: a symbolic link is followed (its
target rewritten, the link kept); a device, fifo, socket or folder is refused, never
replaced by a regular file (a rename over ``/dev/full`` replaced the device)."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from sparsemom.numerics.cli import main
from sparsemom.numerics.runtime.atomic import NotRegularFile, write_text_atomic


def _fifo(path):
    os.mkfifo(path)
    return path


def _socket(path):
    """A bound Unix socket at ``path`` (closed at once: the file stays)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    return path


def _folder(path):
    path.mkdir()
    return path


NOT_REGULAR = {"fifo": (_fifo, stat.S_ISFIFO), "socket": (_socket, stat.S_ISSOCK),
               "folder": (_folder, stat.S_ISDIR)}


def test_a_link_to_a_regular_file_rewrites_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.tex"
    target.write_text("old")
    link = tmp_path / "link.tex"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"


def test_a_link_to_a_missing_file_creates_the_target(tmp_path):
    link = tmp_path / "link.md"
    link.symlink_to(tmp_path / "made.md")
    write_text_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "made.md").read_text() == "x"


@pytest.mark.parametrize("kind", NOT_REGULAR)
@pytest.mark.parametrize("through_link", [False, True], ids=["direct", "through a link"])
def test_a_file_that_is_not_regular_is_refused_and_left_alone(kind, through_link, tmp_path):
    make, is_kind = NOT_REGULAR[kind]
    special = make(tmp_path / "special")
    path = tmp_path / "link" if through_link else special
    if through_link:
        path.symlink_to(special)
    with pytest.raises(NotRegularFile, match=f"is a {kind}, not a regular file"):
        write_text_atomic(path, "x")
    assert is_kind(os.lstat(special).st_mode)
    assert path.is_symlink() == through_link
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted({"special", path.name})


@pytest.mark.parametrize("kind", NOT_REGULAR)
def test_latex_output_that_is_not_a_regular_file_is_one_error_line(kind, tmp_path, capsys):
    make, is_kind = NOT_REGULAR[kind]
    special = make(tmp_path / "special.tex")
    link = tmp_path / "link.tex"
    link.symlink_to(special)
    for path in (special, link):
        with pytest.raises(SystemExit) as exit_:
            main(["latex", "-o", str(path)])
        assert exit_.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("sparsemom latex: error: argument -o/--output:")
        assert f"is a {kind}" in err[-1] and "Traceback" not in "\n".join(err)
        assert is_kind(os.lstat(special).st_mode) and link.is_symlink()


def test_latex_through_a_link_writes_the_target(tmp_path, capsys):
    target = tmp_path / "doc.tex"
    target.write_text("old")
    link = tmp_path / "link.tex"
    link.symlink_to(target)
    assert main(["latex", "-o", str(link)]) == 0
    assert link.is_symlink() and target.read_text().startswith("\\documentclass")


def test_a_file_that_turns_out_not_regular_while_writing_is_one_error_line(tmp_path, capsys):
    """A file inside ``--out`` (known only when it is written): refused at the write,
    one ``error:`` line, status 2; the files before it are written, the fifo kept."""
    _fifo(tmp_path / "lsq_sgd_steps.py")
    with pytest.raises(SystemExit) as exit_:
        main(["codegen", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("sparsemom codegen: error:")
    assert "lsq_sgd_steps.py is a fifo" in err and "Traceback" not in err
    assert stat.S_ISFIFO(os.lstat(tmp_path / "lsq_sgd_steps.py").st_mode)


def test_an_output_folder_holding_an_entry_named_probe_is_accepted(tmp_path):
    """The folder probe wrote a file named ``probe`` through the regular-file check: a
    folder (or a link to a device) of that name in ``--out`` made the option fail."""
    from sparsemom.numerics.inputs.arguments import output_dir

    (tmp_path / "probe").mkdir()
    (tmp_path / "other").mkdir()
    os.symlink("/dev/null", tmp_path / "other" / "probe")
    for folder in (tmp_path, tmp_path / "other"):
        assert output_dir(str(folder)) == folder
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["probe", "other"] if folder == tmp_path else ["probe"])
