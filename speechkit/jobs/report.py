"""The failure summary: how many failed, and for the first one its command and the end of its log.

Kaldi's bare "32 / 32 failed, log is in ..." sends the user to open a log; this says what
happened right there.
"""
from speechkit.jobs.script import log_body

TAIL_LINES = 10


def summary(prog, log_pattern, jobs, outcomes, tail=TAIL_LINES):
    """The lines to print on stderr when some outcome has a non-zero (or no) exit code."""
    failed = [i for i, o in enumerate(outcomes) if o.code != 0]
    job, outcome = jobs[failed[0]], outcomes[failed[0]]
    status = f"code {outcome.code}" if outcome.code is not None else "no exit code"
    lines = [f"{prog}: {len(failed)} / {len(jobs)} failed, log is in {log_pattern}",
             f"{prog}: first failure: {job.log} ({status}); the command was:",
             f"  {job.command}"]
    if outcome.note:
        lines.append(f"  {outcome.note}")
    lines += _tail(prog, job.log, tail)
    return "\n".join(lines)


def _tail(prog, log, tail):
    body = log_body(log)
    if body is None:
        return [f"{prog}: there is no {log}: the job never started"]
    if not body:
        return [f"{prog}: the job wrote nothing to {log}"]
    shown = body[-tail:]
    return [f"{prog}: last {len(shown)} lines of {log}:"] + [f"  | {line}" for line in shown]
