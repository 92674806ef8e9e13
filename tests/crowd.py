"""Many participants at once, written straight into the tables (for broadcasts at scale).

Walking 100,000 people through a flow would take minutes, and a broadcast reads only
what a walk leaves behind: the participant, and their newest run of the flow with its
state (consented, language, finished or not). Those rows are written here in bulk, in
the shapes the service writes them, on the real database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, insert

from bot.engine import Flow, RunState, load_file
from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import Participant, Run

__all__ = ["PARK", "seed"]

PARK = Path(__file__).resolve().parents[1] / "flows" / "examples" / "neighbourhood-park.yaml"


def seed(engine: Engine, n: int, *, now: datetime, path: Path = PARK,
         languages: Sequence[str] = ("he", "ar", "en"), channel: str = "telegram",
         first_address: int = 10_000_000, finished_every: int = 2) -> Flow:
    """``n`` consented participants of the flow at ``path`` on ``channel``, addresses
    counting up from ``first_address`` (Telegram chat ids), languages in turn; every
    ``finished_every``-th has finished. Returns the flow."""
    flow = load_file(path)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        definition = uow.definitions.ensure(flow.id, flow.version, flow.sha256,
                                            path.read_text(encoding="utf-8"), now=now)
        people = [{"channel": channel, "address": str(first_address + i),
                   "pseudonym": f"crowd-{first_address + i}",
                   "language": languages[i % len(languages)], "profile": {}, "consent_at": now,
                   "created_at": now, "updated_at": now, "last_inbound_at": now}
                  for i in range(n)]
        ids = uow.session.scalars(
            insert(Participant).returning(Participant.id, sort_by_parameter_order=True),
            people).all()
        runs = []
        for i, (person, person_id) in enumerate(zip(people, ids, strict=True)):
            done = finished_every > 0 and i % finished_every == 0
            state = RunState(flow.id, flow.version, flow.sha256, str(person["language"]),
                             status="finished" if done else "active",
                             step=None if done else flow.steps[2].id, consented=True)
            runs.append({"participant_id": person_id, "flow_id": flow.id,
                         "definition_id": definition.id, "status": state.status,
                         "state": state.to_json(), "started_at": now, "updated_at": now,
                         "finished_at": now if done else None})
        uow.session.execute(insert(Run), runs)
        uow.commit()
    return flow
