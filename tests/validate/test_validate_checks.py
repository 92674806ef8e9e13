"""Checks and positions that the broken-flow fixtures don't cover one by one."""

from __future__ import annotations

import time
from pathlib import Path

from bot.engine.loader import check_file, check_source

HEAD = """\
id: t
version: 1
default_language: en
steps:
  - id: consent
    type: consent
    text: Do you agree?
"""
YES_NO = """\
  - id: q
    type: yes_no
    text: Question?
"""


def lines(text: str) -> list[str]:
    return [str(d) for d in check_source(text, "f.yaml").diagnostics]


def test_a_condition_in_a_literal_block_points_into_the_block() -> None:
    text = HEAD + YES_NO + """\
  - id: r
    type: branch
    rules:
      - when: |
          q == true and
          q = false
        next: q
"""
    assert lines(text) == [
        "f.yaml:16:13: error: step 'r': condition 'q == true and q = false': "
        "unexpected character '=': use '==' to compare, not '='"
    ]


def test_a_condition_in_flow_style_points_into_the_mapping() -> None:
    text = HEAD + YES_NO + "  - id: r\n    type: branch\n    rules:\n" \
        "      - {when: 'q == tru', next: q}\n"
    assert lines(text) == [
        "f.yaml:14:22: error: step 'r': condition 'q == tru': 'tru' is not a step id; name a "
        "question by its step id, or a profile field as profile.NAME"
    ]


def test_unanswerable_conditions_of_each_kind() -> None:
    text = HEAD + """\
  - id: topics
    type: multi_choice
    text: Topics?
    options:
      - {id: parks, label: Parks}
      - {id: roads, label: Roads}
  - id: n
    type: number
    text: How many?
  - id: r
    type: branch
    rules:
      - {when: topics == "parks", next: n}
      - {when: 'n > "3"', next: n}
      - {when: 'profile.x == 1', next: n}
"""
    assert lines(text) == [
        "f.yaml:20:16: error: step 'r': condition 'topics == \"parks\"': 'topics' holds the list "
        "of chosen options; to test one option write \"parks\" in topics",
        "f.yaml:21:21: error: step 'r': condition 'n > \"3\"': 'n' holds a number; compare it "
        "with a number without quotes, not \"3\"",
        "f.yaml:22:25: error: step 'r': condition 'profile.x == 1': no step stores the profile "
        "field 'x'; add 'profile: x' to the question that asks it (profile fields in this flow: "
        "none yet)",
    ]


def test_profile_fields_are_checked_against_the_options_of_the_step_that_sets_them() -> None:
    text = HEAD + """\
  - id: age
    type: choice
    text: Age?
    profile: age_band
    options:
      - {id: under_30, label: Under 30}
      - {id: over_30, label: 30 or over}
  - id: r
    type: branch
    rules:
      - {when: 'profile.age_band in ["under_30", "over_40"]', next: age}
"""
    assert lines(text) == [
        "f.yaml:18:50: error: step 'r': condition 'profile.age_band in [\"under_30\", "
        "\"over_40\"]': \"over_40\" is not an option of step 'age' (did you mean 'over_30'?); "
        "its options are: under_30, over_30"
    ]


def test_a_scale_min_is_checked_against_the_default_max() -> None:
    text = HEAD + "  - id: s\n    type: scale\n    text: Rate\n    min: 7\n"
    assert lines(text) == [
        "f.yaml:11:10: error: step 's': min (7) is greater than max (5, the default when max is "
        "not given), so no answer fits; swap them or fix one"
    ]


def test_more_than_ten_options_warn_and_still_load() -> None:
    options = "".join(f"      - {{id: o{n}, label: Option {n}}}\n" for n in range(12))
    text = HEAD + "  - id: c\n    type: choice\n    text: Which?\n    options:\n" + options
    checked = check_source(text, "f.yaml")
    assert checked.flow is not None
    assert [str(d) for d in checked.diagnostics] == [
        "f.yaml:11:5: warning: step 'c': 12 options: WhatsApp lists hold at most 10, so there "
        "they are sent as numbered text; keep to 10 options to get a list"
    ]


def test_a_path_around_the_consent_step_is_caught() -> None:
    text = """\
id: t
version: 1
default_language: en
steps:
  - id: hello
    type: message
    text: Hi
  - id: split
    type: branch
    rules:
      - {when: 'profile.seen == true', next: q}
  - id: consent
    type: consent
    text: Do you agree?
  - id: q
    type: yes_no
    text: Question?
    profile: seen
"""
    assert lines(text) == [
        "f.yaml:15:9: error: step 'q': this yes_no step stores an answer before the participant "
        "has agreed (path: hello -> split -> q); move the consent step 'consent' before it, or "
        "add one"
    ]


def test_an_end_step_has_no_next() -> None:
    text = HEAD + "  - id: bye\n    type: end\n    text: Bye\n    next: consent\n"
    assert lines(text) == [
        "f.yaml:11:5: error: step 'bye': an end step finishes the run, so it has no 'next'; "
        "remove it, or use a message step to say something and go on"
    ]


def test_a_chain_of_unreachable_steps_explains_each_one() -> None:
    text = HEAD + "  - id: bye\n    type: end\n  - id: a\n    type: message\n    text: A\n" \
        "  - id: b\n    type: message\n    text: B\n"
    assert lines(text) == [
        "f.yaml:10:9: error: step 'a': no path leads to this step (the step above it, 'bye', "
        "ends the run); point a 'next' or a branch rule at it, or remove it",
        "f.yaml:13:9: error: step 'b': no path leads to this step (it only follows 'a', which "
        "cannot be reached either); point a 'next' or a branch rule at it, or remove it",
    ]


def test_the_loop_check_stays_fast_on_a_large_branchy_flow() -> None:
    steps = []
    for n in range(300):
        steps.append(
            f"  - id: b{n}\n    type: branch\n    rules:\n"
            f"      - {{when: 'q == true', next: b{(n + 1) % 300}}}\n"
            f"      - {{when: 'q == false', next: b{(n + 7) % 300}}}\n"
            f"    otherwise: b{(n + 13) % 300}\n"
        )
    text = HEAD + YES_NO + "".join(steps)
    began = time.perf_counter()
    found = lines(text)
    assert time.perf_counter() - began < 5
    assert len(found) == 1
    assert "form a loop with no question or end in it" in found[0]
    assert found[0].startswith("f.yaml:11:9: error: step 'b0': steps b0 -> b1 -> ")


def test_files_that_cannot_be_read(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"id: caf\xe9\n")
    assert [str(d) for d in check_file(latin).diagnostics] == [
        f"{latin}:1:1: error: the file is not UTF-8 text (byte 7); save it as UTF-8"
    ]
    missing = tmp_path / "missing.yaml"
    assert [str(d) for d in check_file(missing).diagnostics] == [
        f"{missing}:1:1: error: cannot read the file: No such file or directory"
    ]


def test_an_empty_file() -> None:
    assert lines("# nothing yet\n") == [
        "f.yaml:1:1: error: the file is empty; a flow is a mapping of keys: id, version, "
        "default_language and steps"
    ]


def test_a_reused_anchor_is_not_a_warning_or_an_error() -> None:
    text = HEAD + "  - id: q\n    type: yes_no\n    text: &t Question?\n" \
        "  - id: q2\n    type: yes_no\n    text: &t Again?\n"
    assert lines(text) == []
