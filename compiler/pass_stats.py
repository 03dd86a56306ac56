"""`--pass-stats`: how often each rewrite pattern fired, per pass, whichever walker applied it.

Counting goes through xDSL's rewriter listener hooks (`PatternRewriterListener`): while counting is on, every
`PatternRewriteWalker` (t2m's passes, xDSL's, and walkers a plugin builds itself) gets one more listener for the
duration of its walk, beside its own. xDSL has no global registry of listeners, so the walk's public entry point,
`rewrite_region`, is where it is attached; nothing of the walker's or the applier's logic is copied.

A listener event (an op inserted, replaced, modified or erased) says what changed, not which pattern changed it:
that pattern is the innermost `RewritePattern` on the call stack, and one application is one call of the
walker's pattern, so several events of one rewrite count once. Dead-code removal and folding, which xDSL's
`GreedyRewritePatternApplier` does itself before trying its patterns, are counted as `(erase dead op)` and
`(fold <op>)`; a PDL rewrite is named after its `pdl.pattern`.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from xdsl.ir import Region
from xdsl.pattern_rewriter import (
    GreedyRewritePatternApplier,
    PatternRewriterListener,
    PatternRewriteWalker,
    RewritePattern,
)


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


_WALKER_STEP = PatternRewriteWalker._process_worklist.__code__  # pyright: ignore[reportPrivateUsage]
"""The walker's loop, which calls its pattern once per op: the frame below it is one application."""


class PatternCounter:
    """Listener callbacks that record, in `stats`, the pattern behind each rewrite (once per application)."""

    def __init__(self, stats: PassStats) -> None:
        self.stats = stats
        self._application: FrameType | None = None
        """The frame of the application last counted (kept alive so that no later frame can share its id)."""

    def listener(self) -> PatternRewriterListener:
        return PatternRewriterListener(
            operation_insertion_handler=[self.changed],
            operation_removal_handler=[self.changed],
            operation_modification_handler=[self.changed],
            operation_replacement_handler=[self.changed],
        )

    def changed(self, *_: Any) -> None:
        frame, pattern, application = sys._getframe(1), None, None
        while frame is not None and frame.f_code is not _WALKER_STEP:
            if pattern is None and isinstance(frame.f_locals.get("self"), RewritePattern):
                pattern = frame
            application, frame = frame, frame.f_back
        if frame is None or pattern is None or application is self._application:
            return  # not a pattern's doing (a walker's post-walk function), or an application already counted
        self._application = application
        self.stats.record(pattern_name(pattern))


def pattern_name(frame: FrameType) -> str:
    """The name under which the pattern running in `frame` is counted."""
    local = frame.f_locals
    pattern = local["self"]
    if isinstance(pattern, GreedyRewritePatternApplier):  # its own dead-code removal or folding
        op = local.get("op")
        return f"(fold {op.name})" if local.get("folded") is not None and op is not None else "(erase dead op)"
    rewrite = getattr(pattern, "pdl_rewrite_op", None)  # xDSL's PDLRewritePattern: one per pdl.pattern
    if rewrite is not None and (name := getattr(rewrite.parent_op(), "sym_name", None)) is not None:
        return f"pdl @{name.data}"
    return type(pattern).__name__


@contextmanager
def counting_patterns(stats: PassStats) -> Iterator[PassStats]:
    """Count, in `stats`, every pattern application of every walk run inside the block."""
    counter = PatternCounter(stats)
    walk = PatternRewriteWalker.rewrite_region

    def rewrite_region(self: PatternRewriteWalker, region: Region) -> bool:
        own = self.listener
        listener = PatternRewriterListener()
        listener.extend_from_listener(own)
        listener.extend_from_listener(counter.listener())
        self.listener = listener
        try:
            return walk(self, region)
        finally:
            self.listener = own

    PatternRewriteWalker.rewrite_region = rewrite_region  # type: ignore[method-assign]
    try:
        yield stats
    finally:
        PatternRewriteWalker.rewrite_region = walk  # type: ignore[method-assign]
