import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChange, buildMcpTree, serverNode, toolNodes } from '../../src/logic/mcpServers';
import type { McpServer } from '../../src/protocol';

const server = (name: string, extra: Partial<McpServer> = {}): McpServer => ({
  name,
  status: 'ready',
  transport: 'stdio',
  source: 'manifest',
  tools: ['get_current_time', 'convert_time'],
  toolCount: 2,
  prompts: [],
  resourceCount: 0,
  lastError: null,
  connects: 1,
  ...extra,
});

test('a connected server says so with its tool count; its tools are its children', () => {
  const node = serverNode(server('time'));
  assert.equal(node.label, 'time');
  assert.equal(node.description, 'connected · 2 tools');
  assert.equal(node.icon, 'pass-filled');
  assert.equal(node.restartable, true);
  assert.deepEqual(
    toolNodes(node).map((t) => [t.label, t.tooltip]),
    [
      ['get_current_time', 'mcp__time__get_current_time'],
      ['convert_time', 'mcp__time__convert_time'],
    ],
  );
});

test('a failed server shows its last error in the tooltip', () => {
  const node = serverNode(server('fx', { status: 'error', tools: [], toolCount: 0, lastError: 'the connection closed' }));
  assert.equal(node.description, 'failed · 0 tools');
  assert.equal(node.icon, 'error');
  assert.match(node.tooltip, /^fx: failed\n/);
  assert.match(node.tooltip, /the connection closed/);
  assert.deepEqual(toolNodes(node), []);
});

test('a starting server spins; a disabled one cannot be restarted and shows no tool count', () => {
  assert.equal(serverNode(server('a', { status: 'starting', toolCount: 1 })).description, 'starting · 1 tool');
  assert.equal(serverNode(server('a', { status: 'starting' })).icon, 'loading~spin');
  const disabled = serverNode(server('b', { status: 'disabled', transport: '', tools: [], toolCount: 0 }));
  assert.equal(disabled.description, 'disabled');
  assert.equal(disabled.restartable, false);
  assert.equal(disabled.tooltip, 'b: disabled');
});

test('servers are listed by name; with none the view says why', () => {
  const tree = buildMcpTree([server('zeta'), server('alpha')], 'available', true);
  assert.deepEqual(
    tree.map((n) => n.label),
    ['alpha', 'zeta'],
  );
  const note = (nodes: ReturnType<typeof buildMcpTree>): string => {
    assert.equal(nodes.length, 1);
    const [only] = nodes;
    assert.ok(only?.kind === 'note');
    return only.label;
  };
  assert.match(note(buildMcpTree([], 'available', true)), /No MCP servers configured/);
  assert.match(note(buildMcpTree([], 'available', false)), /Not started yet/);
  assert.match(note(buildMcpTree([], 'unavailable', false)), /Not available/);
  assert.match(note(buildMcpTree([server('x')], 'stopped', true)), /not running/);
});

test('a change replaces the server of that name, or adds it', () => {
  const before = [server('time'), server('git')];
  const after = applyChange(before, server('time', { status: 'error', lastError: 'boom' }));
  assert.equal(after.length, 2);
  assert.equal(after.find((s) => s.name === 'time')?.status, 'error');
  assert.equal(applyChange(after, server('new')).length, 3);
  assert.equal(before[0]?.status, 'ready');
});
