"""Moderation in transcripts: post (shown at once), pre (held until approved), the
automatic screen (author told at once, in their language) and a moderator's rejection
(author told on their next turn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

FLOW = """\
id: ideas
version: 1
default_language: LANG
moderation: MODE
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: What would you change?, max_ideas: 2}
  - {id: bye, type: end, text: Thanks!}
"""


@pytest.fixture
def db(empty_database_url: str) -> str:
    return empty_database_url


def flow_file(tmp_path: Path, mode: str, language: str = "en") -> Path:
    path = tmp_path / f"ideas-{mode}-{language}.yaml"
    path.write_text(FLOW.replace("MODE", mode).replace("LANG", language), encoding="utf-8")
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def chat(path: Path, db: str, name: str, *lines: str) -> list[str]:
    script = path.parent / f"{name}.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run("chat", str(path), "--db", db, "--as", name, "--script", str(script)).splitlines()


def test_post_moderation_publishes_at_once(tmp_path: Path, db: str) -> None:
    path = flow_file(tmp_path, "post")
    said = chat(path, db, "ana", "yes", "More shade trees along the paths", "done")
    assert "bot: Thank you! Your idea: More shade trees along the paths" in said
    assert not any("checked" in line for line in said)
    assert run("ideas", "list", str(path), "--db", db).splitlines() == [
        "    1  approved  [en]  More shade trees along the paths"
    ]


def test_pre_moderation_holds_ideas_until_approved(tmp_path: Path, db: str) -> None:
    path = flow_file(tmp_path, "pre")
    said = chat(path, db, "ben", "yes", "A drinking fountain by the playground", "done")
    assert "bot: Thank you! Your idea: A drinking fountain by the playground" in said
    assert "Others will see it once it has been checked." in said
    assert "pending" in run("ideas", "list", str(path), "--status", "pending", "--db", db)
    assert run("ideas", "approve", str(path), "1", "--db", db).strip() == "1: approved"
    assert run("ideas", "list", str(path), "--status", "pending", "--db", db) == ""
    assert "approved" in run("ideas", "list", str(path), "--db", db)


def test_the_screen_tells_the_author_at_once_in_their_language(tmp_path: Path, db: str) -> None:
    path = flow_file(tmp_path, "post", language="he")
    said = chat(path, db, "dana", "כן", "התקשרו אליי 052-1234567 לגבי הספסלים", "סיימתי")
    assert (
        "bot: הרעיון שלכם ”\u2068התקשרו אליי 052-1234567 לגבי הספסלים\u2069” לא פורסם, כי "
        "\u2068יש בו פרטים אישיים כמו מספר טלפון או כתובת דוא״ל\u2069. אתם מוזמנים לכתוב "
        "אותו שוב בלי זה."
    ) in said
    assert run("ideas", "list", str(path), "--db", db).splitlines() == [
        "    1  rejected (personal_data)  [he]  התקשרו אליי 052-1234567 לגבי הספסלים"
    ]


def test_a_moderators_rejection_reaches_the_author_on_their_next_turn(
    tmp_path: Path, db: str
) -> None:
    path = flow_file(tmp_path, "post")
    chat(path, db, "cai", "yes", "Paint the benches in team colours")
    out = run("ideas", "reject", str(path), "1", "--reason", "rules", "--db", db)
    assert out.strip() == "1: rejected (rules), author told"
    said = chat(path, db, "cai", "done")
    assert said[0] == (  # held in the outbox, shown before anything else
        "bot: Your idea “Paint the benches in team colours” was not published, because it "
        "does not keep to the rules of discourse. You are welcome to write it again without "
        "that."
    )
    assert said[-1] == "bot: Thanks!"


def test_seed_ideas_are_imported_approved(tmp_path: Path, db: str) -> None:
    path = flow_file(tmp_path, "pre")
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("step,text,language\nmy_idea,Longer opening hours,en\n"
                     "my_idea,ספסלים בצל,he\n", encoding="utf-8")
    assert run("ideas", "import", str(path), str(seeds), "--db", db).strip() == (
        "imported 2 ideas into ideas"
    )
    listed = run("ideas", "list", str(path), "--status", "approved", "--db", db)
    assert "[he]  ספסלים בצל" in listed and "[en]  Longer opening hours" in listed
    bad = tmp_path / "bad.csv"
    bad.write_text("step,text\nnope,Something\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["ideas", "import", str(path), str(bad), "--db", db])
    assert result.exit_code == 1 and "bad.csv:2: error" in result.output
    assert json.loads(run("results", str(path), "--db", db, "--format", "json")) == {
        "pairwise": [], "agree": [], "approve": []  # nobody has voted yet: nothing ranked
    }


def test_reports_hide_an_idea_at_the_flows_threshold(tmp_path: Path, db: str) -> None:
    path = tmp_path / "flags.yaml"
    path.write_text(
        "id: flags\nversion: 1\ndefault_language: en\nflags_to_hide: 2\nsteps:\n"
        "  - {id: consent, type: consent, text: Agreed?}\n"
        "  - {id: my_idea, type: idea, text: Your idea?, optional: true}\n"
        "  - {id: rank, type: vote, pool: my_idea, text: Which is better?, votes: 5}\n"
        "  - {id: bye, type: end, text: Thanks!}\n",
        encoding="utf-8",
    )
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("step,text\nmy_idea,Alpha benches\nmy_idea,Bravo trees\n"
                     "my_idea,Charlie lights\n", encoding="utf-8")
    run("ideas", "import", str(path), str(seeds), "--db", db)
    for voter in ("eli", "fay"):
        said = chat(path, db, voter, "yes", "done")  # no idea of their own: straight to voting
        assert "     4. Report A" in said and "     5. Report B" in said
        report = "4" if "A: Alpha benches" in said else "5" if "B: Alpha benches" in said else ""
        if not report:  # this voter's first pair is Bravo and Charlie: answer it, see the next
            said = chat(path, db, voter, "3")
            report = "4" if "A: Alpha benches" in said else "5"
        chat(path, db, voter, report)
    listed = run("ideas", "list", str(path), "--db", db).splitlines()
    assert listed[0] == "    1  hidden (flagged)  [en]  Alpha benches"
    assert [line.split()[1] for line in listed[1:]] == ["approved", "approved"]
    said = chat(path, db, "gil", "yes", "done")  # a new voter never sees the hidden idea
    assert not any("Alpha" in line for line in said)


def test_merging_folds_an_idea_into_a_similar_one_and_tells_its_author(
    tmp_path: Path, db: str
) -> None:
    path = flow_file(tmp_path, "post")
    chat(path, db, "hana", "yes", "Plant more trees for shade", "done")
    chat(path, db, "ido", "yes", "Shade from new trees near the benches", "done")
    assert run("ideas", "merge", str(path), "2", "1", "--db", db).strip() == (
        "2: merged into 1, author told"
    )
    listed = run("ideas", "list", str(path), "--db", db).splitlines()
    assert [line.split()[1] for line in listed] == ["approved", "merged"]
    said = chat(path, db, "ido", "done")
    assert said[0] == (
        "bot: Your idea “Shade from new trees near the benches” was merged with a similar one, "
        "“Plant more trees for shade”, which others will vote on."
    )
    bad = CliRunner().invoke(main, ["ideas", "merge", str(path), "1", "1", "--db", db])
    assert bad.exit_code == 1 and "must be two ideas" in bad.output
