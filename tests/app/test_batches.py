"""Inputs applied in batches (group commit) keep every promise of one input, one transaction:
each applied once, in order per participant, and one failing input costs the others
nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound
from bot.intake import Intake
from bot.registry import FlowRegistry, UnknownFlow
from bot.service import Handled, Service
from storage.models import Answer, ProcessedInput

EXAMPLE = Path(__file__).resolve().parents[2] / "flows" / "examples" / "civil-service-women.yaml"
FLOW = "civil-service-women"


def service(session_factory: sessionmaker[Session]) -> Service:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    return Service(session_factory, registry)


def typed(address: str, n: int, text: str | None = None, **kw: Any) -> Inbound:
    return Inbound("telegram", address, f"{address}-{n}", text=text, **kw)


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_batch_applies_each_input_once_in_order_per_participant(
    session_factory: sessionmaker[Session],
) -> None:
    svc = service(session_factory)
    batch = [
        (typed("ana", 0, command="start"), FLOW),
        (typed("ben", 0, command="start"), FLOW),
        (typed("ana", 1, "yes"), FLOW),
        (typed("ana", 1, "yes"), FLOW),  # the same update twice in one batch
        (typed("ben", 1, "no"), FLOW),
        (typed("ana", 2, "2"), FLOW),
    ]
    results = svc.handle_many(batch)
    assert [r.duplicate for r in results if isinstance(r, Handled)] == [
        False, False, False, True, False, False]
    with session_factory() as session:
        stored = session.execute(select(Answer.step_id, Answer.value)).all()
    assert stored == [("sector", "business")]  # ana consented, then answered; ben declined
    assert count(session_factory, ProcessedInput) == 5


def test_one_failing_input_is_refused_alone_and_the_others_are_applied(
    session_factory: sessionmaker[Session],
) -> None:
    svc = service(session_factory)
    results = svc.handle_many([
        (typed("cai", 0, command="start"), FLOW),
        (typed("dov", 0, command="start"), "no-such-flow"),
        (typed("eli", 0, command="start"), FLOW),
    ])
    assert isinstance(results[0], Handled) and isinstance(results[2], Handled)
    assert isinstance(results[1], UnknownFlow)
    with session_factory() as session:
        keys = set(session.scalars(select(ProcessedInput.platform_id)))
    assert keys == {"cai-0", "eli-0"}  # the failed one left no trace, so it can come again


async def test_concurrent_requests_share_commits(
    session_factory: sessionmaker[Session],
) -> None:
    svc = service(session_factory)
    calls: list[int] = []

    async def run_db(work: Callable[[], Any]) -> Any:
        calls.append(1)
        await asyncio.sleep(0.01)  # the database thread is busy with the batch before
        return work()

    intake = Intake(svc, run_db, batch=8)
    people = [f"p{n}" for n in range(20)]
    starts = await asyncio.gather(*(intake.apply(typed(p, 0, command="start"), FLOW)
                                    for p in people))
    assert all(not h.duplicate and h.run_status == "active" for h in starts)
    assert intake.inputs == 20 and intake.batches == len(calls) < 20
    consents = await asyncio.gather(*(intake.apply(typed(p, 1, "yes"), FLOW) for p in people))
    assert [h.messages[0].text for h in consents] == ["Where do you work?"] * 20


async def test_parallel_batches_never_hold_one_participant_twice(
    session_factory: sessionmaker[Session],
) -> None:
    """With several batches in flight (PostgreSQL), a participant's later input waits for
    the batch holding their earlier one, so their inputs apply in arrival order."""
    svc = service(session_factory)
    holding: list[set[str]] = []
    overlaps: list[str] = []

    async def run_db(work: Callable[[], Any]) -> Any:
        people = {inbound.address for inbound, _flow in work.args[0]}  # type: ignore[attr-defined]
        for other in holding:
            overlaps.extend(people & other)
        holding.append(people)
        await asyncio.sleep(0.01)
        result = work()
        holding.remove(people)
        return result

    intake = Intake(svc, run_db, batch=4, parallel=3)
    script = ["/start", "yes", "2", "1"]
    inputs = [typed(p, n, text) if text != "/start" else typed(p, n, command="start")
              for n, text in enumerate(script) for p in ("ana", "ben", "cai")]
    results = await asyncio.gather(*(intake.apply(i, FLOW) for i in inputs))
    assert overlaps == []
    assert all(not r.duplicate for r in results)
    with session_factory() as session:
        stored = sorted(session.execute(select(Answer.step_id, Answer.value)).all())
    assert stored == [("sector", "business")] * 3 + [("topics", ["childcare"])] * 3
