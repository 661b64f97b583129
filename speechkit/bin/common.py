"""What every subcommand shares: its parser, logging, and the one-line error contract."""
import argparse
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


def setup_logging(verbose=0):
    level = logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)


def cli(prog):
    """Wrap main(argv): SpeechkitError becomes one line on stderr and exit code 1.

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
        return main
    return wrap
