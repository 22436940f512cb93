"""Test doubles that are real parts: a scripted OpenAI-compatible model server."""

from agent.testing.script import (
    ErrorStep,
    HangStep,
    ReplyStep,
    ScriptedToolCall,
    ScriptedUsage,
    Step,
    parse_script,
)
from agent.testing.scripted_model import ScriptedModel

__all__ = [
    "ErrorStep",
    "HangStep",
    "ReplyStep",
    "ScriptedModel",
    "ScriptedToolCall",
    "ScriptedUsage",
    "Step",
    "parse_script",
]
