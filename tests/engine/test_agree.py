"""Agree voting (Pol.is style): one idea at a time; agree, disagree, pass, report, undo."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engine import (
    AgreeCast,
    ApproveCast,
    IdeaFlagged,
    PairWanted,
    Press,
    Text,
    VoteUndone,
    load_source,
    offer,
    start,
    step,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)
FLOW = load_source("""\
id: agree
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?, optional: true}
  - {id: poll, type: vote, pool: my_idea, method: agree, text: Do you agree?, votes: 3}
  - {id: bye, type: end, text: Thanks!}
""")


def test_one_idea_at_a_time_with_agree_disagree_pass_and_report() -> None:
    state, _ = start(FLOW, NOW)
    state, _ = step(FLOW, state, Text("yes"), NOW)
    state, events = step(FLOW, state, Text("done"), NOW)
    assert events[-1] == PairWanted("poll")
    state, [shown] = offer(FLOW, state, (7, "Longer opening hours"))
    assert shown.text == "Do you agree?\n\nLonger opening hours"
    assert [b.label for b in shown.buttons] == ["Agree", "Disagree", "Pass", "Report"]
    state, events = step(FLOW, state, Text("disagree"), NOW)
    assert events == [AgreeCast("poll", 7, "disagree"), PairWanted("poll")]
    state, _ = offer(FLOW, state, (8, "More shade"))
    state, events = step(FLOW, state, Text("undo"), NOW)
    assert events[0] == VoteUndone("poll", 7, None) and state.offer == {
        "idea": 7, "text": "Longer opening hours"}
    state, events = step(FLOW, state, Text("1"), NOW)
    assert events[0] == AgreeCast("poll", 7, "agree")
    state, _ = offer(FLOW, state, (8, "More shade"))
    state, events = step(FLOW, state, Text("maybe"), NOW)
    assert events[0].kind == "reprompt" and state.offer is not None
    state, events = step(FLOW, state, Press("vote:flag"), NOW)
    assert events[:2] == [AgreeCast("poll", 8, "pass"), IdeaFlagged("poll", 8)]
    assert events[2] == PairWanted("poll") and state.cast == 2


APPROVE = load_source("""\
id: approve
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?, optional: true}
  - {id: pick, type: vote, pool: my_idea, method: approve, text: Which do you support?,
     show: 3, pick: 2}
  - {id: bye, type: end, text: Thanks!}
""")
LIST = [(4, "Trees"), (5, "Benches"), (6, "Lights")]


def test_approve_lists_take_up_to_pick_numbers_or_none() -> None:
    state, _ = start(APPROVE, NOW)
    state, _ = step(APPROVE, state, Text("yes"), NOW)
    state, _ = step(APPROVE, state, Text("done"), NOW)
    state, [shown] = offer(APPROVE, state, LIST)
    assert [b.label for b in shown.buttons] == ["Trees", "Benches", "Lights"]
    assert shown.hint == ("Choose up to 2 you support: reply with their numbers, for example "
                          "1,3, or 0 for none.") and shown.multiple
    for wrong in ("1,2,3", "4", "x"):
        _, events = step(APPROVE, state, Text(wrong), NOW)
        assert events[0].kind == "reprompt", wrong
    after, events = step(APPROVE, state, Text("3, 1"), NOW)
    assert events[0] == ApproveCast("pick", (4, 5, 6), (4, 6))
    after, events = step(APPROVE, after, Text("undo"), NOW)
    assert events[0] == VoteUndone("pick", 4, None, (4, 5, 6))
    after, events = step(APPROVE, after, Text("0"), NOW)
    assert events[0] == ApproveCast("pick", (4, 5, 6), ())
