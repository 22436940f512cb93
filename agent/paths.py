"""Where yoi keeps its files.

- ``YOI_HOME`` (default: ``$XDG_DATA_HOME/yoi``, else ``~/.local/share/yoi``)
  holds ``sessions/`` and the pod registry ``pods.json``.
- ``YOI_CONFIG_DIR`` (default: ``$XDG_CONFIG_HOME/yoi``, else ``~/.config/yoi``)
  holds the user manifest ``manifest.toml``, ``prompts.toml`` and ``prompts/``.

Empty environment values count as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def yoi_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = _env(env, "YOI_HOME")
    if explicit:
        return Path(explicit).expanduser()
    xdg = _env(env, "XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "yoi"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = _env(env, "YOI_CONFIG_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = _env(env, "XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / "yoi"


def sessions_dir(home: Path) -> Path:
    return home / "sessions"


def workspace_dir(root: Path) -> Path:
    """The per-workspace folder: ``<root>/.yoi``."""
    return root / ".yoi"
