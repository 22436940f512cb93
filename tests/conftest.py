"""Shared fixtures: a scripted OpenAI-compatible model on 127.0.0.1.

Use ``scripted_model`` for a server of your own (fresh per test), then
``model_config(scripted_model.base_url)`` for a :class:`ModelConfig` that
reaches it with fast retries::

    async def test_hello(scripted_model):
        scripted_model.load([{"text": "hi"}])
        client = LiteLlmClient(model_config(scripted_model.base_url))
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
# every host a test starts gets a private model process that dies with it; the
# shared model service (agent/llm/shared.py) is tested on its own, in a folder
# of its test (tests/test_shared_model.py)
os.environ["YOI_SHARED_MODEL"] = "0"

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


# ------------------------------------------------- no shared model service left


def _services_of(run: Path) -> set[int]:
    """The shared model services (agent.llm.service) started by hosts of this
    test run: their environment names a path under the run's temporary folder."""
    mark = str(run).encode()
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"agent.llm.service" not in (proc / "cmdline").read_bytes():
                    continue
                environment = (proc / "environ").read_bytes()
            except OSError:
                continue
            if mark in environment:
                found.add(int(proc.name))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A test that let a host start a shared model service it did not end
    leaves a process behind for minutes: end it, and fail the run."""
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller looks once everything ended
    run = session.config._tmp_path_factory.getbasetemp()  # the workers' are under it
    leaked = _services_of(run)
    for pid in leaked:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if leaked:
        print(f"\nshared model services left running by the tests (killed): {sorted(leaked)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
