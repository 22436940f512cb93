"""Test doubles that are real parts: a scripted OpenAI-compatible model server."""

from agent.testing.scripted_model import (
    ErrorStep,
    HangStep,
    ReplyStep,
    ScriptedModel,
    ScriptedToolCall,
    ScriptedUsage,
    Step,
    parse_script,
)

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
