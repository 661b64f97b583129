"""What every subcommand shares: its parser, logging, and the one-line error contract."""
import argparse
import errno
import functools
import logging
import sys

from speechkit.errors import SpeechkitError


def make_parser(module_name, doc):
    """An ArgumentParser whose prog is `speechkit <subcommand>` and whose text is the module doc."""
    sub = module_name.rsplit(".", 1)[-1].replace("_", "-")
    return argparse.ArgumentParser(
        prog=f"speechkit {sub}", description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes, not the one of set-up time: a
    command called in-process (tests, Python callers) may have replaced and closed that one."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _):
        pass


def setup_logging(verbose=0):
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, handlers=[_StderrHandler()], force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


_ENVIRONMENT_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                       errno.ENOENT, errno.ENOTDIR, errno.EISDIR}


def cli(prog):
    """Wrap main(argv): SpeechkitError becomes one line on stderr and exit code 1.

    OSErrors of the environment (disk full, read-only or missing paths) are one line too.
    Other exceptions keep their traceback: they are bugs, not bad input.
    """
    def wrap(fn):
        @functools.wraps(fn)
        def main(argv=None):
            try:
                return fn(argv) or 0
            except SpeechkitError as e:
                print(f"{prog}: error: {e}", file=sys.stderr)
                return 1
            except BrokenPipeError:
                # `speechkit ... | head`: the reader went away, which is not our failure.
                sys.stderr.close()
                return 0
            except OSError as e:
                if e.errno not in _ENVIRONMENT_ERRORS:
                    raise
                # A full disk, a read-only or missing dir: the user's to fix, in one line.
                target = f"{e.filename}: " if e.filename else ""
                print(f"{prog}: error: {target}{e.strerror}", file=sys.stderr)
                return 1
        return main
    return wrap
