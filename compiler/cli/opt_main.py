"""`t2m-opt`: xDSL's `xdsl-opt` with t2m's dialects and passes, plus the named pipelines `--fuse` and `--lower`.

Dialects and passes come from the `xdsl.universe` entry point (see `t2m.compiler.universe`), so everything
`xdsl-opt` offers is here too. t2m adds the one-line error contract and atomic output files.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from io import BytesIO, StringIO
from typing import IO, ClassVar

from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException, ParseError, PassFailedException, VerifyException
from xdsl.xdsl_opt_main import xDSLOptMain

from t2m.compiler.errors import ArgumentParser, T2MError, run_tool
from t2m.compiler.files import read_text, write_output
from t2m.compiler.ir import ELIDE_FLAG, check_not_elided, element_count, module_to_text, verify_module
from t2m.compiler.pass_stats import PassStats, counting_patterns
from t2m.compiler.pipeline import NAMED_PIPELINES, gc_paused
from t2m.compiler.plugins import invalid_output, parse_pipeline, pass_failed, pass_raised, register_plugins


class T2MOptMain(xDSLOptMain):
    """`xdsl-opt` grown the `--fuse` / `--lower` pipeline flags, pass plugins, IR dumps and pattern statistics."""

    plugin_files: ClassVar[list[str]] = []
    stats: PassStats
    running: ModulePass | None = None
    """The pass being applied: an exception escaping the pipeline while it is set is that pass's failure."""
    verify_each = False
    """Verify after every pass: only while replaying a failed pipeline to find the pass to blame."""

    def register_all_passes(self) -> None:
        super().register_all_passes()
        register_plugins(self.available_passes, self.plugin_files)

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        # xDSLOptMain makes a plain ArgumentParser: give it t2m's one-line usage errors.
        arg_parser.prog = "t2m-opt"
        arg_parser.error = ArgumentParser.error.__get__(arg_parser)  # type: ignore[method-assign]
        super().register_all_arguments(arg_parser)
        for flag, (_, help_text) in NAMED_PIPELINES.items():
            arg_parser.add_argument(f"--{flag}", action="store_true", help=help_text)
        add_plugin_argument(arg_parser)
        arg_parser.add_argument(
            "--print-ir-after-change",
            action="store_true",
            help="print the IR (to stderr) after each pass that changed it",
        )
        arg_parser.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass")
        arg_parser.add_argument("--pass-stats", action="store_true", help="print how often each rewrite pattern fired")
        add_elide_argument(arg_parser)

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0) -> ModuleOp | None:
        data = chunk.read()
        check_not_elided(data.decode("utf-8", "replace"), self.get_input_name())
        return super().parse_chunk(BytesIO(data), file_extension, start_offset)

    def output_resulting_program(self, prog: ModuleOp) -> str:
        limit = self.args.elide_elementsattrs_if_larger
        if limit is None or self.args.target != "mlir" or self.args.print_op_generic:
            return super().output_resulting_program(prog)
        return module_to_text(prog, limit)

    def setup_pipeline(self) -> None:
        # The order is the compiler's: --fuse, then the passes given with -p, then --lower.
        specs = [",".join(NAMED_PIPELINES["fuse"][0])] if self.args.fuse else []
        specs += [self.args.passes] if self.args.passes else []
        specs += [",".join(NAMED_PIPELINES["lower"][0])] if self.args.lower else []
        self.stats = PassStats()
        last_text: list[str] = []

        def callback(previous: ModulePass | None, module: ModuleOp, next_pass: ModulePass | None) -> None:
            self.running = None
            if not self.args.disable_verify and (previous is None or next_pass is None or self.verify_each):
                verify_output(previous, module)
            self.running = next_pass
            if next_pass is not None:
                self.stats.current_pass = next_pass.name
            if self.verify_each or not (self.args.print_ir_after_change or self.args.print_ir_after_all):
                return
            text = module_to_text(module, self.args.elide_elementsattrs_if_larger)
            if previous is not None and (self.args.print_ir_after_all or text != last_text[-1]):
                sys.stderr.write(f"// -----// IR Dump After {previous.name} //----- //\n{text}")
            last_text.append(text)

        self.pipeline = parse_pipeline(self.available_passes, ",".join(specs), callback)
        for pass_ in self.pipeline.passes:
            if isinstance(pdl_file := getattr(pass_, "pdl_file", None), str):
                self.check_pdl_file(pdl_file)

    def apply_passes(self, prog: ModuleOp) -> None:
        """Verify the input and the result, not every pass's output (that was three quarters of `--lower`'s time);
        when anything fails, replay the pipeline on a copy of the input verifying after every pass, so that the
        error names the pass that first broke the IR, as verifying each pass would have."""
        if self.args.disable_verify:
            return super().apply_passes(prog)
        original = prog.clone()
        try:
            super().apply_passes(prog)
        except Exception as failure:
            self.verify_each = True
            super().apply_passes(original)  # raises the first failure, now with its pass named
            raise failure  # the replay passed: report what the fast run met
        finally:
            self.verify_each = False

    def check_pdl_file(self, path: str) -> None:
        """apply-pdl asserts that its file exists and reports its syntax errors without the file's name."""
        try:
            Parser(self.ctx, read_text(path, expected="an MLIR text file of PDL patterns"), path).parse_module()
        except ParseError as e:
            raise T2MError(
                f"syntax error in PDL file: {_first_line(e)}", _location(str(e), path), "fix the PDL file"
            ) from e


