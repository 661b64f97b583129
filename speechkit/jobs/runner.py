"""What every runner shares: parse, make log dirs, keep at most M jobs going, report, exit code.

A backend (local.LocalBackend, slurm.SlurmBackend) only knows how to start one job, which of its
started jobs are over, and how to stop them:

    default_max_jobs(spec) -> int | None     (None: no limit)
    start(job) -> handle
    poll(handles) -> {handle: Outcome}       (only the ones that are over)
    stop(handles)                            (runner interrupted: kill or cancel them)
    min_interval, max_interval               (seconds between polls; backs off from min to max)
"""
import os
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

from speechkit.cli import cli
from speechkit.jobs import report
from speechkit.jobs.spec import USAGE, parse_args


@dataclass
class Outcome:
    code: int | None        # None: the job vanished without an exit code
    note: str = ""          # what the backend knows beyond the log (e.g. a Slurm state)


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run_jobs(jobs, backend, max_parallel, stop_requested=lambda: None):
    """Run jobs in order, at most max_parallel at once; their Outcomes, in the order of jobs."""
    pending = list(range(len(jobs)))[::-1]
    running, outcomes = {}, [None] * len(jobs)
    interval = backend.min_interval
    try:
        while pending or running:
            signum = stop_requested()
            if signum:
                raise Interrupted(signum)
            while pending and len(running) < max_parallel:
                index = pending.pop()
                running[backend.start(jobs[index])] = index
            finished = backend.poll(list(running))
            for handle, outcome in finished.items():
                outcomes[running.pop(handle)] = outcome
            if finished:
                interval = backend.min_interval
            elif running:
                time.sleep(interval)
                interval = min(interval * 1.5, backend.max_interval)
    except BaseException:
        backend.stop(list(running))
        raise
    return outcomes


@contextmanager
def signals_to_flag(signums=(signal.SIGINT, signal.SIGTERM)):
    """Record SIGINT/SIGTERM instead of dying, so the loop can stop the jobs before exiting."""
    got = []
    previous = {s: signal.signal(s, lambda signum, frame: got.append(signum)) for s in signums}
    try:
        yield lambda: got[0] if got else None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def main(prog, argv, make_backend):
    """The whole runner: parse argv, run every job through make_backend(spec), report; exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE.format(prog=prog))
        return 0
    return cli(prog)(lambda args: _run(prog, args, make_backend))(argv)


def _run(prog, argv, make_backend):
    spec = parse_args(argv)
    backend = make_backend(spec)
    jobs = spec.jobs()
    for job in jobs:
        os.makedirs(os.path.dirname(job.log) or ".", exist_ok=True)
    max_parallel = spec.max_jobs_run or backend.default_max_jobs(spec) or len(jobs)
    with signals_to_flag() as stop_requested:
        try:
            outcomes = run_jobs(jobs, backend, max_parallel, stop_requested)
        except Interrupted as e:
            print(f"{prog}: interrupted ({e}); stopped the running jobs, logs in "
                  f"{spec.log_pattern()}", file=sys.stderr)
            return 128 + e.signum
    failed = [i for i, o in enumerate(outcomes) if o.code != 0]
    if failed:
        print(report.summary(prog, spec.log_pattern(), jobs, outcomes), file=sys.stderr)
        return 1
    return 0
