"""Kaldi's slurm.conf: how runner options (--mem 2G, --gpu 1 ...) become sbatch options.

    command sbatch --export=PATH              # the submit command (required)
    option mem=* --mem-per-cpu $0             # --mem X  ->  --mem-per-cpu X
    option mem=0                              # --mem 0  ->  nothing
    option gpu=* -p gpu --gres=gpu:$0
    default gpu=0                             # as if --gpu 0 were given

A rule for the exact value wins over the `*` rule. An option that no rule describes is an error,
as in Kaldi; --config and --max-jobs-run are the runner's own and never reach the file.
"""
import os
import re
import shlex
from dataclasses import dataclass, field

from speechkit.errors import SpeechkitError, where

DEFAULT_PATH = "conf/slurm.conf"

DEFAULT_CONF = """\
# Used when conf/slurm.conf is absent; copy it there to adapt it to a cluster.
command sbatch --export=PATH
option time=* --time $0
option mem=* --mem-per-cpu $0
option mem=0
option num_threads=* --cpus-per-task $0
option num_threads=1 --cpus-per-task 1
default gpu=0
option gpu=0
option gpu=* -p gpu --gres=gpu:$0
"""

RUNNER_OPTIONS = {"config", "max_jobs_run"}

_COMMAND = re.compile(r"^command\s+(.+)$")
_ANY = re.compile(r"^option\s+([\w-]+)=\*\s*(.*)$")
_EXACT = re.compile(r"^option\s+([\w-]+)=(\S+)\s*(.*)$")
_DEFAULT = re.compile(r"^default\s+([\w-]+)=(\S+)$")


@dataclass
class SlurmConf:
    source: str
    command: list = field(default_factory=list)
    any_value: dict = field(default_factory=dict)    # mem -> "--mem-per-cpu $0"
    exact: dict = field(default_factory=dict)        # (mem, 0) -> ""
    defaults: dict = field(default_factory=dict)     # gpu -> 0

    def translate(self, options):
        """sbatch arguments for the runner's options ({"mem": "2G"}), defaults filled in."""
        given = {**options, **{k: v for k, v in self.defaults.items() if k not in options}}
        given = {k: v for k, v in given.items() if k not in RUNNER_OPTIONS}
        return [arg for name, value in given.items() for arg in self._one(name, value)]

    def _one(self, name, value):
        if (name, value) in self.exact:
            return shlex.split(self.exact[name, value])
        if name in self.any_value:
            return shlex.split(self.any_value[name].replace("$0", value))
        raise SpeechkitError(f"option --{name.replace('_', '-')} {value} is not described in "
                             f"{self.source}: add a line 'option {name}=* <sbatch options, $0>'")


def parse_conf(text, source):
    conf = SlurmConf(source)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            _add(conf, line, where(source, lineno))
    if not conf.command:
        raise SpeechkitError(f"{source}: no 'command' line (e.g. 'command sbatch --export=PATH')")
    return conf


def _add(conf, line, place):
    if m := _COMMAND.match(line):
        conf.command = shlex.split(m[1])
    elif m := _ANY.match(line):
        conf.any_value[_name(m[1])] = m[2]
    elif m := _EXACT.match(line):
        conf.exact[_name(m[1]), m[2]] = m[3]
    elif m := _DEFAULT.match(line):
        conf.defaults[_name(m[1])] = m[2]
    else:
        raise SpeechkitError(f"{place}: cannot parse '{line}': want 'command ...', 'option "
                             "NAME=* ... $0 ...', 'option NAME=VALUE ...' or 'default NAME=VALUE'")


def _name(option):
    return option.replace("-", "_")


def load_conf(path=None):
    """The conf at `path` (--config: must exist), else conf/slurm.conf if there, else a default."""
    if path is not None and not os.path.isfile(path):
        raise SpeechkitError(f"--config {path}: no such file")
    path = path or (DEFAULT_PATH if os.path.isfile(DEFAULT_PATH) else None)
    if path is None:
        return parse_conf(DEFAULT_CONF, "the default slurm config")
    with open(path) as f:
        return parse_conf(f.read(), path)
