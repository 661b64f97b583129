"""`speechkit <subcommand> ...`: dispatch to speechkit/bin/<subcommand>.py.

Subcommands are discovered from the modules of this package (a module `compute_feats` is the
subcommand `compute-feats`), so adding one adds a file and edits nothing here.
"""
import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import speechkit.bin as _bin

_NOT_COMMANDS = {"main", "common"}


def subcommands():
    """{'compute-feats': 'speechkit.bin.compute_feats', ...}, sorted."""
    names = sorted(m.name for m in pkgutil.iter_modules(_bin.__path__) if m.name not in _NOT_COMMANDS)
    return {n.replace("_", "-"): f"speechkit.bin.{n}" for n in names}


def _summary(module_name):
    """First docstring line, read without importing (so --help is quick and never breaks)."""
    path = Path(_bin.__path__[0]) / (module_name.rsplit(".", 1)[1] + ".py")
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def usage():
    lines = ["usage: speechkit <subcommand> [options]", "", "subcommands:"]
    for name, mod in subcommands().items():
        lines.append(f"  {name:22s} {_summary(mod)}")
    lines += ["", "`speechkit <subcommand> --help` documents each one."]
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] == "--version":
        from speechkit import __version__
        print(__version__)
        return 0
    commands = subcommands()
    if argv[0] not in commands:
        print(f"speechkit: unknown subcommand '{argv[0]}'; `speechkit --help` lists them", file=sys.stderr)
        return 2
    module = importlib.import_module(commands[argv[0]])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
