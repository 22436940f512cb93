/**
 * What the MCP servers view shows, computed from plain data: the servers of
 * `yoi/mcp/list`, updated one at a time by `yoi/mcp/changed`. Pure; the tree
 * provider (host/mcpView.ts) turns these nodes into tree items.
 */

import type { McpServer } from '../protocol';

/** Whether the list could be read: a server without MCP methods (an older one) answers -32601. */
export type McpAvailability = 'loading' | 'available' | 'unavailable' | 'stopped';

export interface McpServerNode {
  kind: 'server';
  id: string;
  name: string;
  label: string;
  /** e.g. "connected · 2 tools" */
  description: string;
  tooltip: string;
  /** a codicon name */
  icon: string;
  /** a theme colour id for the icon, or none */
  color?: string;
  /** the server's tool names, shown as its children */
  tools: string[];
  /** disabled servers cannot be restarted from the view (the configuration says so) */
  restartable: boolean;
}

export interface McpToolNode {
  kind: 'tool';
  id: string;
  label: string;
  /** the name the model sees */
  tooltip: string;
}

export interface McpNoteNode {
  kind: 'note';
  id: string;
  label: string;
  tooltip: string;
}

export type McpNode = McpServerNode | McpToolNode | McpNoteNode;

interface Look {
  word: string;
  icon: string;
  color?: string;
}

/** by status; a newer server may send one this client does not know */
const STATUS: Partial<Record<string, Look>> = {
  ready: { word: 'connected', icon: 'pass-filled', color: 'testing.iconPassed' },
  starting: { word: 'starting', icon: 'loading~spin' },
  error: { word: 'failed', icon: 'error', color: 'problemsErrorIcon.foreground' },
  stopped: { word: 'stopped', icon: 'circle-slash' },
  disabled: { word: 'disabled', icon: 'circle-slash', color: 'disabledForeground' },
};

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function serverNode(server: McpServer): McpServerNode {
  const look: Look = STATUS[server.status] ?? { word: server.status, icon: 'question' };
  const parts = [look.word];
  if (server.status !== 'disabled') {
    parts.push(plural(server.toolCount, 'tool'));
  }
  const lines = [`${server.name}: ${look.word}`];
  if (server.transport !== '') {
    lines.push(`${server.transport} · from ${server.source}`);
  }
  if (server.lastError !== null && server.lastError !== '') {
    lines.push(server.status === 'ready' ? `last error: ${server.lastError}` : server.lastError);
  }
  if (server.prompts.length > 0 || server.resourceCount > 0) {
    lines.push(`${plural(server.prompts.length, 'prompt')}, ${plural(server.resourceCount, 'resource')}`);
  }
  return {
    kind: 'server',
    id: `mcp:${server.name}`,
    name: server.name,
    label: server.name,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    icon: look.icon,
    ...(look.color === undefined ? {} : { color: look.color }),
    tools: [...server.tools],
    restartable: server.status !== 'disabled',
  };
}

export function toolNodes(server: McpServerNode): McpToolNode[] {
  return server.tools.map((tool) => ({
    kind: 'tool',
    id: `mcp:${server.name}:${tool}`,
    label: tool,
    tooltip: `mcp__${server.name}__${tool}`,
  }));
}

/** The view's top level: the servers by name, or a note saying why there are none. */
export function buildMcpTree(servers: readonly McpServer[], availability: McpAvailability, configured: boolean): McpNode[] {
  const note = (label: string, tooltip: string): McpNode[] => [{ kind: 'note', id: 'mcp:note', label, tooltip }];
  switch (availability) {
    case 'loading':
      return note('Loading…', 'The yoi server is starting.');
    case 'stopped':
      return note('Server not running', 'Start the yoi server to see its MCP servers.');
    case 'unavailable':
      return note('Not available', 'This yoi server does not support MCP servers.');
    case 'available':
      break;
  }
  if (servers.length === 0) {
    return configured
      ? note('No MCP servers configured', 'Add [mcp.servers.<name>] to a manifest, or a .mcp.json to a trusted workspace.')
      : note('Not started yet', 'MCP servers start once the model is warm and no turn is running.');
  }
  return [...servers].sort((a, b) => a.name.localeCompare(b.name)).map(serverNode);
}

/** The list after a `yoi/mcp/changed`: the server replaced (or added) by name. */
export function applyChange(servers: readonly McpServer[], changed: McpServer): McpServer[] {
  const others = servers.filter((s) => s.name !== changed.name);
  return [...others, changed];
}
