/**
 * The MCP servers view: the servers of `yoi/mcp/list` with their status and
 * tools, kept current by `yoi/mcp/changed`, with a Restart action on each
 * server (`yoi/mcp/restart`). A server without MCP support (an older one)
 * answers -32601; the view then says "not available".
 */

import * as vscode from 'vscode';
import { applyChange, buildMcpTree, toolNodes, type McpAvailability, type McpNode } from '../logic/mcpServers';
import { Method, type McpListResult, type McpRestartParams, type McpRestartResult, type McpServer } from '../protocol';
import { describeError, isMethodNotFound, type ServerController } from './server';

export const MCP_VIEW_ID = 'yoi.mcp';

export class McpTreeProvider implements vscode.TreeDataProvider<McpNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<McpNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private servers: McpServer[] = [];
  private configured = false;
  private availability: McpAvailability = 'stopped';
  private roots: McpNode[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly server: ServerController) {
    server.onNotification<McpServer>(Method.mcpChanged, (params) => this.apply(params));
    this.subscriptions.push(server.onDidChangeState(() => this.refreshSoon()));
  }

  refreshSoon(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.refresh(), 150);
  }

  async refresh(): Promise<void> {
    this.timer = undefined;
    await this.load();
    this.render();
  }

  /** Restart one server; its progress arrives as `yoi/mcp/changed`. */
  async restart(name: string): Promise<void> {
    try {
      const params: McpRestartParams = { name };
      const result = await this.server.request<McpRestartResult>(Method.mcpRestart, params);
      if (!result.restarting) {
        void vscode.window.showInformationMessage(`MCP server "${name}" is no longer configured and was stopped.`);
        this.refreshSoon();
      }
    } catch (error) {
      void vscode.window.showErrorMessage(`Could not restart MCP server "${name}": ${describeError(error)}`);
    }
  }

  private apply(server: McpServer): void {
    this.servers = applyChange(this.servers, server);
    this.configured = true;
    this.availability = 'available';
    this.render();
  }

  private render(): void {
    this.roots = buildMcpTree(this.servers, this.availability, this.configured);
    this.changed.fire(undefined);
  }

  private async load(): Promise<void> {
    if (this.server.state !== 'running') {
      this.availability = this.server.state === 'starting' ? 'loading' : 'stopped';
      this.servers = [];
      return;
    }
    try {
      const result = await this.server.request<McpListResult>(Method.mcpList, {});
      this.servers = result.servers;
      this.configured = result.configured;
      this.availability = 'available';
    } catch (error) {
      this.servers = [];
      this.availability = isMethodNotFound(error) ? 'unavailable' : 'stopped';
    }
  }

  getChildren(node?: McpNode): McpNode[] {
    if (node === undefined) {
      return this.roots;
    }
    return node.kind === 'server' ? toolNodes(node) : [];
  }

  getTreeItem(node: McpNode): vscode.TreeItem {
    switch (node.kind) {
      case 'server': {
        const collapsed = node.tools.length === 0 ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed;
        const item = new vscode.TreeItem(node.label, collapsed);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon(node.icon, node.color === undefined ? undefined : new vscode.ThemeColor(node.color));
        item.contextValue = node.restartable ? 'mcpServer' : 'mcpServerDisabled';
        return item;
      }
      case 'tool': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon('tools');
        item.contextValue = 'mcpTool';
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon('info');
        item.contextValue = 'note';
        return item;
      }
    }
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.changed.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

/** The view's commands: Restart (inline on a server) and Refresh (the view's title). */
export function registerMcpCommands(mcp: McpTreeProvider): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('yoi.mcp.restart', async (node?: McpNode) => {
      const name = node?.kind === 'server' ? node.name : await pickServer(mcp);
      if (name !== undefined) {
        await mcp.restart(name);
      }
    }),
    vscode.commands.registerCommand('yoi.mcp.refresh', () => mcp.refresh()),
  ];
}

async function pickServer(mcp: McpTreeProvider): Promise<string | undefined> {
  await mcp.refresh();
  const names = mcp.getChildren().flatMap((n) => (n.kind === 'server' && n.restartable ? [n.name] : []));
  if (names.length === 0) {
    void vscode.window.showInformationMessage('No MCP servers to restart.');
    return undefined;
  }
  return vscode.window.showQuickPick(names, { placeHolder: 'Restart which MCP server?' });
}
