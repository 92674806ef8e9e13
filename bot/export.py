"""Answers out, in open formats (PRINCIPLES rule 1): one record per participant.

Participants appear only by their pseudonym, never by channel address. JSON keeps the
answer types (option id, list of option ids, number, true/false, text); CSV flattens
lists to ``a;b`` so spreadsheets keep one cell per question.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from storage import UnitOfWork

__all__ = ["answers_csv", "answers_json", "answers_records"]


def answers_records(uow: UnitOfWork, flow_id: str) -> list[dict[str, Any]]:
    records = []
    for pseudonym, answers in uow.answers.latest_by_participant(flow_id):
        records.append({"participant": pseudonym, **answers})
    return records


def answers_json(records: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(records), ensure_ascii=False, indent=2) + "\n"


def answers_csv(records: Sequence[dict[str, Any]], step_order: Sequence[str]) -> str:
    seen = [k for r in records for k in r if k != "participant"]
    columns = ["participant", *[s for s in step_order if s in seen]]
    columns += sorted(set(seen) - set(columns))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)
