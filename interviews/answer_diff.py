"""The conflict panel's comparison of two versions of an answer (this tab's and the one
another tab saved): line by line, the lines that differ marked, a little unchanged context
around them and the rest folded away, so that what differs is what the candidate sees first.

Pure (no Django import): difflib's ``SequenceMatcher`` on lines, computed on the server when
a save is refused as stale. The two sides come out row-aligned (a side with fewer lines in a
changed stretch gets fillers), so side by side each row faces its counterpart.
"""

from dataclasses import dataclass
from difflib import SequenceMatcher

CONTEXT_LINES = 2  # unchanged lines kept on each side of a change


@dataclass(frozen=True)
class DiffLine:
    """One row of one side. ``kind``: "same", "changed", "filler" (the other side has more
    lines in this stretch) or "gap" (``folded`` unchanged lines left out)."""

    kind: str
    text: str = ""
    number: int | None = None  # 1-based, in this side's own text; None for fillers and gaps
    folded: int = 0


@dataclass(frozen=True)
class Comparison:
    mine: list[DiffLine]
    theirs: list[DiffLine]
    differing: int  # rows that differ
    first_line: int | None  # the first differing row's line number (mine, else theirs)

    @property
    def same(self) -> bool:
        return self.differing == 0


def _rows(mine: list[str], theirs: list[str]) -> list[tuple[DiffLine, DiffLine]]:
    rows = []
    matcher = SequenceMatcher(None, mine, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [(DiffLine("same", mine[i], i + 1), DiffLine("same", theirs[j], j + 1))
                     for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            i, j = i1 + k, j1 + k
            rows.append((DiffLine("changed", mine[i], i + 1) if i < i2 else DiffLine("filler"),
                         DiffLine("changed", theirs[j], j + 1) if j < j2 else DiffLine("filler")))
    return rows


def compare_lines(mine: str, theirs: str, *, context: int = CONTEXT_LINES) -> Comparison:
    """``mine`` against ``theirs``, line by line: every differing row, ``context`` unchanged
    rows around each stretch of them, and a gap row for each run of unchanged rows left out
    (all of them when nothing differs)."""
    rows = _rows(mine.splitlines(), theirs.splitlines())
    changed = [index for index, (left, _) in enumerate(rows) if left.kind != "same"]
    kept = {index for at in changed
            for index in range(max(0, at - context), min(len(rows), at + context + 1))}
    sides: tuple[list[DiffLine], list[DiffLine]] = ([], [])
    folded = 0
    for index, row in enumerate(rows + [None]):
        if row is not None and index not in kept:
            folded += 1
            continue
        if folded:
            for side in sides:
                side.append(DiffLine("gap", folded=folded))
            folded = 0
        if row is not None:
            sides[0].append(row[0])
            sides[1].append(row[1])
    first = None
    if changed:
        left, right = rows[changed[0]]
        first = left.number if left.number is not None else right.number
    return Comparison(mine=sides[0], theirs=sides[1], differing=len(changed), first_line=first)
