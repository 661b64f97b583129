"""wav.scp pipes made only of `speechkit wav-*` commands, run in this process instead of bash.

Speed, volume and far-field copies of a data dir (utils/data/perturb_data_dir_*.sh) write
entries such as

  sp0.9-u1 speechkit wav-speed --factor 0.9 /abs/u1.wav - |
  u1 speechkit wav-speed --factor 1.1 /abs/u1.wav - | speechkit wav-volume --scale 0.7 - - |

They stay valid shell pipes (bash, Kaldi tools and users can run them), but each command is a
Python start-up (0.4 s; 2 s for wav-farfield), which dominates reading a perturbed training
set. When a pipe is such a chain, this module parses each command with the command's own
argparse parser, reads the first command's input file as the command does, and calls the
command's `transform` function, the one its main() calls, with the same 16-bit wav round trip
between commands; the result is the bytes the pipe would write.

A command joins by defining, in its speechkit/bin/wav_*.py module (next to get_parser()):

  def transform(samples, rate, args):
      # samples: float32 (frames, channels) as read_audio gives them; args: get_parser()'s
      # Namespace; returns (samples, rate) for write_audio. SpeechkitError for bad input.

Anything else goes to bash as before: another command first or in between (sox, cat), an
option the parser refuses (the command then prints its own message), an input or output other
than FILE - for the first command and - - after it, and any shell syntax beyond words, quotes
and `|` (redirections, `;`, `&&`, `$VAR`, globs, subshells, `VAR=x cmd`).

SPEECHKIT_NO_INPROCESS_PIPES=1 turns this off: every pipe then runs through bash (to debug, or
to compare the two).
"""
import argparse
import contextlib
import functools
import importlib
import io
import os
import re
import shlex

from speechkit.errors import SpeechkitError

ENV_DISABLE = "SPEECHKIT_NO_INPROCESS_PIPES"
# Characters that make bash do more than split words and connect a pipeline: refused anywhere,
# even inside quotes, because being too careful only costs a subprocess.
_SHELL_SPECIAL = frozenset(";&<>()$`\\*?[]{}~#!\n\r")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WAV_COMMAND = re.compile(r"wav-[a-z0-9]+(-[a-z0-9]+)*")


class CommandFailed(Exception):
    """A command of the chain failed: what the pipe would exit with and print last on stderr."""

    def __init__(self, code, stderr):
        super().__init__(stderr)
        self.code, self.stderr = code, stderr


def enabled():
    return os.environ.get(ENV_DISABLE, "") in ("", "0")


def pipe_output(command, decode):
    """The wav bytes the wav.scp pipe `command` (ending in `|`) writes, made in this process;
    None when it is not a chain this module runs (the caller runs it through bash).

    decode(data, origin) -> (samples, rate) is speechkit.io.audio.decode_audio, the reader of
    the commands (passed in: audio imports this module). Raises CommandFailed.
    """
    if not enabled():
        return None
    chain = parse(command)
    if chain is None:
        return None
    codec = importlib.import_module("speechkit.bin.resample")  # the commands' reader and writer
    data = None
    try:
        prog, (_, first) = chain[0]
        samples, rate = codec.read_audio(first.input)
        for prog, (transform, args) in chain:
            if data is not None:  # the next command reads the 16-bit wav the last one wrote
                samples, rate = decode(data, "stdin")
            data = codec.wav_bytes(*transform(samples, rate, args))
    except SpeechkitError as e:  # what the command's cli wrapper prints, exit code 1
        raise CommandFailed(1, f"{prog}: error: {e}") from None
    return data


def parse(command):
    """[(prog, (transform, args)), ...] for a pipe of in-process commands only, else None."""
    stages = _split(command.rstrip()[:-1])
    if not stages:
        return None
    chain = []
    for i, words in enumerate(stages):
        stage = _stage(words)
        # The first reads a file, the others stdin; each writes stdout. Else bash's business.
        if stage is None or stage[1].output != "-" or (stage[1].input == "-") != (i > 0):
            return None
        chain.append((f"speechkit {words[1]}", stage))
    return chain


def _split(text):
    """The words of each command of a pipeline of plain words; None for other shell syntax."""
    if _SHELL_SPECIAL & set(text) or any("|" in q for q in _QUOTED.findall(text)):
        return None
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # an unclosed quote
        return None
    stages = [[]]
    for word in words:
        if word == "|":
            stages.append([])
        elif set(word) == {"|"}:  # ||
            return None
        else:
            stages[-1].append(word)
    return None if any(not s for s in stages) else stages


def _stage(words):
    """(transform, args) of `speechkit wav-X ARGS`, or None to leave it to bash."""
    if len(words) < 2 or words[0] != "speechkit" or not _WAV_COMMAND.fullmatch(words[1]):
        return None
    found = _command(words[1])
    if found is None:
        return None
    parser, transform = found
    # A refused option or --help: bash runs the command, which prints its own message.
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = parser.parse_args(words[2:])
        except SystemExit:
            return None
    if not isinstance(getattr(args, "input", None), str) or not hasattr(args, "output"):
        return None
    return transform, args


@functools.lru_cache(maxsize=None)
def _command(name):
    """(parser, transform) of a subcommand with an in-process form, else None.

    Resolved by name at run time as the `speechkit` dispatcher does (speechkit/bin/main.py):
    the pipe names a command, and speechkit.io must not import the commands' layer.
    """
    try:
        module = importlib.import_module("speechkit.bin." + name.replace("-", "_"))
    except ImportError:  # no such command, or one that cannot load: bash shows why
        return None
    transform, get_parser = getattr(module, "transform", None), getattr(module, "get_parser", None)
    if not callable(transform) or not callable(get_parser):
        return None
    parser = get_parser()
    return (parser, transform) if isinstance(parser, argparse.ArgumentParser) else None
