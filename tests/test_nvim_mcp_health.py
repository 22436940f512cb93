"""``:checkhealth yoi`` in a real headless Neovim against the real ``yoi lsp``
reports each MCP server of the running server: ok for the fixture MCP server
(stdio) once connected, an error with the last error for one whose command
does not exist, and the disabled one as disabled."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from mcpkit import FIXTURE, toml_server
from test_nvim import Neovim, nvim, root  # noqa: F401 (the fixtures)

pytestmark = [pytest.mark.timeout(120)]

WAIT_SETTLED = """
T.setup()
vim.cmd("edit app.py")
local server = require("yoi.server")
server.ensure(T.root, function() end)
T.wait("the server", function()
  return server.client(T.root) ~= nil
end)
local settled = false
T.wait("the MCP servers", function()
  server.request(T.root, "yoi/mcp/list", vim.empty_dict(), function(_, result)
    local status = {}
    for _, s in ipairs(result and result.servers or {}) do
      status[s.name] = s.status
    end
    settled = status.fx == "ready" and status.broken == "error"
  end)
  return settled
end)
"""


def test_checkhealth_reports_each_mcp_server(nvim: Neovim) -> None:  # noqa: F811
    config = Path(nvim.env["YOI_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "manifest.toml").write_text(
        toml_server("fx", command=sys.executable, args=[FIXTURE, "stdio"])
        + toml_server("broken", command="/nonexistent/yoi-mcp-server")
        + toml_server("off", command="nothing", enabled=False)
    )
    # the broken server reconnects every 1, 2, 4... s: a report taken while it
    # is starting again says so; the one to check is taken while it has failed
    result = nvim.run(
        WAIT_SETTLED
        + """
        for _ = 1, 50 do
          local servers
          server.request(T.root, "yoi/mcp/list", vim.empty_dict(), function(_, result)
            servers = result.servers
          end)
          T.wait("the list", function()
            return servers ~= nil
          end)
          local failed = false
          for _, s in ipairs(servers) do
            failed = failed or (s.name == "broken" and s.status == "error")
          end
          if failed then
            vim.cmd("checkhealth yoi")
            local health = T.text(0)
            vim.cmd("bwipeout")
            if health:find("MCP server broken, stdio: failed: ", 1, true) then
              T.result.servers, T.result.health = servers, health
              break
            end
          end
          vim.wait(100)
        end
        assert(T.result.health, "no report was taken while the broken server had failed")
        """
    )
    lines = result["health"].splitlines()
    broken = next(s for s in result["servers"] if s["name"] == "broken")
    fx = next(s for s in result["servers"] if s["name"] == "fx")

    def line(text: str) -> str:
        found = [item for item in lines if text in item]
        assert len(found) == 1, (text, result["health"])
        return found[0]

    tools = "1 tool" if fx["toolCount"] == 1 else f"{fx['toolCount']} tools"
    assert "OK" in line(f"MCP server fx, stdio: connected, {tools}")
    failed = line("MCP server broken, stdio: failed: ")
    assert "ERROR" in failed and broken["lastError"] and broken["lastError"] in failed
    assert "ERROR" not in line("MCP server off: disabled in the configuration")
    assert "yoi reconnects by itself" in result["health"]


def test_checkhealth_without_a_running_server_says_when_mcp_servers_appear(nvim: Neovim) -> None:  # noqa: F811
    result = nvim.run(
        """
        T.setup()
        vim.cmd("checkhealth yoi")
        T.result.health = T.text(0)
        """
    )
    said = "MCP servers: reported here once the yoi server runs for this workspace"
    assert said in result["health"]
