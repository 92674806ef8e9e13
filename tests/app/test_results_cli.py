"""`kolot results`: the approved ideas ranked by their votes, as text or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from bot.cli import main
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def test_results_rank_approved_ideas_by_their_votes(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        voters = [
            uow.participants.create("console", f"v{n}", now=NOW, pseudonym=f"p{n}").id
            for n in range(20)
        ]
        shade, water, hidden = (
            uow.ideas.add("park", "idea", None, text, "he", status=status, now=NOW)
            for text, status in (("צל", "approved"), ("ברזייה", "approved"),
                                 ("שם של אדם", "rejected"))
        )
        for n, voter in enumerate(voters):
            uow.votes.record_pair("park", voter, (shade, water), shade if n < 16 else water,
                                  now=NOW)
            uow.votes.record_pair("park", voter, (shade, hidden), hidden, now=NOW)
        uow.commit()
    engine.dispose()

    result = CliRunner().invoke(main, ["results", "park", "--db", empty_database_url,
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    ranked = json.loads(result.output)["pairwise"]
    assert [(r["rank"], r["text"], r["wins"], r["losses"]) for r in ranked] == [
        (1, "צל", 16, 4), (2, "ברזייה", 4, 16)
    ]  # votes against the rejected idea don't count
    assert ranked[0]["score"] > 50 > ranked[1]["score"] and not ranked[0]["provisional"]

    text = CliRunner().invoke(main, ["results", "park", "--db", empty_database_url]).output
    assert text.splitlines()[0].endswith("16-4  צל")


def test_agreement_and_consensus_across_groups(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        loved_by_one, shared = (
            uow.ideas.add("park", "idea", None, text, "en", status="approved", now=NOW)
            for text in ("Parking in the park", "More shade")
        )
        for n in range(12):
            voter = uow.participants.create("console", f"v{n}", now=NOW, pseudonym=f"p{n}")
            sector = "public" if n < 6 else "civil"
            uow.participants.set_profile(voter.id, {"sector": sector}, now=NOW)
            uow.votes.record_agree("park", voter.id, loved_by_one,
                                   "agree" if sector == "public" else "disagree", now=NOW)
            uow.votes.record_agree("park", voter.id, shared, "agree" if n % 4 else "pass",
                                   now=NOW)
        uow.commit()
    engine.dispose()
    out = CliRunner().invoke(main, ["results", "park", "--db", empty_database_url,
                                    "--groups", "sector", "--format", "json"]).output
    agreed = json.loads(out)["agree"]
    assert [(a["text"], a["agree"], a["disagree"], a["passed"]) for a in agreed] == [
        ("More shade", 9, 0, 3), ("Parking in the park", 6, 6, 0)
    ]
    # (4+1)/(6+2) * (5+1)/(6+2) for shade; (6+1)/(6+2) * (0+1)/(6+2) for parking
    assert [a["consensus"] for a in agreed] == [0.469, 0.109]
    # without groups, half of everyone agreeing looks like more consensus than it is
    ungrouped = json.loads(CliRunner().invoke(main, ["results", "park", "--db",
                                                     empty_database_url, "--format", "json"]
                                              ).output)["agree"]
    assert ungrouped[1]["consensus"] > agreed[1]["consensus"]
