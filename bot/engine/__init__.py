"""The pure flow engine: flow files in, (state, events) out. No I/O, no clock, no network.

Public surface: load and check flows (:func:`load_file`, :func:`check_file`), run them
(:func:`start`, :func:`step`), and the data types that cross the boundary.
"""

from bot.engine.diagnostics import Diagnostic
from bot.engine.errors import EngineError, FlowError
from bot.engine.events import (
    AgreeCast,
    AnswerRemoved,
    AnswerSaved,
    ApproveCast,
    Button,
    ConsentDeclined,
    ConsentGiven,
    Event,
    IdeaFlagged,
    IdeaSubmitted,
    IdeaWithdrawn,
    LanguageChosen,
    PairWanted,
    ProfileRemoved,
    ProfileSaved,
    RunEnded,
    Say,
    VoteCast,
    VoteUndone,
)
from bot.engine.flow import Flow, Option, Rule, Step
from bot.engine.inputs import Command, Input, Press, Start, Text, Unreadable
from bot.engine.loader import Checked, check_file, check_source, load_file, load_source
from bot.engine.runner import ask, command_of, jump, offer, start, step
from bot.engine.state import RunState
from bot.engine.texts import Translator

__all__ = [
    "AgreeCast",
    "AnswerRemoved",
    "AnswerSaved",
    "ApproveCast",
    "Button",
    "Checked",
    "Command",
    "ConsentDeclined",
    "ConsentGiven",
    "Diagnostic",
    "EngineError",
    "Event",
    "Flow",
    "FlowError",
    "IdeaFlagged",
    "IdeaSubmitted",
    "IdeaWithdrawn",
    "Input",
    "LanguageChosen",
    "Option",
    "PairWanted",
    "Press",
    "ProfileRemoved",
    "ProfileSaved",
    "Rule",
    "RunEnded",
    "RunState",
    "Say",
    "Start",
    "Step",
    "Text",
    "Translator",
    "Unreadable",
    "VoteCast",
    "VoteUndone",
    "ask",
    "check_file",
    "check_source",
    "command_of",
    "jump",
    "load_file",
    "load_source",
    "offer",
    "start",
    "step",
]
