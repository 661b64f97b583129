"""Data-dir contract: validate, fix, subset, combine, split, copy, through the utils/ scripts."""
from pathlib import Path

import pytest

from conftest import REPO, run
from speechkit.data import ops
from speechkit.data.validate import validate
from speechkit.errors import SpeechkitError
from speechkit.io import read_dict, read_table

UTILS = REPO / "utils"


def test_valid_dir_passes(datadir):
    assert validate(datadir, no_feats=True) == []
    out = run(f"{UTILS}/validate_data_dir.sh --no-feats {datadir}")
    assert "Successfully validated" in out.stderr


def test_validator_names_file_line_key_and_fix(datadir):
    (datadir / "text").write_text((datadir / "text").read_text() + "spkB-999 extra words\n")
    out = run(f"{UTILS}/validate_data_dir.sh --no-feats {datadir}", check=False)
    assert out.returncode == 1
    assert f"{datadir}/text:7 (key spkB-999): not in utt2spk; run utils/fix_data_dir.sh" in out.stderr


def test_validator_requires_feats_unless_told(datadir):
    problems = validate(datadir)
    assert any("feats.scp: no such file (if this is by design, use --no-feats)" in p for p in problems)


def test_validator_speaker_prefix_and_sorting(datadir):
    (datadir / "utt2spk").write_text("spkA-000 spkA\nspkA-001 other\nspkA-002 spkA\n")
    problems = validate(datadir, no_feats=True, no_text=True, no_wav=True)
    assert any("utt2spk:2 (key spkA-001): speaker id other is not a prefix" in p for p in problems)
    (datadir / "utt2spk").write_text("spkB-000 spkB\nspkA-000 spkA\n")
    problems = validate(datadir, no_feats=True, no_text=True, no_wav=True)
    assert any("utt2spk:2 (key spkA-000): not sorted" in p and "LC_ALL=C sort" in p for p in problems)


def test_validator_missing_audio(datadir):
    (datadir / "wav.scp").write_text((datadir / "wav.scp").read_text().replace("spkA-001.wav", "gone.wav"))
    problems = validate(datadir, no_feats=True)
    assert any("wav.scp:2 (key spkA-001): audio file" in p and "does not exist" in p for p in problems)


def test_fix_keeps_intersection(datadir):
    lines = (datadir / "text").read_text().splitlines()
    # Drop one utterance from text, shuffle and duplicate the rest: the fixer sorts and dedups.
    (datadir / "text").write_text("\n".join(lines[3:] + lines[1:2] + lines[1:2]) + "\n")
    out = run(f"{UTILS}/fix_data_dir.sh {datadir}")
    assert "kept 4 of 6" in out.stderr
    assert list(read_dict(datadir / "utt2spk")) == ["spkA-001", "spkB-000", "spkB-001", "spkB-002"]
    assert read_dict(datadir / "spk2utt")["spkA"] == "spkA-001"
    assert (datadir / ".backup" / "text").is_file()
    assert validate(datadir, no_feats=True) == []


@pytest.mark.parametrize("args,expected", [
    ("--first {src} 2 {dst}", ["spkA-000", "spkA-001"]),
    ("--last {src} 1 {dst}", ["spkB-002"]),
    ("--per-spk {src} 1 {dst}", ["spkA-000", "spkB-000"]),
    # subset_scp.pl on 6 lines, N=2: halves [0,3) and [3,6) need 1 each; each recursion gives
    # its need to its second half down to one line: indices 2 and 5.
    ("{src} 2 {dst}", ["spkA-002", "spkB-002"]),
])
def test_subset(datadir, tmp_path, args, expected):
    dst = tmp_path / "sub"
    run(f"{UTILS}/subset_data_dir.sh " + args.format(src=datadir, dst=dst))
    assert list(read_dict(dst / "utt2spk")) == expected
    assert list(read_dict(dst / "wav.scp")) == expected
    assert validate(dst, no_feats=True) == []


