"""User-facing errors and the one-line error contract of every t2m command-line tool.

A user mistake (missing file, bad shape, unsupported op, malformed IR, corrupt weights) is reported as one line
`t2m-xxx: error: <what>, at <where>; <what to do>` with exit status 1. Only `--debug` shows a traceback. Outputs are
written through `t2m.compiler.files`, so a failing run never leaves a half-written file behind.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import NoReturn


class T2MError(Exception):
    """A mistake the user can fix: the message says what went wrong, where, and what to do."""

    def __init__(self, what: str, where: str | None = None, hint: str | None = None, details: Sequence[str] = ()):
        self.what, self.where, self.hint = what, where, hint
        self.details = list(details)  # extra lines, e.g. every unsupported op with its source line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = self.what
        if self.where:
            text += f", at {self.where}"
        if self.hint:
            text += f"; {self.hint}"
        return " ".join(text.split())  # one line, whatever the parts contained


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the error contract: a command-line mistake is one line and exit status 1 (argparse's own
    `error` prints the whole usage and exits with status 2)."""

    def error(self, message: str) -> NoReturn:
        raise T2MError(message, "the command line", f"see {self.prog} --help")


def run_tool(tool: str, main: Callable[[Sequence[str]], int], argv: Sequence[str] | None = None) -> int:
    """Run a CLI body, turning every error into the one-line contract (exit 1); `--debug` re-raises."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        return main([a for a in args if a != "--debug"])
    except T2MError as e:
        if debug:
            traceback.print_exc()
        print(f"{tool}: error: {e.one_line()}", file=sys.stderr)
        for line in e.details:
            print(f"  {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{tool}: error: interrupted", file=sys.stderr)
        return 1
    except Exception as e:  # an internal error still gets one line; --debug shows where it came from
        if debug:
            traceback.print_exc()
        first = (str(e).strip().splitlines() or [""])[0]
        print(
            f"{tool}: error: internal error {type(e).__name__}: {first}; rerun with --debug and report it",
            file=sys.stderr,
        )
        return 1
