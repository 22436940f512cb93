"""``:YoiMcp`` in a real headless Neovim against the real ``yoi lsp`` with
the fixture MCP server (stdio): the picker shows each server's status and
tool count, and restarts the one picked or shows its tools."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcpkit import FIXTURE, toml_server
from test_nvim import Neovim, nvim, root  # noqa: F401 (the fixtures)

pytestmark = [pytest.mark.timeout(120)]

WAIT_READY = """
T.setup()
vim.cmd("edit app.py")
local server = require("yoi.server")
server.ensure(T.root, function() end)
T.wait("the server", function()
  return server.client(T.root) ~= nil
end)
local ready = false
T.wait("the MCP server", function()
  server.request(T.root, "yoi/mcp/list", vim.empty_dict(), function(_, result)
    for _, s in ipairs(result and result.servers or {}) do
      ready = ready or (s.name == "fx" and s.status == "ready")
    end
  end)
  return ready
end)
local function said(text)
  return function()
    for _, n in ipairs(T.notifications) do
      if n.message:find(text, 1, true) then
        return true
      end
    end
    return false
  end
end
"""


def test_yoi_mcp_lists_restarts_and_shows_a_server(nvim: Neovim, tmp_path: Path) -> None:  # noqa: F811
    config = Path(nvim.env["YOI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "manifest.toml").write_text(
        toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"])
        + toml_server("off", command="nothing", enabled=False)
    )
    result = nvim.run(
        WAIT_READY
        + """
        T.answers = { { match = "fx" }, { label = "Restart" } }
        vim.cmd("YoiMcp")
        T.wait("the restart", said("restarting the MCP server fx"))
        T.answers = { { match = "fx" }, { label = "Show details" } }
        vim.cmd("YoiMcp")
        T.wait("the details", said("tools: "))
        """
    )
    servers, actions, again, details = result["asked"]
    assert servers["kind"] == "yoi.mcp"
    assert servers["items"][0].startswith("fx  ready · ") and "tools" in servers["items"][0]
    assert servers["items"][1] == "off  disabled · 0 tools"
    assert actions == {
        "prompt": "MCP server fx",
        "kind": "yoi.mcp.action",
        "items": ["Restart", "Show details"],
    }
    assert again["kind"] == "yoi.mcp"
    assert details["items"] == ["Restart", "Show details"]
    shown = next(n["message"] for n in result["notifications"] if "tools: " in n["message"])
    assert "echo" in shown and "prompts (/fx:…): review" in shown


def test_yoi_mcp_without_servers_says_how_to_add_one(nvim: Neovim) -> None:  # noqa: F811
    result = nvim.run(
        """
        T.setup()
        vim.cmd("edit app.py")
        local server = require("yoi.server")
        server.ensure(T.root, function() end)
        T.wait("the server", function()
          return server.client(T.root) ~= nil
        end)
        local configured = false
        T.wait("the configuration", function()
          server.request(T.root, "yoi/mcp/list", vim.empty_dict(), function(_, result)
            configured = configured or (result and result.configured)
          end)
          return configured
        end)
        vim.cmd("YoiMcp")
        T.wait("the note", function()
          return #T.notifications > 0
        end)
        """
    )
    assert result["asked"] == []
    (note,) = [n["message"] for n in result["notifications"] if "MCP" in n["message"]]
    assert "no MCP servers: none is configured ([mcp.servers.<name>]" in note