def test_subset_lists_and_shortest(datadir, tmp_path):
    (tmp_path / "spk").write_text("spkB\n")
    ops.subset(datadir, tmp_path / "b", spk_list=tmp_path / "spk")
    assert list(read_dict(tmp_path / "b" / "spk2utt")) == ["spkB"]
    with pytest.raises(SpeechkitError, match="needs utt2num_frames or utt2dur"):
        ops.subset(datadir, tmp_path / "s", shortest=2)
    (datadir / "utt2dur").write_text("".join(f"{u} {d}\n" for u, d in zip(
        read_dict(datadir / "utt2spk"), [3, 1, 2, 0.5, 5, 6])))
    ops.subset(datadir, tmp_path / "s", shortest=2)
    assert list(read_dict(tmp_path / "s" / "utt2spk")) == ["spkA-001", "spkB-000"]


def test_split_by_speaker_and_utt(datadir):
    root = Path(run(f"{UTILS}/split_data.sh {datadir} 2").stdout.strip())
    assert root == datadir / "split2"
    assert list(read_dict(root / "1" / "spk2utt")) == ["spkA"]
    assert list(read_dict(root / "2" / "spk2utt")) == ["spkB"]
    with pytest.raises(SpeechkitError, match="only 2 speakers"):
        ops.split(datadir, 3)
    root = ops.split(datadir, 4, per_utt=True)
    sizes = [len(read_table(root / str(j) / "utt2spk")) for j in range(1, 5)]
    assert sizes == [2, 1, 2, 1] or sorted(sizes) == [1, 1, 2, 2]
    assert sum(sizes) == 6


def test_combine_and_copy(datadir, tmp_path):
    ops.copy(datadir, tmp_path / "p", utt_prefix="sp1.1-", spk_prefix="sp1.1-")
    assert validate(tmp_path / "p", no_feats=True) == []
    (tmp_path / "p" / "utt2extra").write_text("sp1.1-spkA-000 x\n")
    run(f"{UTILS}/combine_data.sh {tmp_path}/all {datadir} {tmp_path}/p")
    assert len(read_table(tmp_path / "all" / "utt2spk")) == 12
    assert not (tmp_path / "all" / "utt2extra").exists()
    assert validate(tmp_path / "all", no_feats=True) == []


def test_spk2utt_conversions(datadir):
    out = run(f"{UTILS}/utt2spk_to_spk2utt.pl {datadir}/utt2spk").stdout
    assert out == (datadir / "spk2utt").read_text()
    out = run(f"{UTILS}/spk2utt_to_utt2spk < {datadir}/spk2utt").stdout
    assert out == (datadir / "utt2spk").read_text()


def test_parse_options(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text(f"""stage=0
nj=4
use_gpu=false
train_config=conf/a.yaml
. {UTILS}/parse_options.sh
echo "$stage $nj $use_gpu $train_config $*"
""")
    (tmp_path / "c.conf").write_text("nj=9\n")
    out = run(f"bash {script} --stage 3 --use-gpu true --config {tmp_path}/c.conf --train-config=x.yaml a b")
    assert out.stdout.strip() == "3 9 true x.yaml a b"
    bad = run(f"bash {script} --no-such-opt 1", check=False)
    assert bad.returncode == 1 and "invalid option --no-such-opt" in bad.stderr
    bad = run(f"bash {script} --use-gpu maybe", check=False)
    assert bad.returncode == 1 and "takes true or false" in bad.stderr


def test_parse_options_checks_integers(tmp_path):
    script = tmp_path / "s.sh"
    script.write_text(f"stage=0\nstop_stage=100\n. {UTILS}/parse_options.sh\necho \"$stage\"\n")
    for args in ("--stage abc", "--stage --stop-stage 3", "--stage 2.5"):
        bad = run(f"bash {script} {args}", check=False)
        assert bad.returncode == 1 and "takes an integer" in bad.stderr and not bad.stdout, args
    assert run(f"bash {script} --stage -1").stdout.strip() == "-1"


def test_parse_options_list_of_integers(tmp_path):
    """A declared integer named in list_options takes `--seeds "1 2"` (the recipes' seeds=1)."""
    script = tmp_path / "s.sh"
    script.write_text(f'stage=0\nseeds=1\nlist_options="seeds"\n. {UTILS}/parse_options.sh\n'
                      'echo "$seeds"\n')
    assert run(f"bash {script} --seeds '1 2 3'").stdout.strip() == "1 2 3"
    assert run(f"bash {script} --seeds 4").stdout.strip() == "4"
    for args in ("--seeds '1 x'", "--seeds ''", "--stage '1 2'"):
        bad = run(f"bash {script} {args}", check=False)
        assert bad.returncode == 1 and "takes" in bad.stderr and not bad.stdout, args
