"""Which MCP servers a workspace gets (the manifest cascade, ``.mcp.json``,
trust, ``${env:NAME}``), and how their tools look to the model (names,
schemas). No server runs here: see test_mcp_lsp.py for those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.mcp.config import load_setup
from agent.mcp.schema import MAX_NAME, sanitize, tool_name

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    return folder


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    (folder / ".yoi").mkdir(parents=True)
    return folder


def user_manifest(config: Path, text: str) -> None:
    (config / "manifest.toml").write_text(text)


def test_manifest_servers_with_env_substitution_and_no_secret_in_describe(
    config: Path, root: Path
) -> None:
    user_manifest(
        config,
        """
[mcp.servers.gh]
command = "github-mcp"
args = ["--token-file", "${env:HOME}/token"]
env = { GITHUB_TOKEN = "${env:GH_TOKEN}" }
cwd = "sub"
tools = ["list_issues"]
timeout = 5
approval = "auto"
tool_approval = { create_issue = "ask", list_issues = "auto" }

[mcp.servers.tracker]
url = "https://mcp.example.com/mcp?key=${env:GH_TOKEN}"
headers = { Authorization = "Bearer ${env:GH_TOKEN}" }

[mcp.servers.off]
command = "never"
enabled = false
""",
    )
    env = {"GH_TOKEN": "s3cret", "HOME": "/home/me"}
    setup = load_setup(root, env=env, config_dir=config)
    gh, tracker = setup.servers
    assert setup.disabled == ("off",) and setup.problems == ()
    assert gh.transport == "stdio" and tracker.transport == "http"
    assert gh.args == ("--token-file", "/home/me/token")
    assert gh.env == {"GITHUB_TOKEN": "s3cret"}
    assert gh.cwd == str(root / "sub") and gh.timeout == 5.0 and gh.tools == ("list_issues",)
    assert tracker.headers == {"Authorization": "Bearer s3cret"}
    for server in (gh, tracker):
        assert "s3cret" not in server.describe()
    assert "GITHUB_TOKEN" in gh.describe() and "Authorization" in tracker.describe()
    for server in (gh, tracker):
        assert server.mask("failed: s3cret!") == "failed: ***!"
    assert "/home/me" not in gh.secrets  # paths from the environment are not secrets
    assert tracker.mask(tracker.url) == "https://mcp.example.com/mcp?***"
    assert gh.allows("list_issues") and not gh.allows("create_issue")
    assert gh.approval_for("list_issues", read_only=False) == "auto"
    assert gh.approval_for("create_issue", read_only=True) == "ask"
    assert gh.approval_for("search", read_only=True) == "auto"  # approval = "auto": read-only
    assert gh.approval_for("delete", read_only=False) == "ask"  # only


def test_unset_variables_and_bad_entries_are_reported_not_fatal(config: Path, root: Path) -> None:
    user_manifest(
        config,
        """
[mcp.servers.a]
command = "x"
env = { T = "${env:MISSING}" }

[mcp.servers.b]
args = ["no command"]

[mcp.servers."bad name"]
command = "y"
""",
    )
    setup = load_setup(root, env={}, config_dir=config)
    assert [s.name for s in setup.servers] == ["a"]
    assert setup.servers[0].env == {"T": ""}
    text = "\n".join(setup.problems)
    assert "MISSING is not set" in text
    assert "'b'" in text and "set `command`" in text
    assert "'bad name'" in text


def test_mcp_json_in_a_trusted_workspace(config: Path, root: Path) -> None:
    user_manifest(
        config,
        f'[trust]\nworkspaces = ["{root}"]\n\n[mcp.servers.both]\ncommand = "from-manifest"\n',
    )
    (root / ".mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "both": {"command": "from-json"},
                    "local": {"command": "srv", "args": ["${DIR:-/tmp}"], "env": {"K": "${KEY}"}},
                    "web": {"type": "http", "url": "http://127.0.0.1:9/mcp"},
                    "old": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
                }
            }
        )
    )
    setup = load_setup(root, env={"KEY": "k"}, config_dir=config)
    by_name = {s.name: s for s in setup.servers}
    assert by_name["both"].command == "from-manifest"  # the manifest wins
    assert by_name["local"].args == ("/tmp",) and by_name["local"].env == {"K": "k"}
    assert by_name["local"].source == str(root / ".mcp.json")
    assert by_name["web"].transport == "http"
    assert "old" not in by_name and "SSE" in "\n".join(setup.problems)
    assert setup.untrusted is None


def test_an_untrusted_workspace_declares_but_starts_nothing(config: Path, root: Path) -> None:
    user_manifest(config, '[mcp.servers.mine]\ncommand = "mine"\n')
    (root / ".yoi" / "manifest.toml").write_text(
        '[mcp.servers.repo]\ncommand = "evil"\n\n[mcp.servers.mine]\ncommand = "hijacked"\n'
    )
    (root / ".mcp.json").write_text(json.dumps({"mcpServers": {"js": {"command": "evil2"}}}))
    setup = load_setup(root, env={}, config_dir=config)
    assert [(s.name, s.command) for s in setup.servers] == [("mine", "mine")]
    assert setup.untrusted is not None
    assert "js in" in setup.untrusted and "mine, repo in" in setup.untrusted
    assert f"add {str(root)!r} to [trust] workspaces in {config / 'manifest.toml'}" in (
        setup.untrusted
    )


def test_no_folder_no_project_servers(config: Path) -> None:
    user_manifest(config, '[mcp.servers.t]\ncommand = "t"\n')
    setup = load_setup(None, env={}, config_dir=config)
    assert [s.name for s in setup.servers] == ["t"] and setup.servers[0].cwd is None


def test_a_broken_mcp_json_is_reported(config: Path, root: Path) -> None:
    user_manifest(config, f'[trust]\nworkspaces = ["{root}"]\n')
    (root / ".mcp.json").write_text("{not json")
    setup = load_setup(root, env={}, config_dir=config)
    assert setup.servers == () and "cannot be read" in setup.problems[0]


def test_tool_names_are_what_providers_accept() -> None:
    assert tool_name("time", "get_current_time") == "mcp__time__get_current_time"
    assert tool_name("my.server", "do it!") == "mcp__my_server__do_it_"
    long_a = tool_name("server", "x" * 80 + "a")
    long_b = tool_name("server", "x" * 80 + "b")
    assert len(long_a) == MAX_NAME and long_a != long_b


def test_schemas_are_sanitised() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": "Args",
        "properties": {
            "item": {"$ref": "#/$defs/Item"},
            "mode": {"const": "fast"},
            "tree": {"$ref": "#/$defs/Node"},
            "far": {"$ref": "https://example.com/schema.json", "description": "remote"},
        },
        "required": ["item"],
        "$defs": {
            "Item": {"type": "object", "properties": {"name": {"type": "string"}}},
            "Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}},
        },
    }
    out = sanitize(schema)
    assert "$schema" not in out and "$defs" not in out
    assert out["properties"]["item"] == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
    }
    assert out["properties"]["mode"] == {"enum": ["fast"]}
    assert out["properties"]["tree"]["properties"]["child"] == {}  # recursion cut
    assert out["properties"]["far"] == {"description": "remote"}
    assert out["required"] == ["item"]
    assert sanitize(None) == {"type": "object", "properties": {}}
    assert sanitize({"properties": {"a": {"type": "string"}}})["type"] == "object"
    assert "$ref" not in json.dumps(out)
