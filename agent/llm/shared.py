"""Finding (or starting) the user's shared model service.

Importing litellm and warming it up costs about four seconds of CPU, and a
language server started with the editor pays it again on every editor start.
The shared model service (:mod:`agent.llm.service`) pays it once: it outlives
the editor session that started it, serves every yoi host of the same user
that connects to it, and exits after :data:`DEFAULT_IDLE` seconds with no
host connected. This is what gopls' ``-remote=auto`` does for the same reason.

A service serves only hosts that would have started an identical one: its
address is a digest of the yoi code that runs it (the interpreter and the
package's location and version), the provider settings of the environment
(:func:`provider_settings`) and the provider keys. Two editors with different
keys, proxies or yoi versions get two services; nothing is shared across
users (the folder is the user's own, mode 0700).

- ``YOI_SHARED_MODEL=0`` turns it off: the host starts a private model process
  that dies with it (:class:`agent.llm.process.ModelProcess`'s default).
- ``YOI_MODEL_IDLE``: the seconds a service with no host waits before it exits.
- ``YOI_RUNTIME_DIR``: the folder for its socket and log (default:
  ``$XDG_RUNTIME_DIR/yoi``, else ``/tmp/yoi-<uid>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import re
import stat
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_IDLE = 600.0
SERVICE_VERSION = 1  # bumped when the wire between host and service changes
LOG_LIMIT = 1 << 20  # a service log over 1 MiB starts afresh
CONNECT_PATIENCE = 15.0  # a service just started binds its socket within this
SOCKET_PATH_LIMIT = 104  # bytes in sockaddr_un's path on Linux (108) and macOS (104)

_PROVIDER_VAR = re.compile(
    r"^(YOI|LITELLM|OPENAI|AZURE|ANTHROPIC|AWS|GOOGLE|GEMINI|VERTEX\w*|MISTRAL|GROQ|DEEPSEEK"
    r"|OPENROUTER|XAI|TOGETHER\w*|FIREWORKS\w*|COHERE|PERPLEXITY\w*|CEREBRAS|HUGGINGFACE|HF"
    r"|OLLAMA|WATSONX|DATABRICKS|BEDROCK|SAGEMAKER|NVIDIA_NIM|REPLICATE)_"
)
_NETWORK_VARS = {
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
}
_NOT_PROVIDER = {  # yoi's own settings that do not reach litellm
    "YOI_SHARED_MODEL",
    "YOI_MODEL_IDLE",
    "YOI_RUNTIME_DIR",
    "YOI_LOG_LEVEL",
    "YOI_HOME",
    "YOI_CONFIG_DIR",
    "YOI_PREWARM",
}


def enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    value = env.get("YOI_SHARED_MODEL", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def idle_seconds(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    try:
        value = float(env.get("YOI_MODEL_IDLE", ""))
    except ValueError:
        return DEFAULT_IDLE
    return value if value > 0 else DEFAULT_IDLE


def provider_settings(env: Mapping[str, str]) -> dict[str, str]:
    """What in an environment can change how litellm reaches a provider."""
    return {
        name: value
        for name, value in env.items()
        if name not in _NOT_PROVIDER
        and (_PROVIDER_VAR.match(name) or name.upper() in _NETWORK_VARS)
    }


def runtime_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("YOI_RUNTIME_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_RUNTIME_DIR", "").strip()
    if xdg and Path(xdg).is_dir():
        return Path(xdg) / "yoi"
    return Path("/tmp") / f"yoi-{os.getuid()}"  # noqa: S108 (made 0700 and checked)


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (mode 0700) or check that the existing one is this
    user's and nobody else's; raises :class:`PermissionError` otherwise."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(
            f"{folder} is not a private folder of this user (mode "
            f"{stat.filemode(info.st_mode)}); the shared model service will not use it"
        )
    return folder


def token(secrets: Mapping[str, str]) -> str:
    """What a host proves it holds the service's keys with. Any process of the
    user can reach the socket, among them the commands the agent runs, which
    never see the keys: without this, one could ask the service for a request
    to an ``api_base`` of its choosing and receive the key in its headers."""
    material = json.dumps(sorted(secrets.items())).encode()
    return hashlib.sha256(b"yoi-model-service\0" + material).hexdigest()


@dataclass(frozen=True)
class Address:
    socket: Path
    log: Path


def address(
    env: Mapping[str, str], secrets: Mapping[str, str], python: str = sys.executable
) -> Address:
    """Where the service for this interpreter, code and provider settings listens."""
    import agent

    code = Path(agent.__file__).resolve().parent
    identity = {
        "version": SERVICE_VERSION,
        "python": python,
        "code": str(code),
        "package": _package_version(),
        # a checkout updated in place: a service running the old code is not used
        "modified": max(p.stat().st_mtime_ns for p in (code / "llm").glob("*.py")),
        "settings": sorted(provider_settings(env).items()),
        "keys": sorted(secrets.items()),
    }
    digest = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:20]
    folder = private_dir(runtime_dir(env))
    socket = folder / f"model-{digest}.sock"
    if len(os.fsencode(socket)) >= SOCKET_PATH_LIMIT:
        raise OSError(f"{socket} is too long for a Unix socket; set a shorter YOI_RUNTIME_DIR")
    return Address(socket, folder / f"model-{digest}.log")


def _package_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("yoi")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pid: int  # the service's
    started: bool  # by this call


async def _open(where: Address, proof: str, limit: int) -> Connection:
    """A connection the service has greeted (a service that is dying may still
    accept a connection into its backlog, then drop it: that counts as none)."""
    reader, writer = await asyncio.open_unix_connection(str(where.socket), limit=limit)
    try:
        writer.write(json.dumps({"op": "auth", "token": proof}).encode() + b"\n")
        async with asyncio.timeout(CONNECT_PATIENCE):
            line = await reader.readline()
        hello = json.loads(line) if line else None
    except (OSError, ValueError, TimeoutError):
        hello = None
    if not isinstance(hello, dict) or hello.get("op") != "hello":
        writer.close()
        raise ConnectionRefusedError("the service did not greet")
    return Connection(reader, writer, int(hello.get("pid") or 0), started=False)


async def connect(
    where: Address,
    *,
    proof: str,
    start: list[str],
    env: Mapping[str, str],
    pass_fds: tuple[int, ...] = (),
    limit: int,
) -> Connection:
    """Connect to the service at ``where``, starting it with the command
    ``start`` (detached: it outlives this process) if none answers.
    ``proof``: :func:`token` of the keys the service was started with."""
    with contextlib.suppress(OSError):
        return await _open(where, proof, limit)
    pid = await asyncio.to_thread(_launch, start, env, pass_fds, where.log)
    log.info("started the shared model service (pid %d) at %s", pid, where.socket)
    # it binds its socket first thing; if another host started one at the same
    # moment, this one exits at once and that one answers
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_PATIENCE
    delay = 0.01
    while True:
        try:
            connection = await _open(where, proof, limit)
        except OSError as exc:
            if loop.time() > deadline:
                raise ConnectionError(
                    f"The shared model service did not start (see {where.log}): {exc}"
                ) from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
            continue
        connection.started = True
        return connection


def _launch(
    command: list[str], env: Mapping[str, str], pass_fds: tuple[int, ...], log_path: Path
) -> int:
    """Run ``command`` (the service with ``--detach``: it forks, its first
    process exits once the service listens, and the service lives on in a
    session of its own, a child of init rather than of this process). Returns
    the first pid; raises :class:`ConnectionError` if the service failed
    before it listened."""
    with contextlib.suppress(OSError):
        if log_path.stat().st_size > LOG_LIMIT:
            log_path.unlink()
    with open(log_path, "ab") as log_file:
        launcher = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            env=dict(env),
            pass_fds=pass_fds,
            start_new_session=True,
        )
    if launcher.wait(CONNECT_PATIENCE) != 0:
        raise ConnectionError(f"the shared model service did not start (see {log_path})")
    return launcher.pid
