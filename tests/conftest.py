"""Shared fixtures: a scripted OpenAI-compatible model on 127.0.0.1.

Use ``scripted_model`` for a server of your own (fresh per test), then
``model_config(scripted_model.base_url)`` for a :class:`ModelConfig` that
reaches it with fast retries::

    async def test_hello(scripted_model):
        scripted_model.load([{"text": "hi"}])
        client = LiteLlmClient(model_config(scripted_model.base_url))
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from agent.llm.types import ModelConfig
from agent.testing import ScriptedModel

# the language-server fixtures (``env``, ``lsp``) live with their helpers
pytest_plugins = ["lspkit"]

SCRIPTED_MODEL = "openai/scripted"
TEST_API_KEY = "test-key"


def model_config(base_url: str, **overrides: Any) -> ModelConfig:
    """A config for the scripted model: short timeouts and near-instant retries."""
    values: dict[str, Any] = {
        "model": SCRIPTED_MODEL,
        "api_base": base_url,
        "api_key": TEST_API_KEY,
        "timeout_seconds": 10.0,
        "max_retries": 2,
        "retry_base_delay": 0.01,
        "retry_max_delay": 0.05,
    }
    values.update(overrides)
    return ModelConfig(**values)


@pytest.fixture
def scripted_model() -> Iterator[ScriptedModel]:
    """A running scripted model with an empty script; ``load(steps)`` it."""
    with ScriptedModel() as model:
        yield model
