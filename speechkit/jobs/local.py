"""utils/run.py: run the jobs on this machine, like Kaldi's run.pl.

At most --max-jobs-run jobs at once (default: the CPUs this process may use, divided by
--num-threads). --mem, --gpu, --time, --config and scheduler options are accepted and ignored, so
that a cmd.sh written for a cluster runs here unchanged. Jobs read no stdin. Interrupting the
runner (Ctrl-C, SIGTERM) kills every running job with all its processes.
"""
import os
import signal
import subprocess
import time

from speechkit.jobs import runner
from speechkit.jobs.script import job_script

_KILL_GRACE_S = 2.0


def cpu_count():
    """CPUs this process may run on (cgroup/taskset aware where the OS says)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class LocalBackend:
    min_interval, max_interval = 0.01, 0.1

    def __init__(self, spec):
        self.threads = spec.num_threads

    def default_max_jobs(self, spec):
        return max(1, cpu_count() // spec.num_threads)

    def start(self, job):
        # A session of its own per job, so that stop() can kill the job's whole process tree.
        return subprocess.Popen(["bash", "-c", job_script(job, self.threads)],
                                stdin=subprocess.DEVNULL, start_new_session=True)

    def poll(self, procs):
        return {p: runner.Outcome(exit_code(p.returncode)) for p in procs if p.poll() is not None}

    def stop(self, procs):
        _signal_groups(procs, signal.SIGTERM)
        deadline = time.monotonic() + _KILL_GRACE_S
        while time.monotonic() < deadline and any(p.poll() is None for p in procs):
            time.sleep(0.02)
        _signal_groups(procs, signal.SIGKILL)
        for p in procs:
            p.wait()


def exit_code(returncode):
    """Popen's -N (killed by signal N) as the shell writes it, 128+N."""
    return returncode if returncode >= 0 else 128 - returncode


def _signal_groups(procs, signum):
    for p in procs:
        try:
            os.killpg(p.pid, signum)
        except ProcessLookupError:
            pass    # the whole group is already gone


def main(argv=None):
    return runner.main("run.py", argv, LocalBackend)
