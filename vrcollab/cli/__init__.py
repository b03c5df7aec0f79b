"""The ``vrcollab`` command: ``main(argv)`` dispatches to subcommands, one module each:

- :mod:`.convert` ``convert`` (the ingest pipeline, no server);
- :mod:`.serve` ``serve`` (the review server);
- :mod:`.project` ``project create``;
- :mod:`.people` ``member``, ``invite``, ``token``, ``account`` (offline, on the database);
- :mod:`.bcf` ``bcf export|import`` (against a running server).

To add a subcommand, write an ``add_<name>_parser(subparsers)`` function in a module here that
registers its parser and sets ``func`` (``args -> exit code``) with ``set_defaults``, and
append it to :data:`PARSERS`. Exit codes: 0 ok, 2 bad input or arguments (a one-line
message, never a traceback), 1 other vrcollab errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from vrcollab.cli.common import SubParsers
from vrcollab.cli.convert import add_convert_parser
from vrcollab.errors import ConfigError, IngestError, RequestError, VrcollabError

# --- registry and entry point -------------------------------------------------------------------

#: Subcommand registration: append ``add_<name>_parser`` functions here.
PARSERS: list[Callable[[SubParsers], None]] = [add_convert_parser]


def lazy_parser(commands: tuple[str, ...], module: str, *functions: str,
                ) -> Callable[[SubParsers], None]:
    """A :data:`PARSERS` entry that imports ``module`` only when it is needed.

    :func:`build_parser` skips it when the command line names another known subcommand, so
    ``vrcollab convert`` never imports the server stack; ``commands`` are the subcommands the
    ``functions`` (``add_<name>_parser`` in ``module``) register.
    """

    def add(sub: SubParsers) -> None:
        import importlib

        mod = importlib.import_module(module)
        for name in functions:
            getattr(mod, name)(sub)

    add.__name__ = f"lazy_{'_'.join(commands)}"
    add.commands = commands  # type: ignore[attr-defined]
    return add


#: ``vrcollab serve`` (:mod:`vrcollab.cli.serve`)
PARSERS.append(lazy_parser(("serve",), "vrcollab.cli.serve", "add_serve_parser"))
#: ``vrcollab project create`` (:mod:`vrcollab.cli.project`)
PARSERS.append(lazy_parser(("project",), "vrcollab.cli.project", "add_project_parser"))
#: ``vrcollab member|invite|token|account ...`` (:mod:`vrcollab.cli.people`)
PARSERS.append(lazy_parser(("member", "invite", "token", "account"), "vrcollab.cli.people",
                           "add_member_parser", "add_invite_parser", "add_token_parser",
                           "add_account_parser"))
#: ``vrcollab bcf export|import`` (:mod:`vrcollab.cli.bcf`)
PARSERS.append(lazy_parser(("bcf",), "vrcollab.cli.bcf", "add_bcf_parser"))


def _command(argv: Sequence[str] | None) -> str | None:
    """The subcommand named on the command line (first non-option word), if any."""
    args = sys.argv[1:] if argv is None else argv
    return next((a for a in args if not a.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand.

    With ``argv`` naming a known subcommand, lazy entries for other subcommands are skipped
    (their modules are not imported); without it (or for ``--help``) all are registered.
    """
    parser = argparse.ArgumentParser(prog="vrcollab", description="vrcollab: collaborative "
                                     "review of CAD and building models in VR/AR/browser")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = _command(argv) if argv is not None else None
    lazy = [add for add in PARSERS if hasattr(add, "commands")]
    for add in PARSERS:
        if not hasattr(add, "commands"):
            add(sub)
    known = set(sub.choices).union(*(add.commands for add in lazy))
    for add in lazy:
        if command not in known or command in add.commands:
            add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, run the subcommand, and return its exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
    except (IngestError, ConfigError, RequestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except VrcollabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code
