"""MCP servers as tools: configuration (:mod:`agent.mcp.config`), one client
per server on the official SDK (:mod:`agent.mcp.client`), the hub shared by
every pod of a host (:mod:`agent.mcp.hub`) and the tools the model sees
(:mod:`agent.mcp.tools`). Importing this package imports no SDK: only
:mod:`agent.mcp.client` does, and only a host with servers to start loads it.
"""
