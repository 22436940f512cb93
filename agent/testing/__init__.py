"""Test doubles that are real parts: a scripted OpenAI-compatible model server."""

from agent.testing.script import (
    BodyStep,
    ErrorStep,
    HangStep,
    ReplyStep,
    ScriptedToolCall,
    ScriptedUsage,
    Step,
    StreamEnd,
    image_urls,
    parse_script,
)
from agent.testing.scripted_model import ScriptedModel

__all__ = [
    "BodyStep",
    "ErrorStep",
    "HangStep",
    "ReplyStep",
    "ScriptedModel",
    "ScriptedToolCall",
    "ScriptedUsage",
    "Step",
    "StreamEnd",
    "image_urls",
    "parse_script",
]
