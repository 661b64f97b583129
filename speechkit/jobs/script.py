"""The job script: the one place that writes, and reads back, Kaldi run.pl's log format.

    # <command>
    # Started at <date>
    # Running on <host>
    <the job's stdout and stderr>
    # Accounting: time=S threads=T
    # Ended (code N) at <date>, elapsed time S seconds

Both runners run this same bash text (the local runner through `bash -c`, Slurm as a file under
log/q/), so the footer that other tools read back cannot differ between them.
"""
import re
import shlex

FOOTER = re.compile(r"^# Ended \(code (\d+)\) at .*, elapsed time (\d+) seconds$")
_ACCOUNTING = re.compile(r"^# Accounting: time=\d+ threads=\d+$")
_HEADER_LINES = 3


def job_script(job, threads=1, cwd=None, done=None):
    """Bash that runs job.command and writes job.log; `cwd` and `done` are for batch schedulers.

    cwd: go there and source ./path.sh first (a batch job starts elsewhere, as in slurm.pl).
    done: write the exit code to this file at the very end (atomically), the scheduler-free
    sign that the job is over and its footer written.
    """
    q = shlex.quote
    lines = ["#!/bin/bash"]
    if cwd:
        lines += [f"cd {q(cwd)} || exit 1", "[ -f ./path.sh ] && . ./path.sh"]
    lines += [
        f"log={q(job.log)}",
        f"{{ printf '# %s\\n' {q(job.command)}",
        '  echo "# Started at $(date)"',
        '  echo "# Running on $HOSTNAME"; } >"$log"',
        "start=$(date +%s)",
        # A child bash: a syntax error in the command lands in the log with a code, as any failure.
        f'bash -c {q(job.command)} </dev/null >>"$log" 2>&1',
        "ret=$?",
        "end=$(date +%s)",
        # Output without a final newline would glue the footer to its last line.
        '[ -n "$(tail -c 1 "$log")" ] && echo >>"$log"',
        f'echo "# Accounting: time=$((end - start)) threads={threads}" >>"$log"',
        'echo "# Ended (code $ret) at $(date), elapsed time $((end - start)) seconds" >>"$log"',
    ]
    if done:
        lines.append(f"echo $ret >{q(done + '.tmp')} && mv {q(done + '.tmp')} {q(done)}")
    lines.append("exit $ret")
    return "\n".join(lines) + "\n"


def read_lines(path):
    try:
        with open(path, errors="replace") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return None


def footer_code(path):
    """The exit code in the log's footer, or None when the log has no footer (yet)."""
    lines = read_lines(path) or []
    match = FOOTER.match(lines[-1]) if lines else None
    return int(match.group(1)) if match else None


def log_body(path):
    """The job's own output lines (the log less header and footer); None when there is no log."""
    lines = read_lines(path)
    if lines is None:
        return None
    if len(lines) >= 2 and lines[1].startswith("# Started at "):
        lines = lines[_HEADER_LINES:]
    while lines and (FOOTER.match(lines[-1]) or _ACCOUNTING.match(lines[-1])):
        lines.pop()
    return lines