def verify_output(previous: ModulePass | None, module: ModuleOp) -> None:
    """Verify the input (`previous` is None: its errors are the user's, and --verify-diagnostics shows them) or
    the output of pass `previous` (its errors are that pass's)."""
    if previous is None:
        verify_module(module)
        return
    try:
        verify_module(module)
    except (VerifyException, ValueError) as e:  # ValueError: xDSL's "Erased SSA value is used by the operation"
        raise invalid_output([previous], e) from e


def add_plugin_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--load-pass-plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="register the ModulePass subclasses defined in FILE.py (repeatable)",
    )


def add_elide_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        ELIDE_FLAG,
        type=element_count,
        metavar="N",
        help="print dense constants of more than N elements as dense_resource<__elided__> (for reading: t2m "
        "refuses such a file as input)",
    )


class _Buffer(StringIO):
    """Output kept in memory until the run succeeded (`xDSLOptMain.run` closes the stream it was given)."""

    def close(self) -> None:
        pass


def _main(argv: Sequence[str]) -> int:
    # Plugins must be registered before the parser lists the passes, so find them first.
    pre = ArgumentParser(prog="t2m-opt", add_help=False)
    add_plugin_argument(pre)
    T2MOptMain.plugin_files = pre.parse_known_args(argv)[0].load_pass_plugin
    try:
        tool = T2MOptMain(description="t2m optimizer driver (xdsl-opt with t2m's dialects and passes)", args=argv)
    except SystemExit as e:  # argparse already printed its usage message
        return int(e.code or 0)
    source = tool.args.input_file or "stdin"
    if tool.args.input_file is not None:
        read_text(tool.args.input_file, expected="an MLIR text file")  # a missing or binary file: one line
    output = _Buffer()
    tool.prepare_output = lambda: output  # type: ignore[method-assign]
    try:
        with counting_patterns(tool.stats) if tool.args.pass_stats else nullcontext(), gc_paused():
            tool.run()
    except T2MError:
        raise
    except Exception as e:
        if (error := _user_error(e, tool.running, source)) is None:
            raise  # a t2m bug: run_tool reports it as an internal error
        raise error from e
    if tool.args.pass_stats:
        print(tool.stats.report(), file=sys.stderr)
    if tool.args.output_file:
        write_output(tool.args.output_file, output.getvalue())
    else:
        sys.stdout.write(output.getvalue())
    return 0


def _user_error(e: Exception, running: ModulePass | None, source: str) -> T2MError | None:
    """The one-line error for an exception out of `xDSLOptMain.run`, blaming the pass `running` if one was."""
    if running is not None:
        return pass_failed(running, e, source) if isinstance(e, PassFailedException) else pass_raised(running, e)
    if isinstance(e, ParseError):
        return T2MError(f"syntax error: {_first_line(e)}", _location(str(e), source), "fix the IR text")
    if isinstance(e, (VerifyException, DiagnosticException)):
        return T2MError(f"invalid IR: {_first_line(e)}", source, "fix the op named above")
    if isinstance(e, ValueError):  # an input file name without the .mlir extension
        return T2MError(str(e), source, "t2m-opt reads .mlir files")
    return None


def _first_line(e: Exception) -> str:
    """The message of an xDSL diagnostic without its source excerpt."""
    lines = [line for line in str(e).splitlines() if line.strip()]
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith(("^", "|")) and ":" not in stripped[:1]:
            if "error:" in stripped:
                return stripped.split("error:", 1)[1].strip()
    return lines[-1].strip(" ^-") if lines else type(e).__name__


def _location(message: str, source: str) -> str:
    """`file:line:col` from the head of an xDSL parse error."""
    first = message.splitlines()[0].strip() if message else ""
    return first if re.fullmatch(r".*:\d+:\d+", first) else source


def main(argv: Sequence[str] | None = None) -> int:
    return run_tool("t2m-opt", _main, argv)


if __name__ == "__main__":
    sys.exit(main())
