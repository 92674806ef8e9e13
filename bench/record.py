"""Adding a benchmark's rows to its own table in docs/benchmarks.md.

Each script has a section (``## bench/<name>.py``) ending in a table; a run's rows go
after that table's last row, wherever the section sits in the file, and the section is
written first when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["DOC", "add_rows"]

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def add_rows(section: str, rows: Sequence[str], doc: Path = DOC) -> None:
    """``section`` starts with its ``## `` heading and ends with the table's header."""
    lines = doc.read_text(encoding="utf-8").splitlines(keepends=True) if doc.exists() else []
    heading = section.splitlines()[0].rstrip()
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    new = [row if row.endswith("\n") else row + "\n" for row in rows]
    if start is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += ["\n", *section.splitlines(keepends=True), *new]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
        table = [i for i in range(start, end) if lines[i].startswith("|")]
        at = table[-1] + 1 if table else end
        lines[at:at] = new
    doc.write_text("".join(lines), encoding="utf-8")
