"""utils/download_and_untar.sh, the shared part of the recipes' local/download_and_untar.sh.

Tiny archives are made in tmp_path; nothing is downloaded (a refused 127.0.0.1 URL stands in for
no network).
"""
import tarfile

from conftest import REPO, run

DOWNLOAD = REPO / "utils" / "download_and_untar.sh"
NOWHERE = "http://127.0.0.1:9"          # connection refused: proves no download is attempted


def make_archive(path, files):
    """A .tar.gz at `path` holding {name: text}."""
    src = path.parent / (path.name + ".src")
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            f = src / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text)
            tar.add(f, arcname=name)
    return path


def test_an_archive_placed_by_hand_is_unpacked_once(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    make_archive(dest / "tiny.tar.gz", {"tiny/a.wav": "a", "tiny/b.wav": "b", "README": "r"})
    out = run(f"{DOWNLOAD} --remove-archive {NOWHERE}/tiny.tar.gz {dest} tiny README "
              f"'tiny/*.wav'")
    assert (dest / "tiny" / "a.wav").read_text() == "a" and (dest / "README").is_file()
    assert (dest / ".done").is_file() and not (dest / "tiny.tar.gz").exists()
    assert "downloading" not in out.stderr
    (dest / "README").unlink()
    out = run(f"{DOWNLOAD} {NOWHERE}/tiny.tar.gz {dest} README")     # .done: nothing is redone
    assert "already" in out.stderr and ".done" in out.stderr
    assert not (dest / "README").exists()


def test_archive_name_comes_from_the_url_or_archive_option(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    make_archive(dest / "real.tar.gz", {"x.txt": "x"})
    run(f"{DOWNLOAD} --archive real.tar.gz '{NOWHERE}/mirror.tgz?dl=1' {dest} x.txt")
    assert (dest / "x.txt").is_file() and (dest / ".done").is_file()
    out = run(f"{DOWNLOAD} {NOWHERE}/ {tmp_path}/y", check=False)
    assert out.returncode != 0 and "pass --archive NAME" in out.stderr
    assert not (tmp_path / "y").exists()


def test_a_missing_required_path_is_one_line_and_not_done(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    make_archive(dest / "tiny.tar.gz", {"tiny/README": "no wavs"})
    for required in ("other", "'tiny/*.wav'"):
        out = run(f"{DOWNLOAD} {NOWHERE}/tiny.tar.gz {dest} tiny {required}", check=False)
        assert out.returncode != 0
        err = [line for line in out.stderr.strip().splitlines() if "error" in line]
        assert len(err) == 1 and f"did not unpack {required.strip(chr(39))} into {dest}" in err[0]
        assert "right archive" in err[0]
        assert not (dest / ".done").exists() and (dest / "tiny.tar.gz").is_file()


def test_an_invalid_archive_is_reported(tmp_path):
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "bad.tar.gz").write_bytes(b"<html>not a tarball</html>")
    out = run(f"{DOWNLOAD} {NOWHERE}/bad.tar.gz {dest}", check=False)
    assert out.returncode != 0 and "is not a valid .tar.gz" in out.stderr
    assert not (dest / ".done").exists()


def test_a_failed_download_leaves_no_part_file(tmp_path):
    out = run(f"{DOWNLOAD} {NOWHERE}/none.tar.gz {tmp_path}/y", check=False)
    assert out.returncode != 0
    err = [line for line in out.stderr.strip().splitlines() if "error" in line]
    assert len(err) == 1
    assert f"error: could not download {NOWHERE}/none.tar.gz" in err[0]
    assert f"{tmp_path}/y/none.tar.gz by hand" in err[0]
    assert not list((tmp_path / "y").iterdir())        # no .part, no .done


def test_usage_and_unknown_option(tmp_path):
    assert run(f"{DOWNLOAD} {NOWHERE}/a.tar.gz", check=False).returncode != 0
    out = run(f"{DOWNLOAD} --bogus {NOWHERE}/a.tar.gz {tmp_path}/z", check=False)
    assert out.returncode != 0 and "unknown option --bogus" in out.stderr


def test_zip_and_bz2_archives_unpack(tmp_path):
    import tarfile
    import zipfile
    dest = tmp_path / "z"
    dest.mkdir()
    with zipfile.ZipFile(dest / "Audio_Speech_Actors_01-24.zip", "w") as z:
        z.writestr("Actor_01/03-01-01-01-01-01-01.wav", "x")
    run(f"{DOWNLOAD} {NOWHERE}/Audio_Speech_Actors_01-24.zip {dest} 'Actor_*/*.wav'")
    assert (dest / "Actor_01" / "03-01-01-01-01-01-01.wav").read_text() == "x"
    dest = tmp_path / "b"
    dest.mkdir()
    src = tmp_path / "readme"
    src.write_text("r")
    with tarfile.open(dest / "a.tar.bz2", "w:bz2") as t:
        t.add(src, arcname="arctic/README")
    run(f"{DOWNLOAD} {NOWHERE}/a.tar.bz2 {dest} arctic/README")
    assert (dest / "arctic" / "README").read_text() == "r"
