import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalPrompt } from '../../src/logic/approval';
import { emptyChat, reduce, reduceAll, type ChatAction, type ChatState, type Entry } from '../../src/logic/chatState';
import { sessionPicks } from '../../src/logic/sessions';
import { agentOf, type AgentEntry } from '../../src/logic/subAgents';
import type { ChatEvent, HistoryItem, SessionInfo, SubAgentState } from '../../src/protocol';

const PARENT = 'pod-parent';
const CHILD = 'pod-child';

const ev = (event: ChatEvent): ChatAction => ({ kind: 'event', event });
const child = (event: ChatEvent, podId = CHILD, parentPodId = PARENT): ChatAction => ({ kind: 'child', podId, parentPodId, event });

const started: ChatEvent = { type: 'subAgent', podId: CHILD, name: 'research-agent', status: 'running', callId: 'call_spawn', sessionId: 's-child', task: 'Find the cache', scope: 'read-only' };
const finished: ChatEvent = { ...started, status: 'finished', answer: 'In cache.py.' };

/** The parent's turn up to its spawn_agent call. */
const spawning: ChatAction[] = [
  { kind: 'send', segments: [{ kind: 'text', text: 'ask a sub-agent' }] },
  ev({ type: 'turnStart', turn: 1 }),
  ev({ type: 'toolCall', id: 'call_spawn', name: 'spawn_agent', arguments: { task: 'Find the cache', name: 'research-agent' } }),
];

/** What the child says in its run. */
const childRun: ChatAction[] = [
  child({ type: 'turnStart', turn: 1 }),
  child({ type: 'textDelta', text: 'Looking' }),
  child({ type: 'toolCall', id: 'c1', name: 'read_file', arguments: { path: 'cache.py' } }),
  child({ type: 'toolResult', id: 'c1', name: 'read_file', ok: true, summary: 'Read cache.py' }),
  child({ type: 'textDelta', text: 'In cache.py.' }),
  child({ type: 'turnEnd', outcome: 'finished' }),
];

const kinds = (entries: readonly Entry[]): string[] => entries.map((e) => (e.kind === 'tool' ? `tool ${e.callId}` : e.kind));

function agentRow(state: ChatState, index: number): AgentEntry {
  const entry = state.entries[index];
  assert.ok(entry?.kind === 'agent', `entry ${index} is ${entry?.kind ?? 'missing'}`);
  return entry;
}

test('a sub-agent is a row under its spawn_agent call, with its own transcript; none of its events reach the parent\'s', () => {
  const running = reduceAll(emptyChat(), [...spawning, ev(started), ...childRun]);
  assert.deepEqual(kinds(running.entries), ['user', 'tool call_spawn', 'agent']);
  const row = agentRow(running, 2);
  assert.equal(row.status, 'running');
  assert.deepEqual([row.name, row.task, row.scope, row.podId, row.callId], ['research-agent', 'Find the cache', 'read-only', CHILD, 'call_spawn']);
  assert.equal(row.answer, undefined);
  const transcript = row.transcript;
  assert.ok(transcript !== undefined);
  assert.deepEqual(kinds(transcript.entries), ['assistant', 'tool c1', 'assistant']);
  assert.equal(running.running, true, "the child's turnEnd does not end the parent's turn");
  assert.equal(running.activity?.phase, 'runningTool');

  const done = reduceAll(running, [
    ev(finished),
    ev({ type: 'toolResult', id: 'call_spawn', name: 'spawn_agent', ok: true, summary: 'research-agent finished' }),
    ev({ type: 'textDelta', text: 'It is in cache.py.' }),
    ev({ type: 'turnEnd', outcome: 'finished' }),
  ]);
  assert.deepEqual(kinds(done.entries), ['user', 'tool call_spawn', 'agent', 'assistant']);
  const ended = agentRow(done, 2);
  assert.equal(ended.status, 'finished');
  assert.equal(ended.answer, 'In cache.py.');
  assert.equal(ended.transcript, transcript, 'its transcript stays');
});

