"""Prompt libraries, the catalog and the system prompt, over real files."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.errors import PromptError
from agent.prompts import (
    PromptCatalog,
    PromptKey,
    PromptLibrary,
    builtin_catalog,
    join_sections,
    load_catalog,
    parse_ref,
    read_agents_md,
    render_system_prompt,
)
from agent.prompts.catalog import BUILTIN_PACK

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
SCOPE = "Readable:\n  - /ws\nWritable:\n  - /ws"
TOOLS = ["read_file", "grep", "glob", "edit_file", "write_file", "run_command", "list_dir"]


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "config"
    root = tmp_path / "ws"
    (config / "prompts").mkdir(parents=True)
    (root / ".yoi" / "prompts").mkdir(parents=True)
    return config, root


def library(dirs: tuple[Path, Path]) -> PromptLibrary:
    config, root = dirs
    return PromptLibrary.for_workspace(root, config_dir=config)


def template(base: Path, name: str, text: str) -> None:
    path = base / f"{name}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def render(
    lib: PromptLibrary,
    instruction: str = "$yoi/default",
    *,
    catalog: PromptCatalog | None = None,
    agents_md: str | None = None,
    knowledge: list[tuple[str, str]] | None = None,
    cwd: Path | None = Path("/ws"),
) -> str:
    return render_system_prompt(
        instruction=instruction,
        catalog=catalog or builtin_catalog(),
        library=lib,
        cwd=cwd,
        scope_summary=SCOPE,
        tool_names=TOOLS,
        now=NOW,
        agents_md=agents_md,
        resident_knowledge=knowledge or [],
    )


# ---------------------------------------------------------------- catalog


def test_the_builtin_pack_defines_exactly_the_prompt_keys() -> None:
    table = tomllib.loads(BUILTIN_PACK.read_text(encoding="utf-8"))["prompt"]
    assert set(table) == {str(k) for k in PromptKey}
    catalog = builtin_catalog()
    assert all(catalog.origin(k) == "builtin" for k in PromptKey)


def test_builtin_prompts_render(dirs: tuple[Path, Path]) -> None:
    catalog = builtin_catalog(library(dirs))
    wrapped = catalog.render(PromptKey.NOTIFY_WRAPPER, message="build finished")
    assert wrapped.startswith("[Notification]\nbuild finished\n")
    assert "natural stopping point" in wrapped
    assert catalog.render(PromptKey.INTERRUPT_TOOL_RESULT_SUMMARY) == "[Interrupted by user]"
    assert "interrupted" in catalog.render("interrupt_system_note")


def test_catalog_layers_override_key_by_key(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    config, root = dirs
    (config / "prompts.toml").write_text(
        '[prompt]\nnotify_wrapper = "user: {{ message }}"\n'
        'interrupt_system_note = "user note"\n'
        'interrupt_tool_result_summary = "user summary"\n',
        encoding="utf-8",
    )
    (root / ".yoi" / "prompts.toml").write_text(
        '[prompt]\nnotify_wrapper = "workspace: {{ message }}"\n'
        'interrupt_tool_result_summary = "workspace summary"\n',
        encoding="utf-8",
    )
    pack = tmp_path / "pack.toml"
    pack.write_text('[prompt]\ninterrupt_tool_result_summary = "pack summary"\n')
    loaded = load_catalog(root, prompt_pack=pack, config_dir=config)
    assert loaded.problems == []
    catalog = loaded.catalog
    assert catalog.render(PromptKey.NOTIFY_WRAPPER, message="m") == "workspace: m"
    assert catalog.render(PromptKey.INTERRUPT_SYSTEM_NOTE) == "user note"
    assert catalog.render(PromptKey.INTERRUPT_TOOL_RESULT_SUMMARY) == "pack summary"
    assert catalog.origin(PromptKey.INTERRUPT_SYSTEM_NOTE) == str(config / "prompts.toml")
    assert catalog.origin(PromptKey.AGENTS_MD_SECTION) == "builtin"
    assert loaded.sources == [
        str(config / "prompts.toml"),
        str(root / ".yoi" / "prompts.toml"),
        str(pack),
    ]


def test_bad_overlay_entries_are_reported_and_ignored(dirs: tuple[Path, Path]) -> None:
    config, root = dirs
    pack = root / ".yoi" / "prompts.toml"
    pack.write_text(
        "[prompt]\n"
        'notify_wraper = "typo"\n'
        "interrupt_system_note = 3\n"
        'interrupt_tool_result_summary = "{% if %}"\n',
        encoding="utf-8",
    )
    loaded = load_catalog(root, config_dir=config)
    problems = {p.key: p for p in loaded.problems}
    assert set(problems) == {
        "prompt.notify_wraper",
        "prompt.interrupt_system_note",
        "prompt.interrupt_tool_result_summary",
    }
    assert problems["prompt.notify_wraper"].level == "warn"
    assert "did you mean `notify_wrapper`?" in problems["prompt.notify_wraper"].reason
    assert problems["prompt.interrupt_system_note"].level == "error"
    syntax = problems["prompt.interrupt_tool_result_summary"]
    assert (syntax.file, syntax.level) == (str(pack), "error")
    assert syntax.reason.startswith("line 1:")
    builtin = builtin_catalog()
    for key in PromptKey:  # every bad entry fell back to the built-in text
        assert loaded.catalog.source(key) == builtin.source(key)


def test_a_broken_or_missing_pack_is_reported(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    config, root = dirs
    (config / "prompts.toml").write_text("[prompt\n", encoding="utf-8")
    loaded = load_catalog(root, prompt_pack=tmp_path / "nope.toml", config_dir=config)
    messages = [str(p) for p in loaded.problems]
    assert any(m.startswith(f"{config / 'prompts.toml'}: line 1, column") for m in messages)
    assert any("nope.toml" in m and "was not found" in m for m in messages)
    assert loaded.catalog == builtin_catalog()


def test_a_catalog_render_error_names_the_key_and_origin(dirs: tuple[Path, Path]) -> None:
    config, root = dirs
    (config / "prompts.toml").write_text(
        '[prompt]\nnotify_wrapper = "{{ mesage }}"\n', encoding="utf-8"
    )
    catalog = load_catalog(root, config_dir=config).catalog
    with pytest.raises(PromptError) as caught:
        catalog.render(PromptKey.NOTIFY_WRAPPER, message="x")
    text = str(caught.value)
    assert "prompt `notify_wrapper`" in text
    assert str(config / "prompts.toml") in text
    assert "'mesage' is undefined" in text


def test_catalog_entries_include_library_templates(dirs: tuple[Path, Path]) -> None:
    config, root = dirs
    template(root / ".yoi" / "prompts", "notify", "N: {{ message }}")
    (root / ".yoi" / "prompts.toml").write_text(
        "[prompt]\n"
        "notify_wrapper = '{% include \"$workspace/notify\" %}'\n"
        "interrupt_system_note = '{% include \"notify\" %}'\n",
        encoding="utf-8",
    )
    catalog = load_catalog(root, config_dir=config).catalog
    assert catalog.render("notify_wrapper", message="hi") == "N: hi"
    with pytest.raises(PromptError, match="has no library prefix"):
        catalog.render("interrupt_system_note")


# ---------------------------------------------------------------- library


def test_workspace_templates_include_relative_to_their_folder(dirs: tuple[Path, Path]) -> None:
    config, root = dirs
    workspace = root / ".yoi" / "prompts"
    template(workspace, "team/main", 'Main.\n{% include "parts/rules" %}\n')
    template(workspace, "team/parts/rules", 'Rules for {{ cwd }}.\n{% include "$user/sig" %}')
    template(config / "prompts", "sig", "-- the team")
    out = library(dirs).render("$workspace/team/main", {"cwd": "/ws"})
    assert out == "Main.\nRules for /ws.\n-- the team"


def test_an_include_does_not_fall_through_to_another_library(dirs: tuple[Path, Path]) -> None:
    config, root = dirs
    template(root / ".yoi" / "prompts", "main", '{% include "common/workspace" %}')
    with pytest.raises(PromptError) as caught:
        library(dirs).render("$workspace/main", {})
    text = str(caught.value)
    assert "$workspace/common/workspace was not found" in text
    assert text.startswith("$workspace/main, line 1:")


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("$workspace/../secret", "`..`"),
        ("$yoi/common/../../manifest", "`..`"),
        ("$yoi/./default", "`.`"),
        ("$yoi/", "names no template"),
        ("$yoi", "names no template"),
        ("$home/x", "unknown library prefix `$home`"),
        ("default", "is not a template reference"),
        ("$yoi/a\\b", "backslash"),
    ],
)
def test_bad_references_are_rejected(ref: str, fragment: str) -> None:
    with pytest.raises(PromptError) as caught:
        parse_ref(ref)
    assert fragment in str(caught.value)


def test_references_are_normalised() -> None:
    assert str(parse_ref("$yoi//common/workspace.md/")) == "$yoi/common/workspace"


def test_a_relative_include_cannot_climb_out_of_its_library(
    dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    config, root = dirs
    (tmp_path / "outside.md").write_text("stolen", encoding="utf-8")
    template(root / ".yoi" / "prompts", "main", '{% include "../../../outside" %}')
    with pytest.raises(PromptError, match=r"\.\."):
        library(dirs).render("$workspace/main", {})


def test_a_symlink_out_of_the_library_is_refused(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    config, root = dirs
    (tmp_path / "secret.md").write_text("stolen", encoding="utf-8")
    (root / ".yoi" / "prompts" / "link.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(PromptError, match="outside the \\$workspace library"):
        library(dirs).render("$workspace/link", {})


def test_workspace_templates_need_a_workspace(dirs: tuple[Path, Path]) -> None:
    config, _ = dirs
    lib = PromptLibrary.for_workspace(None, config_dir=config)
    with pytest.raises(PromptError, match="no workspace folder is open"):
        lib.render("$workspace/main", {})


def test_an_undefined_variable_names_the_variable_template_and_line(
    dirs: tuple[Path, Path],
) -> None:
    config, _ = dirs
    template(config / "prompts", "mine", "Hello.\n\nToday is {{ dat }}.\n")
    with pytest.raises(PromptError) as caught:
        render(library(dirs), "$user/mine")
    assert str(caught.value) == "$user/mine, line 3: 'dat' is undefined"


def test_a_syntax_error_names_the_template_and_line(dirs: tuple[Path, Path]) -> None:
    config, _ = dirs
    template(config / "prompts", "mine", "ok\n{% include 'x' %}")
    template(config / "prompts", "x", "one\ntwo\n{% for %}")
    with pytest.raises(PromptError, match=r"^\$user/x, line 3: "):
        render(library(dirs), "$user/mine")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cwd.__class__ }}",
        "{{ tools.__class__.__base__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_escapes(dirs: tuple[Path, Path], source: str) -> None:
    config, _ = dirs
    template(config / "prompts", "evil", source)
    with pytest.raises(PromptError, match="unsafe"):
        render(library(dirs), "$user/evil")


# ---------------------------------------------------------------- system prompt


def test_the_default_prompt_renders_with_every_section(dirs: tuple[Path, Path]) -> None:
    text = render(
        library(dirs),
        agents_md="Use tabs.\nRun `make test`.\n\n",
        knowledge=[("build", "How to\nbuild the   project"), ("style", "Code style")],
    )
    assert text.startswith("You are yoi")
    assert "`/ws`" in text
    assert "2025-03-04" in text
    assert "## Using tools" in text and "`run_command`" in text and "`edit_file`" in text
    assert "AGENTS.md" in text.split("---")[0]  # the body points at the section below
    boundaries = text.index("\n\n---\n## Working boundaries\n\n" + SCOPE)
    agents = text.index(
        "\n\n---\n## Project instructions (AGENTS.md)\n\nUse tabs.\nRun `make test`."
    )
    knowledge = text.index("\n\n---\n## Resident knowledge\n")
    assert boundaries < agents < knowledge
    assert text.endswith("- build: How to build the project\n- style: Code style")
    assert "{{" not in text and "{%" not in text


def test_sections_are_left_out_when_there_is_nothing_to_show(dirs: tuple[Path, Path]) -> None:
    text = render(library(dirs))
    assert "## Working boundaries" in text
    assert "AGENTS.md" not in text
    assert "## Resident knowledge" not in text
    assert text == text.rstrip()


def test_a_template_that_renders_nothing_cannot_drop_the_sections(
    dirs: tuple[Path, Path],
) -> None:
    _, root = dirs
    template(root / ".yoi" / "prompts", "empty", "{# nothing #}\n")
    text = render(library(dirs), "$workspace/empty", agents_md="Be nice.", knowledge=[("k", "d")])
    assert text.startswith("---\n## Working boundaries\n\n" + SCOPE)
    assert "\n\n---\n## Project instructions (AGENTS.md)\n\nBe nice.\n\n---\n" in text
    assert text.endswith("- k: d")


def test_template_variables(dirs: tuple[Path, Path]) -> None:
    config, _ = dirs
    template(
        config / "prompts",
        "vars",
        "{{ now }}|{{ date }}|{{ time }}|{{ cwd }}|{{ tools | join(',') }}|"
        "{{ agents_md }}|{{ scope | length }}",
    )
    later = NOW.astimezone(timezone(timedelta(hours=9)))  # any zone renders as UTC
    text = render_system_prompt(
        instruction="$user/vars",
        catalog=builtin_catalog(),
        library=library(dirs),
        cwd=None,
        scope_summary="S",
        tool_names=["b", "a"],
        now=later,
        agents_md=None,
    )
    first = text.splitlines()[0]
    assert first == "2025-03-04T05:06:07Z|2025-03-04|05:06:07||a,b||1"


def test_join_sections_follows_the_digest_rules() -> None:
    assert join_sections("body", ["one  \n\n", "two\n"]) == "body\n\none\n\ntwo"
    assert join_sections("body\n", ["s"]) == "body\n\ns"
    assert join_sections("  \n", ["s\n"]) == "s"


# ---------------------------------------------------------------- AGENTS.md


def test_agents_md_absent_is_silent(tmp_path: Path) -> None:
    assert read_agents_md(tmp_path, 1000).text is None
    assert read_agents_md(tmp_path, 1000).problems == []
    assert read_agents_md(None, 1000).text is None


def test_agents_md_within_the_cap_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("Use tabs. é\n", encoding="utf-8")
    got = read_agents_md(tmp_path, 1000)
    assert got.text == "Use tabs. é\n"
    assert got.problems == []


def test_agents_md_over_the_cap_is_truncated_with_a_marker(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("x" * 80 * 1024, encoding="utf-8")
    got = read_agents_md(tmp_path, 32 * 1024)
    assert got.text is not None
    body, _, marker = got.text.partition("\n\n[AGENTS.md truncated")
    assert body == "x" * 32 * 1024
    assert "first 32 KiB of 80 KiB" in marker
    assert got.problems == [
        "AGENTS.md is 80 KiB; only the first 32 KiB are in the prompt. "
        "Raise [prompts] agents_md_max_bytes or shorten it."
    ]


def test_agents_md_is_cut_at_a_utf8_boundary(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_text("é" * 100, encoding="utf-8")  # 2 bytes each
    got = read_agents_md(tmp_path, 51)
    assert got.text is not None
    assert got.text.startswith("é" * 25 + "\n\n[AGENTS.md truncated")
    assert "\ufffd" not in got.text
    assert len(got.problems) == 1


def test_agents_md_that_is_not_utf8_is_left_out_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "AGENTS.md").write_bytes(b"fine\n\xff\xfe bad\n")
    got = read_agents_md(tmp_path, 1000)
    assert got.text is None
    [problem] = got.problems
    assert "not valid UTF-8" in problem and "AGENTS.md" in problem
