"""steps/decode.sh and steps/score.sh with --max-jobs: jobs overlap, every one runs, and a
failing one fails the stage after the others finished."""
from conftest import REPO, run

# A decoder that records its run; system "b" waits until another decode has started (so it
# passes only when two run at once), system "bad" fails.
FAKE = """#!/usr/bin/env bash
while [ $# -gt 0 ]; do case $1 in --model) model=$2; shift 2;; --out) out=$2; shift 2;; *) data=$1; shift;; esac; done
touch "started.$(basename "$model")"
if [ "$(basename "$model")" = b ] && [ "${WAIT_FOR_OTHER:-0}" = 1 ]; then
  for i in $(seq 100); do ls started.* | grep -qv started.b && break; sleep 0.1; done
  ls started.* | grep -qv started.b || { echo "no other decode ran at once" >&2; exit 1; }
fi
[ "$(basename "$model")" = bad ] && { echo "bad model" >&2; exit 3; }
mkdir -p "$out" && echo "$data threads=${OMP_NUM_THREADS:-unset}" > "$out/result"
"""


def recipe(tmp_path):
    for name in ("steps", "utils"):
        (tmp_path / name).symlink_to(REPO / name)
    fake = tmp_path / "fake_decode.sh"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    return tmp_path


def decode(tmp_path, systems, max_jobs, check=True, env=None):
    env = {"WAIT_FOR_OTHER": "1" if max_jobs > 1 else "0", **(env or {})}
    return run(f"unset OMP_NUM_THREADS; steps/decode.sh --max-jobs {max_jobs} "
               f"--decoder ./fake_decode.sh '{systems}' 'dev test'", cwd=tmp_path, check=check,
               env=env)


def test_decodes_run_at_once_with_one_thread_each(tmp_path):
    recipe(tmp_path)
    decode(tmp_path, "a b c", 2)
    for system in "abc":
        for x in ("dev", "test"):
            result = (tmp_path / "exp" / system / f"decode_{x}" / "result").read_text()
            assert result == f"data/{x} threads=1\n"


def test_one_job_at_a_time_keeps_the_threads(tmp_path):
    recipe(tmp_path)
    decode(tmp_path, "a c", 1)
    assert (tmp_path / "exp" / "c" / "decode_test" / "result").read_text() == \
        "data/test threads=unset\n"


def test_a_failed_decode_fails_the_stage_after_the_others(tmp_path):
    recipe(tmp_path)
    proc = decode(tmp_path, "a bad c", 2, check=False)
    assert proc.returncode != 0
    assert "steps/decode.sh: a decode failed; its log names the cause" in proc.stderr
    assert (tmp_path / "exp" / "c" / "decode_test" / "result").is_file()
    assert "bad model" in (tmp_path / "exp" / "bad" / "decode_dev" / "log" / "decode.log").read_text()


def test_scoring_at_once_then_results(tmp_path):
    recipe(tmp_path)
    decode(tmp_path, "a c", 2)
    scorer = tmp_path / "fake_score.sh"
    scorer.write_text('#!/usr/bin/env bash\necho \'{"accuracy": 50.0}\' > "$1/scores.json"\n')
    scorer.chmod(0o755)
    run("steps/score.sh --max-jobs 2 --scorer ./fake_score.sh 'a c'", cwd=tmp_path)
    for system in "ac":
        assert (tmp_path / "exp" / system / "decode_dev" / "scores.json").is_file()
        assert "accuracy" in (tmp_path / "exp" / system / "RESULTS.md").read_text()


# A `speechkit train` that records its threads; the seed-2 run waits until another has started.
FAKE_TRAIN = """#!/usr/bin/env bash
while [ $# -gt 0 ]; do case $1 in --exp-dir) exp=$2; shift 2;; train.seed=*) seed=${1#*=}; shift;; *) shift;; esac; done
mkdir -p "$exp" && touch "started.$seed"
if [ "$seed" = 2 ]; then
  for i in $(seq 100); do ls started.* | grep -qv started.2 && break; sleep 0.1; done
  ls started.* | grep -qv started.2 || { echo "no other training ran at once" >&2; exit 1; }
fi
[ "$seed" = 9 ] && { echo "diverged" >&2; exit 3; }
echo "threads=${OMP_NUM_THREADS:-unset}" > "$exp/result"
"""


def train(tmp_path, seeds, max_jobs, check=True):
    recipe(tmp_path)
    (tmp_path / "bin").mkdir(exist_ok=True)
    fake = tmp_path / "bin" / "speechkit"
    fake.write_text(FAKE_TRAIN)
    fake.chmod(0o755)
    return run(f"unset OMP_NUM_THREADS; PATH=$PWD/bin:$PATH steps/train.sh --max-jobs {max_jobs} "
               f"--tag multi conf/train_a.yaml '{seeds}' data/train data/dev", cwd=tmp_path,
               check=check)


def test_trainings_run_at_once_with_one_thread_each(tmp_path):
    train(tmp_path, "1 2 3", 2)
    for seed in (1, 2, 3):
        assert (tmp_path / "exp" / f"train_a_multi_seed{seed}" / "result").read_text() == "threads=1\n"


def test_a_failed_training_fails_the_stage_after_the_others(tmp_path):
    proc = train(tmp_path, "9 1", 1, check=False)
    assert proc.returncode != 0
    assert "steps/train.sh: a training failed; its log names the cause" in proc.stderr
    assert (tmp_path / "exp" / "train_a_multi_seed1" / "result").read_text() == "threads=unset\n"
    assert "diverged" in (tmp_path / "exp" / "train_a_multi_seed9" / "log" / "train.log").read_text()
