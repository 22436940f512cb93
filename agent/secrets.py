"""Provider keys kept out of every process environment.

Any process of the same user can read ``/proc/<pid>/environ`` — the
environment a process was started with, which later changes do not alter. A
command the agent runs could read the key of the yoi process that started it
and print it into the conversation. So a yoi host that finds provider keys in
its environment at start-up re-executes itself without them
(:func:`reexec_without_secrets`), handing them over through an inherited
pipe; the new process reads them into this module's vault (:func:`receive`),
never into ``os.environ``. The model process gets them the same way and puts
them into its own ``os.environ`` after it started (litellm reads provider keys
from there; ``/proc`` still shows the environment it was started with).

Secret names: :data:`PROVIDER_KEYS`, plus any listed in ``YOI_SECRET_ENV``
(comma-separated). Lookups that need a key use :func:`environ`, the process
environment with the vault in front of it.
"""

from __future__ import annotations

import collections
import json
import os
import sys
from collections.abc import Mapping

FD_VAR = "YOI_SECRETS_FD"
EXTRA_VAR = "YOI_SECRET_ENV"
PROVIDER_KEYS: tuple[str, ...] = (
    "YOI_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "XAI_API_KEY",
    "TOGETHERAI_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "FIREWORKS_AI_API_KEY",
    "COHERE_API_KEY",
    "AZURE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "PERPLEXITYAI_API_KEY",
    "CEREBRAS_API_KEY",
    "HUGGINGFACE_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)

# The keys this process was handed (process-wide, like os.environ itself).
_vault: dict[str, str] = {}


def secret_names(env: Mapping[str, str]) -> tuple[str, ...]:
    extra = tuple(n.strip() for n in env.get(EXTRA_VAR, "").split(",") if n.strip())
    return (*PROVIDER_KEYS, *extra)


def split(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """``env`` without its secrets, and the secrets."""
    names = set(secret_names(env))
    clean = {k: v for k, v in env.items() if k not in names}
    found = {k: v for k, v in env.items() if k in names and v}
    return clean, found


def handover(secrets: Mapping[str, str]) -> int:
    """A pipe's read end (inheritable) from which a child reads ``secrets``."""
    read, write = os.pipe()
    try:
        os.write(write, json.dumps(dict(secrets)).encode())
    finally:
        os.close(write)
    os.set_inheritable(read, True)
    return read


def reexec_without_secrets() -> None:
    """If the environment holds secrets, start this program again without
    them (same pid, same stdin/stdout), handing them over through a pipe.
    Returns only when there is nothing to hide."""
    if FD_VAR in os.environ:
        return  # already handed over
    clean, found = split(os.environ)
    if not found:
        return
    clean[FD_VAR] = str(handover(found))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], clean)  # noqa: S606


def receive() -> dict[str, str]:
    """Read the secrets handed over to this process (if any) into the vault."""
    value = os.environ.pop(FD_VAR, None)
    if value is None:
        return {}
    try:
        fd = int(value)
        with os.fdopen(fd, "rb") as pipe:
            data = json.loads(pipe.read() or b"{}")
    except (OSError, ValueError):
        return {}
    secrets = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    _vault.update(secrets)
    return secrets


def vault() -> dict[str, str]:
    """A copy of the secrets this process holds."""
    return dict(_vault)


def environ() -> Mapping[str, str]:
    """The process environment with the secrets in front (for key lookups)."""
    return collections.ChainMap(_vault, os.environ)
