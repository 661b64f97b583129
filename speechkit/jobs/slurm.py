"""utils/slurm.py: run.py's interface, each job submitted with sbatch; waits for all of them.

Options become sbatch options through --config (default conf/slurm.conf, else the built-in
default of slurmconf.py); `-x value` pairs go to sbatch as they are; --max-jobs-run N keeps at
most N jobs submitted at once. Each job is a script exp/x/log/q/<name>.sh (rerun one by hand
with `bash exp/x/log/q/name.3.sh`) that writes the usual log and then a done-marker holding its
exit code: the runner waits on those files, so it needs no squeue. Where squeue is on PATH it
also notices jobs that left the queue without a marker (killed, out of time or memory; sacct
tells which), and an interrupted runner cancels its jobs with scancel.
"""
import getpass
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass

from speechkit.errors import SpeechkitError
from speechkit.jobs import runner
from speechkit.jobs.script import job_script
from speechkit.jobs.slurmconf import load_conf

SQUEUE_EVERY_S = 30.0    # how often to ask squeue which jobs are still there
VANISHED_GRACE_S = 60.0  # a job out of the queue this long with no marker is dead (NFS may lag)


@dataclass(eq=False)
class Submitted:
    slurm_id: str
    done: str          # the done-marker the job script writes
    out: str           # Slurm's own output for the script (path.sh noise, OOM kills)
    gone_since: float | None = None


def q_paths(log):
    """exp/x/log/q/name.3.{sh,out,done} for the log exp/x/log/name.3.log."""
    directory, base = os.path.split(log)
    stem = os.path.join(directory, "q", os.path.splitext(base)[0])
    return stem + ".sh", stem + ".out", stem + ".done"


class SlurmBackend:
    min_interval, max_interval = 0.1, 5.0

    def __init__(self, spec):
        conf = load_conf(spec.options.get("config"))
        self.submit = conf.command + conf.translate(spec.options) + spec.passthrough
        self.threads = spec.num_threads
        self.cwd = os.getcwd()
        self.last_squeue = time.monotonic()

    def default_max_jobs(self, spec):
        return None     # the cluster schedules

    def start(self, job):
        script, out, done = q_paths(job.log)
        os.makedirs(os.path.dirname(script), exist_ok=True)
        for stale in (job.log, done):    # an old footer or marker would read as this run's
            if os.path.exists(stale):
                os.remove(stale)
        _write_executable(script, job_script(job, self.threads, cwd=self.cwd, done=done))
        name = os.path.splitext(os.path.basename(job.log))[0]
        argv = self.submit[:1] + ["--job-name", name, "--output", out] + self.submit[1:] + [script]
        return Submitted(_sbatch(argv, job.log), done, out)

    def poll(self, handles):
        over = {}
        for h in handles:
            text = _take_marker(h.done)
            if text is not None:
                over[h] = runner.Outcome(int(text) if text.isdigit() else None)
        over.update(self._vanished([h for h in handles if h not in over]))
        return over

    def stop(self, handles):
        ids = [h.slurm_id for h in handles]
        if ids and shutil.which("scancel"):
            subprocess.run(["scancel"] + ids, check=False)
        elif ids:
            print(f"slurm.py: no scancel on PATH; cancel these jobs yourself: {' '.join(ids)}",
                  file=sys.stderr)

    def _vanished(self, handles):
        """Jobs that squeue no longer lists and that wrote no marker within the grace time."""
        now = time.monotonic()
        if not handles or now - self.last_squeue < SQUEUE_EVERY_S or not shutil.which("squeue"):
            return {}
        self.last_squeue = now
        queued = _squeue_ids()
        if queued is None:
            return {}
        dead = {}
        for h in handles:
            h.gone_since = None if h.slurm_id in queued else (h.gone_since or now)
            if h.gone_since is not None and now - h.gone_since >= VANISHED_GRACE_S:
                dead[h] = runner.Outcome(None, _death_note(h))
        return dead


def _write_executable(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _sbatch(argv, log):
    """Submit; the Slurm job id from sbatch's "Submitted batch job 123" (or --parsable "123;c")."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise SpeechkitError(f"cannot run '{argv[0]}' (the 'command' of the slurm config): "
                             "is Slurm installed here?") from None
    match = re.search(r"(\d+)(;\S*)?\s*$", done.stdout)
    if done.returncode != 0 or not match:
        said = (done.stderr or done.stdout).strip()
        # e.g. QOSMaxSubmitJobPerUserLimit: the cluster caps how many jobs one may have queued.
        hint = "; --max-jobs-run N submits at most N at once" if "limit" in said.lower() else ""
        raise SpeechkitError(f"submitting the job for {log} failed (code {done.returncode}): "
                             f"{' '.join(argv)}: {said}{hint}")
    return match.group(1)


def _take_marker(path):
    """The text (exit code) of a done-marker, which is then removed; None while there is none."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    os.remove(path)
    return text


def _squeue_ids():
    done = subprocess.run(["squeue", "-h", "-o", "%i", "-u", getpass.getuser()],
                          capture_output=True, text=True, check=False)
    return set(done.stdout.split()) if done.returncode == 0 else None


def _death_note(h):
    state = ""
    if shutil.which("sacct"):
        done = subprocess.run(["sacct", "-n", "-X", "-P", "-o", "State", "-j", h.slurm_id],
                              capture_output=True, text=True, check=False)
        state = f" (sacct says {done.stdout.split()[0]})" if done.stdout.split() else ""
    return (f"Slurm job {h.slurm_id} left the queue without finishing its log{state}; "
            f"Slurm's own output is in {h.out}")


def main(argv=None):
    return runner.main("slurm.py", argv, SlurmBackend)