test('events that come before the subAgent event make the row, which the event then completes', () => {
  const state = reduceAll(emptyChat(), [...spawning, child({ type: 'turnStart', turn: 1 }), child({ type: 'textDelta', text: 'Hi' }), ev(started)]);
  assert.deepEqual(kinds(state.entries), ['user', 'tool call_spawn', 'agent']);
  const row = agentRow(state, 2);
  assert.equal(row.name, 'research-agent');
  assert.equal(row.task, 'Find the cache');
  assert.deepEqual(kinds(row.transcript?.entries ?? []), ['assistant']);
});

test("a sub-agent's sub-agent is a row in its transcript, and its events go there", () => {
  const grand: ChatEvent = { type: 'subAgent', podId: 'pod-grand', name: 'helper', status: 'running', callId: 'c_spawn2', task: 'Help' };
  const state = reduceAll(emptyChat(), [
    ...spawning,
    ev(started),
    child({ type: 'turnStart', turn: 1 }),
    child({ type: 'toolCall', id: 'c_spawn2', name: 'spawn_agent', arguments: { task: 'Help' } }),
    child(grand),
    child({ type: 'textDelta', text: 'helping' }, 'pod-grand', CHILD),
  ]);
  assert.deepEqual(kinds(state.entries), ['user', 'tool call_spawn', 'agent']);
  const inner = agentRow(state, 2).transcript;
  assert.deepEqual(kinds(inner?.entries ?? []), ['tool c_spawn2', 'agent']);
  const helper = agentOf(state, 'pod-grand');
  assert.ok(helper !== undefined);
  assert.equal(helper.name, 'helper');
  assert.deepEqual(kinds(helper.transcript?.entries ?? []), ['assistant']);
});

test('a later run of the same sub-agent (send_to_agent: a new pod, the same session) updates its row', () => {
  const first = reduceAll(emptyChat(), [...spawning, ev(started), ev(finished)]);
  const again = reduce(first, ev({ ...started, podId: 'pod-child-2' }));
  assert.equal(again.entries.filter((e) => e.kind === 'agent').length, 1);
  const row = agentRow(again, 2);
  assert.equal(row.podId, 'pod-child-2');
  assert.equal(row.status, 'running');
  assert.equal(row.answer, undefined, 'the old answer is not shown as the new one');
});

test('a sub-agent that fails or is stopped shows why; the server restarting marks running ones interrupted', () => {
  const failed = reduceAll(emptyChat(), [...spawning, ev(started), ev({ ...started, status: 'error', error: 'rate limited' })]);
  assert.deepEqual([agentRow(failed, 2).status, agentRow(failed, 2).error], ['error', 'rate limited']);
  const grand: ChatEvent = { type: 'subAgent', podId: 'pod-grand', name: 'helper', status: 'running' };
  const lost = reduceAll(emptyChat(), [...spawning, ev(started), child(grand), { kind: 'lost' }]);
  assert.equal(agentRow(lost, 2).status, 'interrupted');
  assert.equal(agentOf(lost, 'pod-grand')?.status, 'interrupted', 'at any depth');
});

test("a sub-agent's approval outlives the parent's turn (it may run in the background); the parent's own do not", () => {
  const approval = (requestId: string, agentPodId?: string): ChatAction => ({
    kind: 'approval',
    approval: { requestId, toolCallId: 'x', tool: 'run_command', command: 'ls', cwd: '/ws', reason: 'Run `ls`', ...(agentPodId === undefined ? {} : { agentPodId, agent: 'research-agent' }) },
  });
  const state = reduceAll(emptyChat(), [...spawning, ev(started), approval('a1'), approval('a2', CHILD), ev({ type: 'turnEnd', outcome: 'finished' })]);
  assert.deepEqual(
    state.approvals.map((a) => a.requestId),
    ['a2'],
  );
});

const history: HistoryItem[] = [
  { kind: 'message', role: 'user', text: 'ask' },
  { kind: 'toolCall', id: 'call_spawn', name: 'spawn_agent', arguments: { task: 'Find the cache' } },
  { kind: 'toolResult', id: 'call_spawn', name: 'spawn_agent', ok: true, summary: 'finished' },
  { kind: 'message', role: 'assistant', text: 'done' },
];
const restored: SubAgentState = { name: 'research-agent', status: 'finished', sessionId: 's-child', callId: 'call_spawn', task: 'Find the cache', scope: 'read-only', answer: 'In cache.py.' };

