"""`t2m-opt --pass-stats`: how often each rewrite pattern fired, per pass.

xDSL's pattern driver has no statistics hook, so while counting is on, `GreedyRewritePatternApplier` runs this
copy of its own `match_and_rewrite` (same order: dead-code removal, folding, then the patterns) that also records
which pattern made each change. Every pattern-based pass is covered, xDSL's own (canonicalize) included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from xdsl.folder import Folder
from xdsl.ir import Operation
from xdsl.pattern_rewriter import GreedyRewritePatternApplier, PatternRewriter
from xdsl.traits import ConstantLike, HasFolder


class PassStats:
    """Counts of pattern applications, keyed by (pass name, pattern name)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.current_pass = "?"

    def record(self, pattern: str) -> None:
        self.counts[(self.current_pass, pattern)] += 1

    def report(self) -> str:
        lines = ["===- pass statistics -===", f"{'pass':<28} {'pattern':<40} {'applied':>7}"]
        for (pass_name, pattern), n in sorted(self.counts.items()):
            lines.append(f"{pass_name:<28} {pattern:<40} {n:>7}")
        if not self.counts:
            lines.append("(no pattern fired)")
        return "\n".join(lines)


@contextmanager
def counting_patterns(stats: PassStats) -> Iterator[PassStats]:
    original = GreedyRewritePatternApplier.match_and_rewrite

    def match_and_rewrite(self: GreedyRewritePatternApplier, op: Operation, rewriter: PatternRewriter) -> None:
        from xdsl.transforms.dead_code_elimination import is_trivially_dead

        if self.dce_enabled and is_trivially_dead(op):
            rewriter.erase(op)
            stats.record("(erase dead op)")
            return
        if (
            self.folding_enabled
            and op.has_trait(HasFolder, value_if_unregistered=False)
            and not op.has_trait(ConstantLike, value_if_unregistered=True)
        ):
            assert self.ctx is not None, "folding needs a context"
            folded = Folder(self.ctx).try_fold(op)
            if folded is not None:
                rewriter.replace(op, new_ops=folded[1], new_results=folded[0])
                stats.record(f"(fold {op.name})")
                return
        for pattern in self.rewrite_patterns:
            pattern.match_and_rewrite(op, rewriter)
            if rewriter.has_done_action:
                stats.record(type(pattern).__name__)
                return

    GreedyRewritePatternApplier.match_and_rewrite = match_and_rewrite  # type: ignore[method-assign]
    try:
        yield stats
    finally:
        GreedyRewritePatternApplier.match_and_rewrite = original  # type: ignore[method-assign]
