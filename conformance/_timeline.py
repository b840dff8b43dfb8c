"""A history as a timeline a person can read: one column per thread, calls in time order.

Pure rendering: it consumes a History and the operation ids to mark, and returns text.
"""

from __future__ import annotations

from collections.abc import Collection

from conformance.history import History, Operation, Status

__all__ = ["describe", "render_timeline"]

WIDTH = 30


def describe(op: Operation) -> str:
    """``send p0-3 (tx1) -> ok``: the call and how it ended, in a few words."""
    what = op.kind.value
    if op.handle is not None:
        what += f"[tx{op.handle}]"
    if op.value is not None:
        what += f" {op.value}"
    if op.status is Status.PENDING:
        return f"{what} ... (never returned)"
    outcome = op.status.value
    if op.result is not None:
        outcome = f"{op.result}" if op.kind.is_recv else f"tx{op.result}"
    return f"{what} -> {outcome}"


def render_timeline(history: History, marked: Collection[int] = (), *, limit: int = 80) -> str:
    """Rows in order of invocation; times in microseconds from the first call; ``!!``
    marks the operations a check named.  Long histories keep the rows around the marked
    operations (and the start), up to ``limit`` rows."""
    ops = sorted(history.operations, key=lambda o: (o.invoke, o.id))
    if not ops:
        return "(empty history)"
    threads = sorted({o.thread for o in ops}, key=lambda t: (t != "main", t))
    t0 = ops[0].invoke
    keep = _rows_to_keep(ops, set(marked), limit)
    header = f"{'t (µs)':>10}  " + "".join(f"{t[:WIDTH]:<{WIDTH + 2}}" for t in threads)
    lines = [header, "-" * len(header)]
    skipped = False
    for i, op in enumerate(ops):
        if i not in keep:
            if not skipped:
                lines.append(f"{'...':>10}")
            skipped = True
            continue
        skipped = False
        cell = ("!! " if op.id in marked else "") + describe(op)
        took = "" if op.respond is None else f" ({(op.respond - op.invoke) / 1000:.0f})"
        cells = "".join(
            f"{(cell + took)[:WIDTH]:<{WIDTH + 2}}" if t == op.thread else " " * (WIDTH + 2) for t in threads
        )
        lines.append(f"{(op.invoke - t0) / 1000:>10.0f}  {cells.rstrip()}")
    lines.append("(each cell: the call, its outcome, and how long it took in µs; !! marks the witnesses)")
    return "\n".join(lines)


def _rows_to_keep(ops: list[Operation], marked: set[int], limit: int) -> set[int]:
    if len(ops) <= limit:
        return set(range(len(ops)))
    keep = set(range(min(10, len(ops))))
    for i, op in enumerate(ops):
        if op.id in marked:
            keep.update(range(max(0, i - 5), min(len(ops), i + 6)))
    return set(sorted(keep)[:limit])
