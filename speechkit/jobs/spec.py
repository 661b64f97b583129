"""The Kaldi runner command line, parsed once for every runner.

    [options] [JOB=1:N] log-file command [args ...]

Options are `--name value` (or `--name=value`), stored as {"name": value} with dashes turned into
underscores as Kaldi does (`--max-jobs-run 4` -> max_jobs_run); `-x value` pairs are scheduler
options passed on as they are. The job range may come before or after the options.
"""
import os
import re
import shlex
from dataclasses import dataclass, field

from speechkit.errors import SpeechkitError

USAGE = """\
usage: {prog} [options] [JOB=1:N] log-file command [args ...]
  e.g. {prog} JOB=1:4 exp/x/log/count.JOB.log wc -l data/split4/JOB/text \\> exp/x/count.JOB
       {prog} exp/x/log/one.log "echo hi | tr a-z A-Z"
JOB (any NAME=START:END, or NAME=N for one job) is replaced in the log name and the command.
The command runs through `bash -c`: words without blanks, and the first word, reach bash as they
are (so \\| and > work, and so does one quoted "a | b" command line); words with blanks are quoted.
options:
  --max-jobs-run N   at most N jobs at once
  --num-threads N    threads per job (accounting; the local runner runs CPUs/N jobs at once)
  --mem X, --gpu N, --time T, ...   scheduler requests (slurm.py translates them via --config)
  --config FILE      the scheduler config (slurm.py; default conf/slurm.conf)"""

_RANGE = re.compile(r"^([A-Za-z_]\w*)=(\d+)(?::(\d+))?$")
# "JOB=1:" is what `JOB=1:$nj` gives when $nj is empty: say so instead of taking it for a log name.
_BROKEN_RANGE = re.compile(r"^[A-Za-z_]\w*=[^/]*:[^/]*$")


@dataclass
class Job:
    """One job: its number (None without a JOB range), its log file and its bash command line."""
    id: int | None
    log: str
    command: str


@dataclass
class JobSpec:
    log: str                                        # log-file, JOB not yet replaced
    argv: list                                      # command words, JOB not yet replaced
    var: str | None = None                          # "JOB" (None: a single job, no range)
    start: int = 1
    end: int = 1
    options: dict = field(default_factory=dict)     # --mem 2G -> {"mem": "2G"}
    passthrough: list = field(default_factory=list)  # -p gpu -> ["-p", "gpu"], for the scheduler

    def jobs(self):
        if self.var is None:
            return [Job(None, self.log, shell_command(self.argv))]
        return [Job(i, self.log.replace(self.var, str(i)),
                    shell_command([w.replace(self.var, str(i)) for w in self.argv]))
                for i in range(self.start, self.end + 1)]

    def log_pattern(self):
        """exp/x/log/name.*.log: where the logs are, for messages."""
        return self.log.replace(self.var, "*") if self.var else self.log

    @property
    def num_threads(self):
        return self.positive_int("num_threads", 1)

    @property
    def max_jobs_run(self):
        return self.positive_int("max_jobs_run", None)

    def positive_int(self, name, default):
        value = self.options.get(name)
        if value is None:
            return default
        if not value.isdigit() or int(value) < 1:
            option = "--" + name.replace("_", "-")
            raise SpeechkitError(f"{option} wants a positive integer, got '{value}'")
        return int(value)


def shell_command(argv):
    """The line bash runs: run.pl's quoting rule (quote words with blanks), first word as it is."""
    return " ".join([argv[0]] + [_quote(w) for w in argv[1:]])


def _quote(word):
    # shlex.quote rather than run.pl's double quotes, so "$" and "`" in a word stay literal.
    return word if word and not any(c.isspace() for c in word) else shlex.quote(word)


def parse_args(argv):
    """JobSpec from the runner's arguments; SpeechkitError (with the usage) when they are wrong."""
    args, spec_range = list(argv), None
    options, passthrough = {}, []
    while args:
        word = args[0]
        if word.startswith("--") and len(word) > 2:
            name, value, used = _long_option(args)
            options[name] = value
        elif word.startswith("-") and len(word) > 1:
            if len(args) < 2:
                raise SpeechkitError(f"option {word} needs a value")
            passthrough += args[:2]
            used = 2
        elif spec_range is None and _is_range(word):
            spec_range, used = _parse_range(word), 1
        else:
            break
        del args[:used]
    if len(args) < 2:
        raise SpeechkitError("want [options] [JOB=1:N] log-file command ...; see --help")
    spec = JobSpec(log=args[0], argv=args[1:], options=options, passthrough=passthrough)
    if spec_range:
        spec.var, spec.start, spec.end = spec_range
        _check_log_name(spec)
    return spec


def _long_option(args):
    """('max_jobs_run', '4', words used) from ['--max-jobs-run', '4'] or ['--max-jobs-run=4']."""
    word = args[0]
    if "=" in word:
        name, value = word[2:].split("=", 1)
        used = 1
    elif len(args) < 2 or args[1].startswith("--"):
        raise SpeechkitError(f"option {word} needs a value")
    else:
        name, value, used = word[2:], args[1], 2
    return name.replace("-", "_"), value, used


def _is_range(word):
    if _RANGE.match(word):
        return True
    if _BROKEN_RANGE.match(word):
        raise SpeechkitError(f"bad job range '{word}': want NAME=START:END or NAME=N (integers), "
                             "e.g. JOB=1:4 (is the number of jobs, e.g. $nj, empty?)")
    return False


def _parse_range(word):
    var, start, end = _RANGE.match(word).groups()
    start = int(start)
    end = start if end is None else int(end)
    if start > end:
        raise SpeechkitError(f"bad job range '{word}': start {start} is after end {end}")
    return var, start, end


def _check_log_name(spec):
    if spec.end > spec.start and spec.var not in spec.log:
        raise SpeechkitError(f"{spec.end - spec.start + 1} jobs would all write one log file "
                             f"'{spec.log}': put {spec.var} in its name, e.g. "
                             f"{os.path.splitext(spec.log)[0]}.{spec.var}.log")