test('a restored history shows its sub-agents as rows under their calls, with their answers and no transcript', () => {
  const state = reduce(emptyChat(), { kind: 'history', items: history, subAgents: [restored, { ...restored, callId: 'call_gone', name: 'other', sessionId: 's-other' }] });
  assert.deepEqual(kinds(state.entries), ['user', 'tool call_spawn', 'agent', 'assistant', 'agent']);
  const row = agentRow(state, 2);
  assert.deepEqual([row.name, row.status, row.answer, row.restored, row.transcript], ['research-agent', 'finished', 'In cache.py.', true, undefined]);
  assert.equal(agentRow(state, 4).name, 'other', 'a sub-agent whose call is not in the history goes at the end');
});

test("a restored sub-agent whose call is on an older page is placed when that page loads", () => {
  const page = history.slice(3);
  const state = reduce(emptyChat(), { kind: 'history', items: page, start: 3, subAgents: [restored] });
  assert.deepEqual(kinds(state.entries), ['assistant']);
  const older = reduce(state, { kind: 'older', items: history.slice(0, 3), start: 0 });
  assert.deepEqual(kinds(older.entries), ['user', 'tool call_spawn', 'agent', 'assistant']);
  assert.equal(older.paging, undefined);
});

test('a restored sub-agent still running gets its live events (steps before the restore are not there)', () => {
  const state = reduceAll(emptyChat(), [
    { kind: 'history', items: history, subAgents: [{ name: 'research-agent', status: 'running', sessionId: 's-child', callId: 'call_spawn', task: 'Find the cache', scope: 'read-only', podId: CHILD }] },
    child({ type: 'textDelta', text: 'still going' }),
  ]);
  const row = agentRow(state, 2);
  assert.equal(row.restored, true);
  assert.deepEqual(kinds(row.transcript?.entries ?? []), ['assistant']);
});

test("the approval modal names the sub-agent that asks", () => {
  const params = { podId: CHILD, parentPodId: PARENT, toolCallId: 'x', tool: 'run_command', arguments: { command: 'pytest -q' }, reason: 'research-agent wants to run `pytest -q`' };
  assert.equal(approvalPrompt(params, '/ws', 'research-agent').message, 'research-agent wants to run: pytest -q');
  assert.equal(approvalPrompt(params, '/ws').message, 'yoi wants to run: pytest -q');
});

test("a sub-agent's session is listed right after the session that spawned it, and says so", () => {
  const now = Date.UTC(2026, 0, 10, 12);
  const session = (sessionId: string, title: string, spawnedBySessionId?: string): SessionInfo => ({
    sessionId,
    title,
    createdAt: now,
    updatedAt: now,
    turnCount: 1,
    ...(spawnedBySessionId === undefined ? {} : { spawnedBySessionId }),
  });
  const picks = sessionPicks([session('child', 'Find the cache', 'parent'), session('other', 'Other'), session('parent', 'Fix the cache'), session('orphan', 'Lost', 'gone')], now, new Set());
  assert.deepEqual(
    picks.map((p) => [p.sessionId, p.detail]),
    [
      ['other', '1 turn'],
      ['parent', '1 turn'],
      ['child', 'sub-agent of “Fix the cache” · 1 turn'],
      ['orphan', 'sub-agent · 1 turn'],
    ],
  );
});

test("an edit of a sub-agent under review shows its progress in the sub-agent's tool row", () => {
  const state = reduceAll(emptyChat(), [
    ...spawning,
    ev(started),
    child({ type: 'toolCall', id: 'c_edit', name: 'edit_file', arguments: { path: 'docs/a.md' } }),
    { kind: 'review', callId: 'c_edit', progress: { total: 2, kept: 1, undone: 0 } },
  ]);
  const tool = agentRow(state, 2).transcript?.entries[0];
  assert.ok(tool?.kind === 'tool');
  assert.deepEqual(tool.review, { total: 2, kept: 1, undone: 0 });
  assert.equal(reduce(state, { kind: 'review', callId: 'nowhere' }), state);
});
