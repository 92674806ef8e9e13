"""The JSON Schema of a flow file: the single source for validation and for editors.

``flows/schema.json`` is this dictionary written out (``kolot schema --out flows/schema.json``;
a test keeps the two identical). Step kinds are told apart with ``if``/``then`` on ``type``,
so a schema error names the keys that kind allows rather than an unreadable ``oneOf``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STEP_DESCRIPTIONS", "STEP_KEYS", "STEP_TYPES", "flow_schema"]

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
OPTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(_[A-Z]{2})?$"
_COUNT = {"type": "integer", "minimum": 1}

_TEXT = {"type": "string", "minLength": 1, "description": "What the participant reads."}
_NEXT = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "Step to go to afterwards (default: the next step in the file).",
}
_OPTIONAL = {"type": "boolean", "description": "The participant may answer 'skip'."}
_PHASE = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "Asked only while this phase is open; before, the participant is told "
    "when it opens, after, that it has closed.",
}
DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?[mhdw]$"
_DURATION = {"type": "string", "pattern": DURATION_PATTERN,
             "description": "A length of time: 90m, 24h, 2d, 1w."}
DATETIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}$"
_DATETIME = {"type": "string", "pattern": DATETIME_PATTERN,
             "description": "A local date and time in the flow's timezone: 2026-12-01 09:00."}
CLOCK_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
WEEKLY_PATTERN = r"^(?i:mon|tue|wed|thu|fri|sat|sun) ([01]?[0-9]|2[0-3]):[0-5][0-9]$"
_OUTREACH_TEXT = {"type": "string", "minLength": 1}
OUTREACH_PROPERTIES: dict[str, Any] = {
    "timezone": {"type": "string", "minLength": 1,
                 "description": "The IANA time zone of the process's dates and quiet hours, "
                 "e.g. Asia/Jerusalem (default UTC)."},
    "phases": {
        "type": "array", "minItems": 1,
        "description": "The stages of the process, in order, with their dates.",
        "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "starts", "ends"],
            "properties": {
                "id": {"type": "string", "pattern": ID_PATTERN},
                "starts": _DATETIME,
                "ends": _DATETIME,
                "announce": {**_OUTREACH_TEXT,
                             "description": "Sent to every participant when the phase opens."},
                "invite": {"type": "string", "pattern": ID_PATTERN,
                           "description": "When the phase opens, participants who finished "
                           "are taken to this step."},
            },
        },
    },
    "reminders": {
        "type": "object", "additionalProperties": False,
        "description": "Nudges to people who stopped half-way, and before a phase ends.",
        "properties": {
            "inactivity": {
                "type": "object", "additionalProperties": False, "required": ["after"],
                "properties": {
                    "after": {"type": "array", "minItems": 1, "maxItems": 10,
                              "items": _DURATION,
                              "description": "The wait before each nudge (one nudge each)."},
                    "text": _OUTREACH_TEXT,
                },
            },
            "deadline": {
                "type": "array", "minItems": 1,
                "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["phase", "before"],
                    "properties": {
                        "phase": {"type": "string", "pattern": ID_PATTERN},
                        "before": _DURATION,
                        "unless": {"type": "array", "minItems": 1,
                                   "items": {"type": "string", "pattern": ID_PATTERN}},
                        "text": _OUTREACH_TEXT,
                    },
                },
            },
        },
    },
    "quiet_hours": {
        "type": "object", "additionalProperties": False,
        "description": "When reminders wait (default 21:00 to 08:00 every night).",
        "properties": {
            "from": {"type": "string", "pattern": CLOCK_PATTERN},
            "to": {"type": "string", "pattern": CLOCK_PATTERN},
            "also": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["from", "to"],
                "properties": {"from": {"type": "string", "pattern": WEEKLY_PATTERN},
                               "to": {"type": "string", "pattern": WEEKLY_PATTERN}},
            }},
        },
    },
    "reminders_per_day": {**_COUNT, "description": "At most this many reminders a day to one "
                                                   "participant (default 2)."},
    "access": {"enum": ["open", "closed"],
               "description": "closed: only people who come with one of this flow's invite "
               "codes may take part (a closed circle)."},
    "targets": {
        "type": "object",
        "description": "Representation targets for kolot stats: a profile field (or "
        "language, channel, source, circle) and the least share of each value.",
        "additionalProperties": {"type": "object", "additionalProperties": {
            "type": "number", "minimum": 0, "maximum": 1}},
    },
    "results": {
        "type": "object", "additionalProperties": False, "required": ["after"],
        "description": "When a phase ends, every participant who took part gets the results "
        "in their language: the top ideas with a chart, the figures, their own idea's rank.",
        "properties": {
            "after": {"type": "string", "pattern": ID_PATTERN,
                      "description": "The phase whose end sends the results."},
            "top": {"type": "integer", "minimum": 1, "maximum": 20,
                    "description": "How many ideas to list (default 5)."},
            "publish": {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN},
                        "description": "Questions whose answers are summed up too."},
            "next": {**_OUTREACH_TEXT, "description": "What happens next, in the organiser's "
                     "words."},
        },
    },
}
_PROFILE = {
    "type": "string",
    "pattern": ID_PATTERN,
    "description": "Also store the answer on the participant's profile under this name; "
    "conditions read it as profile.NAME.",
}
_OPTIONS = {
    "type": "array",
    "minItems": 2,
    "description": "The answers to choose from, in the order they are shown.",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "label"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": OPTION_ID_PATTERN,
                "description": "Stored value; conditions compare answers with it.",
            },
            "label": {
                "type": "string",
                "minLength": 1,
                "description": "Shown on the button (WhatsApp: up to 20 characters on a button, "
                "24 in a list).",
            },
        },
    },
}
_RULES = {
    "type": "array",
    "minItems": 1,
    "description": "Tried in order; the first rule whose condition holds decides.",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["when", "next"],
        "properties": {
            "when": {
                "type": "string",
                "minLength": 1,
                "description": "A condition, e.g. importance >= 4 and sector == \"public\".",
            },
            "next": {**_NEXT, "description": "Step to go to when the condition holds."},
        },
    },
}

_COMMON = {
    "id": {
        "type": "string",
        "pattern": ID_PATTERN,
        "description": "Unique within the flow; answers are stored under it, so keep it stable.",
    },
    "type": {"type": "string"},
}

# Keys each step type accepts, which of them are required (besides id and type), and what
# the type is for (shown by editors).
STEP_KEYS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "message": ({"text": _TEXT, "next": _NEXT}, ["text"]),
    "consent": ({"text": _TEXT, "next": _NEXT}, ["text"]),
    "language": ({"text": _TEXT, "next": _NEXT}, ["text"]),
    "choice": (
        {"text": _TEXT, "options": _OPTIONS, "profile": _PROFILE, "optional": _OPTIONAL,
         "phase": _PHASE, "next": _NEXT},
        ["text", "options"],
    ),
    "multi_choice": (
        {"text": _TEXT, "options": _OPTIONS,
         "min": {**_COUNT, "description": "At least this many options (default 1)."},
         "max": {**_COUNT, "description": "At most this many options (default: all)."},
         "profile": _PROFILE, "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text", "options"],
    ),
    "scale": (
        {"text": _TEXT,
         "min": {"type": "integer", "description": "Lowest value (default 1)."},
         "max": {"type": "integer", "description": "Highest value (default 5)."},
         "profile": _PROFILE, "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text"],
    ),
    "number": (
        {"text": _TEXT,
         "min": {"type": "number", "description": "Lowest accepted number."},
         "max": {"type": "number", "description": "Highest accepted number."},
         "integer": {"type": "boolean", "description": "Only whole numbers."},
         "profile": _PROFILE, "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text"],
    ),
    "yes_no": (
        {"text": _TEXT, "profile": _PROFILE, "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text"],
    ),
    "text": (
        {"text": _TEXT,
         "min_length": {"type": "integer", "minimum": 1,
                        "description": "Shortest accepted answer in characters (default 1)."},
         "max_length": {"type": "integer", "minimum": 1,
                        "description": "Longest accepted answer in characters (default 2000)."},
         "profile": _PROFILE, "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text"],
    ),
    "idea": (
        {"text": _TEXT,
         "rules": {"type": "string", "minLength": 1,
                   "description": "The rules of discourse, shown before the question."},
         "max_ideas": {**_COUNT, "description": "Ideas one participant may give (default 1)."},
         "min_length": {"type": "integer", "minimum": 1,
                        "description": "Shortest idea in characters (default 10)."},
         "max_length": {"type": "integer", "minimum": 1,
                        "description": "Longest idea in characters (default 280)."},
         "optional": _OPTIONAL, "phase": _PHASE, "next": _NEXT},
        ["text"],
    ),
    "vote": (
        {"text": _TEXT,
         "pool": {"type": "string", "pattern": ID_PATTERN,
                  "description": "The idea step whose ideas are voted on."},
         "method": {"enum": ["pairwise", "agree", "approve"],
                    "description": "pairwise: two ideas, pick the better (the default); "
                    "agree: one idea at a time, agree, disagree or pass; approve: a short "
                    "list, pick up to 'pick' of them."},
         "show": {"type": "integer", "minimum": 2, "maximum": 10,
                  "description": "approve: ideas in each list (default 5)."},
         "pick": {**_COUNT, "description": "approve: at most this many per list (default 2)."},
         "votes": {**_COUNT, "description": "Votes before asking whether to go on (default 8)."},
         "phase": _PHASE, "next": _NEXT},
        ["text", "pool"],
    ),
    "branch": (
        {"rules": _RULES,
         "otherwise": {**_NEXT, "description": "Step to go to when no rule holds "
                                               "(default: the next step in the file)."}},
        ["rules"],
    ),
    "end": ({"text": _TEXT}, []),
}
STEP_DESCRIPTIONS = {
    "message": "Says something and moves on without waiting.",
    "consent": "Asks the participant to agree before any answer is stored.",
    "language": "Asks which of the flow's languages to continue in; /lang changes it later.",
    "choice": "One option out of a list; the answer is the option's id.",
    "multi_choice": "Several options out of a list; the answer is a list of option ids.",
    "scale": "A whole number between min and max, one button per value.",
    "number": "A number, optionally bounded and whole.",
    "yes_no": "A yes/no question; the answer is true or false.",
    "text": "A free-text answer.",
    "idea": "Participants propose ideas, one per message, for others to vote on.",
    "vote": "Participants compare ideas from an idea step, two at a time.",
    "branch": "Chooses the next step from the answers so far, silently.",
    "end": "The last words of a run.",
}
STEP_TYPES = tuple(STEP_KEYS)


def flow_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name, (keys, required) in STEP_KEYS.items():
        defs[name] = {
            "description": STEP_DESCRIPTIONS[name],
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "type", *required],
            "properties": {**_COMMON, **keys},
        }
    step = {
        "type": "object",
        "required": ["id", "type"],
        "properties": {
            "id": _COMMON["id"],
            "type": {"enum": list(STEP_TYPES), "description": "What kind of step this is."},
        },
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/{name}"},
            }
            for name in STEP_TYPES
        ],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Kolot flow",
        "description": "A participation flow: questionnaire steps, branches and messages.",
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "version", "default_language", "steps"],
        "properties": {
            "id": {
                "type": "string",
                "pattern": ID_PATTERN,
                "description": "Stable flow id; 'kolot answers' and stored runs use it.",
            },
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "Raise it when you publish a changed flow.",
            },
            "title": {"type": "string", "description": "A readable name (default: the id)."},
            "default_language": {
                "type": "string",
                "pattern": LANGUAGE_PATTERN,
                "description": "The language the texts in this file are written in.",
            },
            "languages": {
                "type": "array",
                "uniqueItems": True,
                "description": "Languages participants may use (default: the default language).",
                "items": {"type": "string", "pattern": LANGUAGE_PATTERN},
            },
            "flags_to_hide": {
                **_COUNT,
                "description": "Reports by voters that hide an idea until reviewed (default 3).",
            },
            "moderation": {
                "enum": ["pre", "post"],
                "description": "Ideas wait for approval (pre) or are shown at once and can "
                "be removed (post, the default).",
            },
            **OUTREACH_PROPERTIES,
            "retention_days": {
                **_COUNT,
                "description": "How many days after the flow closes (the end of its last "
                "phase, or an admin's /close of it) its participants' personal data is kept; "
                "then kolot purge and the scheduler remove it (default: kept until removed "
                "by hand). Needs phases: a flow without them never closes.",
            },
            "steps": {
                "type": "array",
                "minItems": 1,
                "description": "Run in file order unless next or a branch says otherwise.",
                "items": {"$ref": "#/$defs/step"},
            },
        },
        "$defs": {"step": step, **defs},
    }
