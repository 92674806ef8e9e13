"""The engine's exceptions.

EngineError                  anything the engine refuses
 └── FlowError               a flow file that cannot be used; carries its diagnostics
"""

from __future__ import annotations

from bot.engine.diagnostics import Diagnostic

__all__ = ["EngineError", "FlowError"]


class EngineError(Exception):
    pass


class FlowError(EngineError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__("\n".join(str(d) for d in errors) or "invalid flow")
