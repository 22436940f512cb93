"""Prompt template libraries and the sandboxed jinja environment that reads
them.

A reference names a Markdown file in one of three libraries, ``.md`` omitted:

- ``$yoi/<path>``: bundled with yoi (``agent/prompts/templates/``),
- ``$user/<path>``: ``<config_dir>/prompts/``,
- ``$workspace/<path>``: ``<root>/.yoi/prompts/``.

Inside a template, an ``{% include %}`` (or ``import``, ``extends``) of a name
without ``$`` resolves against the including template's library and folder:
``common/workspace`` in ``$yoi/default`` is ``$yoi/common/workspace``. A
missing file is an error; there is no fall-through between libraries.

Templates run in jinja's sandbox with strict undefined variables and no
autoescaping; they can read nothing but these libraries (``..`` segments are
refused and symlinks must stay inside their library). Every failure is a
:class:`agent.errors.PromptError` naming the template and, when known, the
line. Rendering reads small files synchronously.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, Template, TemplateSyntaxError
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.sandbox import SandboxedEnvironment

from agent import paths
from agent.errors import PromptError

BUNDLED_DIR = Path(__file__).parent / "templates"
PREFIXES = ("yoi", "user", "workspace")
_PREFIX_HELP = "use `$yoi/`, `$user/` or `$workspace/`"


@dataclass(frozen=True)
class TemplateRef:
    """A parsed reference: a library prefix and a ``/``-separated path."""

    prefix: str
    path: str

    def __str__(self) -> str:
        return f"${self.prefix}/{self.path}"

    @property
    def folder(self) -> str:
        return self.path.rpartition("/")[0]


def parse_ref(ref: str) -> TemplateRef:
    """Parse ``$prefix/path``; raises :class:`PromptError` for anything else."""
    if not ref.startswith("$"):
        raise PromptError(
            f"`{ref}` is not a template reference; {_PREFIX_HELP} followed by a path, "
            "as in `$yoi/default`."
        )
    prefix, _, rest = ref[1:].partition("/")
    if prefix not in PREFIXES:
        raise PromptError(f"`{ref}` has an unknown library prefix `${prefix}`; {_PREFIX_HELP}.")
    path = rest.strip("/").removesuffix(".md")
    if not path:
        raise PromptError(f"`{ref}` names no template; add a path after `${prefix}/`.")
    if "\\" in path or "\0" in path:
        raise PromptError(f"`{ref}` contains a backslash or NUL; use `/` between folders.")
    for segment in path.split("/"):
        if segment in {"", ".", ".."}:
            raise PromptError(
                f"`{ref}` contains an empty, `.` or `..` segment; a template can only "
                "name files inside its library."
            )
    return TemplateRef(prefix, path)


def join_ref(name: str, parent: str) -> str:
    """The reference an include of ``name`` inside template ``parent`` means."""
    if name.startswith("$"):
        return str(parse_ref(name))
    if not parent.startswith("$"):
        raise PromptError(
            f"the include `{name}` has no library prefix; {_PREFIX_HELP} "
            "(only templates from a library may include relative names)."
        )
    base = parse_ref(parent)
    joined = f"{base.folder}/{name}" if base.folder else name
    return str(parse_ref(f"${base.prefix}/{joined}"))


class PromptLibrary:
    """The three template libraries of one pod, and the environment that
    renders from them. Build one per session; it caches compiled templates."""

    def __init__(
        self,
        *,
        user_dir: Path | None = None,
        workspace_dir: Path | None = None,
        bundled_dir: Path = BUNDLED_DIR,
    ) -> None:
        self._dirs: dict[str, Path | None] = {
            "yoi": bundled_dir,
            "user": user_dir,
            "workspace": workspace_dir,
        }
        self._names: set[str] = set()
        self.environment: Environment = _Environment(
            loader=_LibraryLoader(self.read),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            bytecode_cache=COMPILED,
        )

    @classmethod
    def for_workspace(
        cls,
        root: Path | None,
        *,
        config_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> PromptLibrary:
        """The libraries of a workspace (``root`` ``None``: no ``$workspace``)."""
        if config_dir is None:
            config_dir = paths.config_dir(os.environ if env is None else env)
        return cls(
            user_dir=config_dir / "prompts",
            workspace_dir=paths.workspace_dir(root) / "prompts" if root is not None else None,
        )

    def locate(self, ref: TemplateRef) -> Path:
        """The file behind ``ref``; raises :class:`PromptError` when there is none."""
        base = self._dirs[ref.prefix]
        if base is None:
            reason = "no workspace folder is open" if ref.prefix == "workspace" else "no folder set"
            raise PromptError(
                f"template {ref} cannot be loaded: the ${ref.prefix} library is unavailable "
                f"({reason})."
            )
        base = base.resolve()
        path = (base / f"{ref.path}.md").resolve()
        if not path.is_relative_to(base):
            raise PromptError(
                f"template {ref} resolves to {path}, outside the ${ref.prefix} library {base}; "
                "templates cannot read other files."
            )
        if not path.is_file():
            raise PromptError(f"template {ref} was not found (looked for {path}).")
        return path

    def read(self, name: str) -> str:
        ref = parse_ref(name)
        path = self.locate(ref)
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PromptError(f"template {ref} cannot be read from {path}: {exc}") from None
        self._names.add(str(ref))
        return source

    def render(self, ref: str, variables: Mapping[str, Any]) -> str:
        """Render the template ``ref`` (a ``$prefix/path`` reference)."""
        name = str(parse_ref(ref))
        return self._run(name, lambda: self.environment.get_template(name), variables)

    def render_source(self, source: str, name: str, variables: Mapping[str, Any]) -> str:
        """Render template text that lives outside the libraries (a catalog
        entry). ``name`` says where it came from in error messages; includes in
        it must carry a library prefix."""
        env = self.environment

        def compile_() -> Template:
            bucket = COMPILED.get_bucket(env, name, None, source)
            if bucket.code is None:
                bucket.code = env.compile(source, name=name, filename=name)
                COMPILED.set_bucket(bucket)
            return env.template_class.from_code(env, bucket.code, env.make_globals(None), None)

        self._names.add(name)
        return self._run(name, compile_, variables)

    def _run(self, name: str, load: Callable[[], Template], variables: Mapping[str, Any]) -> str:
        try:
            return load().render(variables)
        except TemplateSyntaxError as exc:
            where = exc.filename or exc.name or name
            raise PromptError(f"{where}, line {exc.lineno}: {exc.message}") from None
        except PromptError as exc:
            where = self._where(exc)
            raise PromptError(f"{where}: {exc}" if where else str(exc)) from None
        except Exception as exc:  # anything a template can raise while rendering
            where = self._where(exc) or name
            raise PromptError(f"{where}: {_describe(exc)}") from None

    def _where(self, exc: BaseException) -> str:
        """``<template>, line <n>`` of the innermost template frame in ``exc``."""
        found = ""
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self._names:
                found = f"{filename}, line {tb.tb_lineno}"
            tb = tb.tb_next
        return found


def check_syntax(source: str) -> str | None:
    """``None`` when ``source`` parses as a template, else ``line N: reason``."""
    try:
        SandboxedEnvironment().parse(source)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "…"


class _MemoryCache(BytecodeCache):
    """Compiled templates, shared by every library of the process: compiling
    a template takes milliseconds, and each pod has libraries of its own. A
    template is found by its name and the checksum of its source, so an edited
    template compiles again. (Every library's environment has the same
    settings, so their compiled code is interchangeable.)"""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._code.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()

    def clear(self) -> None:
        self._code.clear()


COMPILED = _MemoryCache()


class _Environment(SandboxedEnvironment):
    def join_path(self, template: str, parent: str) -> str:
        return join_ref(template, parent)


class _LibraryLoader(BaseLoader):
    def __init__(self, read: Callable[[str], str]) -> None:
        self._read = read

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        return self._read(template), template, None
