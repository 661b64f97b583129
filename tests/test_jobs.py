"""The job runners utils/run.py and utils/slurm.py (against a fake sbatch), end to end."""
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from speechkit.errors import SpeechkitError
from speechkit.jobs import slurm
from speechkit.jobs.script import FOOTER, footer_code
from speechkit.jobs.slurmconf import load_conf, parse_conf
from speechkit.jobs.spec import parse_args, shell_command

REPO = Path(__file__).resolve().parent.parent
RUN = str(REPO / "utils" / "run.py")
SLURM = str(REPO / "utils" / "slurm.py")

FAKE_SBATCH = """\
#!/bin/bash
# Fake sbatch: logs its arguments, runs the job script (last argument) in the background.
echo "$@" >>"$FAKE_SLURM/sbatch.args"
out=/dev/null
for ((i = 1; i < $#; i++)); do [ "${!i}" = --output ] && { j=$((i + 1)); out=${!j}; }; done
[ -n "$FAKE_SBATCH_NO_RUN" ] || bash "${@: -1}" >"$out" 2>&1 &
echo "Submitted batch job $((RANDOM + 1000))"
"""


def run(runner, *args, cwd, env=None, check_rc=None):
    proc = subprocess.run([sys.executable, runner, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def lines(path):
    return Path(path).read_text().splitlines()


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A PATH whose sbatch is the fake one (and no squeue/scancel unless a test adds them)."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(FAKE_SBATCH)
    (bin_dir / "sbatch").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM", str(tmp_path))
    return tmp_path


# --- the command line ---------------------------------------------------------------------------

def test_parse_range_options_and_substitution():
    spec = parse_args(["--mem", "2G", "JOB=2:4", "--num-threads=3", "-p", "gpu",
                       "log/x.JOB.log", "prog", "a.JOB", "ark:gunzip -c JOB.gz|"])
    assert (spec.var, spec.start, spec.end) == ("JOB", 2, 4)
    assert spec.options == {"mem": "2G", "num_threads": "3"} and spec.num_threads == 3
    assert spec.passthrough == ["-p", "gpu"]
    jobs = spec.jobs()
    assert [j.log for j in jobs] == ["log/x.2.log", "log/x.3.log", "log/x.4.log"]
    assert jobs[1].command == "prog a.3 'ark:gunzip -c 3.gz|'"
    assert spec.log_pattern() == "log/x.*.log"


def test_kaldi_quoting_keeps_shell_operators_and_the_first_word():
    assert shell_command(["echo a | tr a b"]) == "echo a | tr a b"
    assert shell_command(["echo", "x", "|", "wc", "-c", ">", "o"]) == "echo x | wc -c > o"
    assert shell_command(["printf", "%s\n", "a $b", ""]) == "printf '%s\n' 'a $b' ''"


@pytest.mark.parametrize("argv, message", [
    (["JOB=1:", "log/x.JOB.log", "true"], "is the number of jobs"),
    (["JOB=3:1", "log/x.JOB.log", "true"], "start 3 is after end 1"),
    (["JOB=1:2", "log/x.log", "true"], "put JOB in its name"),
    (["--mem"], "needs a value"),
    (["--gpu", "--mem", "2G", "log", "true"], "needs a value"),
    (["log/x.log"], "log-file command"),
    (["--max-jobs-run", "0", "log", "true"], None),
])
def test_bad_command_lines(argv, message):
    with pytest.raises(SpeechkitError, match=message):
        spec = parse_args(argv)
        spec.max_jobs_run   # noqa: B018 (validated when read)


# --- the local runner ---------------------------------------------------------------------------

def test_job_substitution_header_and_footer(tmp_path):
    run(RUN, "JOB=1:3", "exp/log/name.JOB.log", "echo", "job JOB", "JOB", cwd=tmp_path, check_rc=0)
    for i in 1, 2, 3:
        log = lines(tmp_path / f"exp/log/name.{i}.log")
        assert log[0] == f"# echo 'job {i}' {i}"
        assert re.match(r"^# Started at \S", log[1])
        assert f"job {i} {i}" in log
        assert re.match(r"^# Accounting: time=\d+ threads=1$", log[-2])
        assert FOOTER.match(log[-1]) and log[-1].startswith("# Ended (code 0) at ")


def test_failures_report_count_command_and_log_tail(tmp_path):
    cmd = ("echo start JOB; seq 101 120; "
           "[ JOB -ne 2 ] && [ JOB -ne 4 ] || { echo bad JOB >&2; exit 3; }")
    proc = run(RUN, "--num-threads", "1", "JOB=1:4", "log/t.JOB.log", cmd, cwd=tmp_path, check_rc=1)
    err = proc.stderr
    assert "run.py: 2 / 4 failed, log is in log/t.*.log" in err
    assert "log/t.2.log (code 3)" in err
    assert cmd.replace("JOB", "2") in err                      # the failing job's command
    assert "| bad 2" in err and "| 120" in err                 # the end of its log ...
    assert "| 101" not in err and "| start 2" not in err       # ... and only the end
    assert "# Ended" not in err
    assert footer_code(tmp_path / "log/t.4.log") == 3 and footer_code(tmp_path / "log/t.1.log") == 0


def test_max_jobs_run_is_respected(tmp_path):
    (tmp_path / "t").mkdir()
    stamp = "python3 -c 'import time; print(time.time())'"
    cmd = f"{stamp} > t/start.JOB; sleep 0.3; {stamp} > t/end.JOB"
    run(RUN, "--max-jobs-run", "2", "JOB=1:6", "log/m.JOB.log", cmd, cwd=tmp_path, check_rc=0)
    stamps = [[float((tmp_path / f"t/{what}.{i}").read_text()) for what in ("start", "end")]
              for i in range(1, 7)]
    most = max(sum(s <= t < e for s, e in stamps) for t, _ in stamps)
    assert most == 2


def test_pipes_redirections_and_quoted_words(tmp_path):
    run(RUN, "log/a.log", "echo hello | tr a-z A-Z", cwd=tmp_path, check_rc=0)
    assert "HELLO" in lines(tmp_path / "log/a.log")
    run(RUN, "JOB=1:2", "log/b.JOB.log", "echo", "x JOB", "|", "tr", "x", "y", ">", "out.JOB",
        cwd=tmp_path, check_rc=0)
    assert (tmp_path / "out.2").read_text() == "y 2\n"
    # Words with blanks reach the command as one word, literally (no $ expansion).
    run(RUN, "log/c.log", "printf", "[%s] ", "a  b", "$HOME x", cwd=tmp_path, check_rc=0)
    log = lines(tmp_path / "log/c.log")
    assert log[3] == "[a  b] [$HOME x] " and log[4].startswith("# Accounting: ")


def test_single_job_forms(tmp_path):
    run(RUN, "log/one.log", "echo", "alone", cwd=tmp_path, check_rc=0)
    assert "alone" in lines(tmp_path / "log/one.log")
    run(RUN, "JOB=7", "log/s.JOB.log", "echo", "n=JOB", cwd=tmp_path, check_rc=0)
    assert "n=7" in lines(tmp_path / "log/s.7.log")
    proc = run(RUN, "log/f.log", "exit 5", cwd=tmp_path, check_rc=1)
    assert "1 / 1 failed, log is in log/f.log" in proc.stderr
    assert footer_code(tmp_path / "log/f.log") == 5


def test_bad_input_is_one_line_error(tmp_path):
    proc = run(RUN, "JOB=1:", "log/x.JOB.log", "true", cwd=tmp_path, check_rc=1)
    assert proc.stderr.startswith("run.py: error: bad job range")
    assert len(proc.stderr.splitlines()) == 1


def test_shim_finds_the_package_without_pythonpath(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run(RUN, "log/x.log", "true", cwd=tmp_path, env=env, check_rc=0)


def test_killing_the_runner_kills_its_jobs(tmp_path):
    proc = subprocess.Popen([sys.executable, RUN, "JOB=1:2", "log/k.JOB.log",
                             "sleep 30 & echo $! > pid.JOB; wait"], cwd=tmp_path)
    pid_files = [tmp_path / "pid.1", tmp_path / "pid.2"]
    deadline = time.monotonic() + 10
    while not all(p.exists() and p.read_text().strip() for p in pid_files):
        assert time.monotonic() < deadline, "jobs did not start"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 128 + signal.SIGTERM
    for p in pid_files:
        assert not _alive(int(p.read_text()))


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")     # a zombie is dead, merely not yet reaped


# --- the Slurm runner ---------------------------------------------------------------------------

def test_slurm_runner_success(cluster):
    run(SLURM, "JOB=1:3", "exp/x/log/s.JOB.log", "echo", "on JOB", "|", "tr", "a-z", "A-Z",
        cwd=cluster, check_rc=0)
    for i in 1, 2, 3:
        log = lines(cluster / f"exp/x/log/s.{i}.log")
        assert log[0] == f"# echo 'on {i}' | tr a-z A-Z" and f"ON {i}" in log
        assert FOOTER.match(log[-1]) and footer_code(cluster / f"exp/x/log/s.{i}.log") == 0
        assert os.access(cluster / f"exp/x/log/q/s.{i}.sh", os.X_OK)
        assert not (cluster / f"exp/x/log/q/s.{i}.done").exists()
    args = (cluster / "sbatch.args").read_text().splitlines()
    assert len(args) == 3
    assert args[0].startswith("--job-name s.1 --output exp/x/log/q/s.1.out --export=PATH")


def test_slurm_failure_report_matches_local(cluster):
    argv = ["JOB=1:3", "log/f.JOB.log", "echo oops JOB; exit JOB"]
    local = run(RUN, *argv, cwd=cluster, check_rc=1).stderr
    remote = run(SLURM, *argv, cwd=cluster, check_rc=1).stderr
    assert remote == local.replace("run.py", "slurm.py")
    assert "3 / 3 failed, log is in log/f.*.log" in remote and "| oops 1" in remote


def test_slurm_config_translation_end_to_end(cluster):
    (cluster / "conf").mkdir()
    (cluster / "conf/slurm.conf").write_text(textwrap.dedent("""\
        command sbatch --export=PATH --account=speech   # a comment
        option mem=* --mem-per-cpu $0
        option num_threads=* --cpus-per-task $0
        default gpu=0
        option gpu=0 -p cpu
        option gpu=* -p gpu --gres=gpu:$0
        """))
    run(SLURM, "--mem", "4G", "--gpu", "2", "--num-threads", "3", "--max-jobs-run", "1",
        "-q", "high", "JOB=1:2", "log/c.JOB.log", "true", cwd=cluster, check_rc=0)
    args = (cluster / "sbatch.args").read_text().splitlines()[0]
    assert args.endswith("--export=PATH --account=speech --mem-per-cpu 4G -p gpu --gres=gpu:2 "
                         "--cpus-per-task 3 -q high log/q/c.1.sh")
    assert lines(cluster / "log/c.1.log")[-2].endswith("threads=3")
    proc = run(SLURM, "--time", "1:00", "log/c.log", "true", cwd=cluster, check_rc=1)
    assert "option --time 1:00 is not described in conf/slurm.conf" in proc.stderr


def test_slurm_conf_rules_and_default(tmp_path, monkeypatch):
    conf = parse_conf("command sbatch\noption mem=* --mem $0\noption mem=0\ndefault gpu=0\n"
                      "option gpu=0\noption gpu=* --gres=gpu:$0 -c $0\n", "x.conf")
    assert conf.translate({"mem": "0"}) == []
    assert conf.translate({"mem": "2G", "gpu": "2", "max_jobs_run": "3", "config": "x"}) == \
        ["--mem", "2G", "--gres=gpu:2", "-c", "2"]
    with pytest.raises(SpeechkitError, match=r"x.conf:2: cannot parse"):
        parse_conf("command sbatch\nopt mem=* --mem $0\n", "x.conf")
    with pytest.raises(SpeechkitError, match="no 'command' line"):
        parse_conf("option mem=* --mem $0\n", "x.conf")
    monkeypatch.chdir(tmp_path)
    default = load_conf()
    assert default.command == ["sbatch", "--export=PATH"]
    assert default.translate({"mem": "2G"}) == ["--mem-per-cpu", "2G"]
    assert default.translate({"gpu": "1"}) == ["-p", "gpu", "--gres=gpu:1"]
    with pytest.raises(SpeechkitError, match="no such file"):
        load_conf("conf/missing.conf")


def test_slurm_job_that_vanishes_is_reported(cluster, monkeypatch, capsys):
    (cluster / "fakebin/squeue").write_text("#!/bin/bash\ntrue\n")   # the queue is empty
    (cluster / "fakebin/squeue").chmod(0o755)
    monkeypatch.setenv("FAKE_SBATCH_NO_RUN", "1")                   # ... and nothing ran
    monkeypatch.setattr(slurm, "SQUEUE_EVERY_S", 0.0)
    monkeypatch.setattr(slurm, "VANISHED_GRACE_S", 0.3)
    monkeypatch.chdir(cluster)
    assert slurm.main(["log/v.log", "true"]) == 1
    err = capsys.readouterr().err
    assert "1 / 1 failed" in err and "(no exit code)" in err
    assert "left the queue without finishing its log" in err and "log/q/v.out" in err
    assert "there is no log/v.log: the job never started" in err


def test_slurm_submission_failure_is_one_clear_error(cluster):
    (cluster / "fakebin/sbatch").write_text(
        "#!/bin/bash\necho 'sbatch: error: QOSMaxSubmitJobPerUserLimit' >&2\nexit 1\n")
    proc = run(SLURM, "JOB=1:2", "log/e.JOB.log", "true", cwd=cluster, check_rc=1)
    assert proc.stderr.startswith("slurm.py: error: submitting the job for log/e.1.log failed")
    assert "QOSMaxSubmitJobPerUserLimit; --max-jobs-run N" in proc.stderr
