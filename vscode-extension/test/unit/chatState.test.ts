import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { emptyChat, reduce, reduceAll, type ChatAction, type Entry } from '../../src/logic/chatState';
import { activityLabel, describeActivity, formatCost, formatTokens } from '../../src/logic/display';
import type { ChatEvent, ChatResult, HistoryItem, Segment } from '../../src/protocol';

interface Recording {
  send: Segment[];
  events: ChatEvent[];
  result: ChatResult;
}

const recording = JSON.parse(readFileSync(new URL('../../test/fixtures/stream.json', import.meta.url), 'utf8')) as Recording;

function play(events: ChatEvent[]): ChatAction[] {
  return [{ kind: 'send', segments: recording.send }, ...events.map((event): ChatAction => ({ kind: 'event', event }))];
}

const kinds = (entries: readonly Entry[]): string[] => entries.map((e) => e.kind);

test('a recorded turn reduces to user, reasoning, tools, reply and a notice', () => {
  const state = reduce(reduceAll(emptyChat(), play(recording.events)), { kind: 'result', result: recording.result });
  assert.deepEqual(kinds(state.entries), ['user', 'reasoning', 'tool', 'tool', 'assistant', 'notice', 'usage']);
  assert.equal(state.running, false);
  assert.equal(state.activity, undefined);
  const turn = state.entries[6];
  assert.ok(turn?.kind === 'usage');
  assert.deepEqual([turn.inputTokens, turn.outputTokens, turn.cacheReadTokens], [4400, 100, 2000]);
  const reasoning = state.entries[1];
  assert.ok(reasoning?.kind === 'reasoning');
  assert.equal(reasoning.text, 'The user asks about app.py; read it first.');
  assert.equal(reasoning.streaming, false);
  const reply = state.entries[4];
  assert.ok(reply?.kind === 'assistant');
  assert.match(reply.text, /```python\ndef main\(\):\n {4}return 2\n```/);
  assert.equal(state.contextTokens, 2460);
  assert.deepEqual(state.totals, { inputTokens: 4400, outputTokens: 100, cacheReadTokens: 2000 });
});

test('streamed text accumulates in one entry while it streams', () => {
  const state = reduceAll(emptyChat(), play(recording.events.slice(0, 1).concat(recording.events.slice(10, 12))));
  const last = state.entries[state.entries.length - 1];
  assert.ok(last?.kind === 'assistant');
  assert.equal(last.streaming, true);
  assert.equal(last.text, '`main()` returned **1** because of a typo. I changed it:\n\n```python\ndef main():\n');
  assert.equal(state.running, true);
});

test('a tool row goes running → ok, and carries its edit status', () => {
  const upToProposal = reduceAll(emptyChat(), play(recording.events.slice(0, 8)));
  const tool = upToProposal.entries.find((e) => e.kind === 'tool' && e.callId === 'call_2');
  assert.ok(tool?.kind === 'tool');
  assert.equal(tool.status, 'running');
  assert.deepEqual(tool.edits, [{ uri: 'file:///ws/app.py', status: 'proposed' }]);
  const done = reduceAll(upToProposal, recording.events.slice(8, 10).map((event): ChatAction => ({ kind: 'event', event })));
  const after = done.entries.find((e) => e.kind === 'tool' && e.callId === 'call_2');
  assert.ok(after?.kind === 'tool');
  assert.equal(after.status, 'ok');
  assert.equal(after.summary, 'Edited app.py (1 hunk)');
  assert.deepEqual(after.edits, [{ uri: 'file:///ws/app.py', status: 'applied' }]);
});

test('unchanged entries keep their identity (the renderer redraws only what changed)', () => {
  const before = reduceAll(emptyChat(), play(recording.events.slice(0, 11)));
  const after = reduce(before, { kind: 'event', event: { type: 'textDelta', text: 'more' } });
  assert.equal(after.entries[0], before.entries[0]);
  assert.equal(after.entries[3], before.entries[3]);
  assert.notEqual(after.entries[4], before.entries[4]);
});

test('an interrupted turn ends running tools and says so', () => {
  const state = reduceAll(emptyChat(), [
    ...play([{ type: 'turnStart', turn: 1 }, { type: 'toolCall', id: 'c', name: 'run_command', arguments: { command: 'sleep 9' } }]),
    { kind: 'event', event: { type: 'turnEnd', outcome: 'interrupted' } },
  ]);
  const tool = state.entries[1];
  assert.ok(tool?.kind === 'tool');
  assert.equal(tool.status, 'failed');
  const note = state.entries[2];
  assert.ok(note?.kind === 'notice');
  assert.equal(note.text, 'Stopped.');
  assert.equal(state.running, false);
});

test('an error outcome shows the error as a notice', () => {
  const state = reduceAll(emptyChat(), play([{ type: 'turnStart', turn: 1 }, { type: 'turnEnd', outcome: 'error', error: 'The API key was rejected.' }]));
  const note = state.entries[state.entries.length - 1];
  assert.ok(note?.kind === 'notice');
  assert.deepEqual([note.level, note.text], ['error', 'The API key was rejected.']);
});

test('compaction shows start and end in the chat', () => {
  const state = reduceAll(emptyChat(), [
    { kind: 'event', event: { type: 'compactStart' } },
  ]);
  assert.equal(state.compacting, true);
  const done = reduce(state, { kind: 'event', event: { type: 'compactDone', sessionId: 's2' } });
  assert.equal(done.compacting, false);
  assert.deepEqual(done.entries.map((e) => (e.kind === 'notice' ? e.source : '')), ['compaction', 'compaction']);
});

test('a history redraws the same transcript as the live events did', () => {
  const items: HistoryItem[] = [
    { kind: 'message', role: 'user', text: 'why does @app.py\n\n[File: app.py]…', segments: recording.send },
    { kind: 'reasoning', text: 'The user asks about app.py; read it first.' },
    { kind: 'toolCall', id: 'call_1', name: 'read_file', arguments: { path: 'app.py' } },
    { kind: 'toolResult', id: 'call_1', name: 'read_file', ok: true, summary: 'Read 2 lines from app.py', content: '1\tdef main():' },
    { kind: 'message', role: 'assistant', text: 'Done.' },
    { kind: 'message', role: 'system', text: '[The user interrupted]' },
  ];
  const state = reduce({ ...emptyChat(), model: 'openai/scripted' }, { kind: 'history', items });
  assert.deepEqual(kinds(state.entries), ['user', 'reasoning', 'tool', 'assistant', 'notice']);
  const user = state.entries[0];
  assert.ok(user?.kind === 'user');
  assert.deepEqual(user.segments, recording.send);
  const tool = state.entries[2];
  assert.ok(tool?.kind === 'tool');
  assert.deepEqual([tool.status, tool.content], ['ok', '1\tdef main():']);
  assert.equal(state.model, 'openai/scripted');
  assert.equal(state.running, false);
});

test('a user message without segments shows its text', () => {
  const state = reduce(emptyChat(), { kind: 'history', items: [{ kind: 'message', role: 'user', text: 'hello' }] });
  assert.deepEqual(state.entries[0], { kind: 'user', key: 1, segments: [{ kind: 'text', text: 'hello' }] });
});

test('a failed request ends the turn with its message', () => {
  const state = reduceAll(emptyChat(), [
    { kind: 'send', segments: [{ kind: 'text', text: 'hi' }] },
    { kind: 'failed', message: 'The yoi server is not running.' },
  ]);
  assert.equal(state.running, false);
  assert.deepEqual(kinds(state.entries), ['user', 'notice']);
});

test('token counts read short', () => {
  assert.deepEqual([0, 999, 1000, 2460, 123456, 2_500_000].map(formatTokens), ['0', '999', '1k', '2.5k', '123k', '2.5M']);
});

test('the working indicator: preparing from the send, then the phase read from the events', () => {
  let state = reduce(emptyChat(), { kind: 'send', segments: [{ kind: 'text', text: 'hi' }] });
  assert.deepEqual(state.activity, { phase: 'preparing' });
  const step = (event: ChatEvent): void => {
    state = reduce(state, { kind: 'event', event });
  };
  step({ type: 'turnStart', turn: 1 });
  assert.deepEqual(state.activity, { phase: 'waitingForModel' });
  step({ type: 'reasoningDelta', text: 'hmm' });
  assert.deepEqual(state.activity, { phase: 'thinking' });
  step({ type: 'toolCall', id: 'c1', name: 'run_command', arguments: { command: 'ls' } });
  assert.deepEqual(state.activity, { phase: 'runningTool', tool: 'run_command' });
  step({ type: 'toolResult', id: 'c1', name: 'run_command', ok: true, summary: 'exit 0' });
  assert.deepEqual(state.activity, { phase: 'waitingForModel' });
  step({ type: 'compactStart' });
  assert.deepEqual(state.activity, { phase: 'compacting' });
  step({ type: 'compactDone', sessionId: 's2' });
  step({ type: 'textDelta', text: 'Done.' });
  assert.deepEqual(state.activity, { phase: 'writing' });
  step({ type: 'turnEnd', outcome: 'finished' });
  assert.equal(state.activity, undefined);
  assert.equal(activityLabel({ phase: 'runningTool', tool: 'grep' }), 'Running grep…');
});

test('phase events, when the server sends them, name the phase', () => {
  let state = reduce(emptyChat(), { kind: 'send', segments: [{ kind: 'text', text: 'hi' }] });
  const step = (event: ChatEvent): void => {
    state = reduce(state, { kind: 'event', event });
  };
  step({ type: 'phase', phase: 'loadingModel' });
  step({ type: 'turnStart', turn: 1 });
  assert.deepEqual(state.activity, { phase: 'loadingModel' }, 'turnStart does not hide the loading');
  assert.equal(activityLabel(state.activity ?? { phase: 'preparing' }), 'Loading the model client…');
  step({ type: 'phase', phase: 'waitingForModel' });
  step({ type: 'toolCall', id: 'c1', name: 'read_file', arguments: {} });
  assert.deepEqual(state.activity, { phase: 'waitingForModel' }, 'no guessing once the server says');
  step({ type: 'phase', phase: 'runningTool', tool: 'read_file' });
  assert.deepEqual(state.activity, { phase: 'runningTool', tool: 'read_file' });
  step({ type: 'phase', phase: 'somethingNew' as 'compacting' });
  assert.equal(activityLabel(state.activity ?? { phase: 'preparing' }), 'Working…');
});

test('a turn ends with its tokens, and its cost when the server knows it', () => {
  const usage = (input: number, output: number, costUsd?: number): ChatEvent => ({
    type: 'usage',
    inputTokens: input,
    outputTokens: output,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    contextTokens: input + output,
    ...(costUsd === undefined ? {} : { costUsd }),
  });
  const state = reduceAll(emptyChat(), play([{ type: 'turnStart', turn: 1 }, usage(1000, 20, 0.001), usage(1200, 40, 0.0015), { type: 'turnEnd', outcome: 'finished' }]));
  const last = state.entries[state.entries.length - 1];
  assert.deepEqual(last, { kind: 'usage', key: last?.key, inputTokens: 2200, outputTokens: 60, cacheReadTokens: 0, costUsd: 0.0025 });
  const noCost = reduceAll(emptyChat(), play([usage(10, 2), { type: 'turnEnd', outcome: 'finished' }]));
  assert.equal(noCost.entries[noCost.entries.length - 1]?.kind, 'usage');
  assert.equal('costUsd' in (noCost.entries[noCost.entries.length - 1] ?? {}), false);
  assert.deepEqual([formatCost(0.0025), formatCost(0.123), formatCost(3.4)], ['$0.0025', '$0.123', '$3.40']);
});

test('a live tool result carries its content; without it the summary stays', () => {
  const state = reduceAll(emptyChat(), play([
    { type: 'toolCall', id: 'c1', name: 'run_command', arguments: { command: 'ls' } },
    { type: 'toolResult', id: 'c1', name: 'run_command', ok: true, summary: 'exit 0', content: 'exit 0\na\nb' },
    { type: 'toolCall', id: 'c2', name: 'run_command', arguments: { command: 'ls' } },
    { type: 'toolResult', id: 'c2', name: 'run_command', ok: true, summary: 'exit 0' },
  ]));
  const [first, second] = state.entries.filter((e) => e.kind === 'tool');
  assert.ok(first?.kind === 'tool' && second?.kind === 'tool');
  assert.equal(first.content, 'exit 0\na\nb');
  assert.equal(second.content, undefined);
  assert.equal(second.summary, 'exit 0');
});

test('approvals queue in order and leave when answered, withdrawn or when the turn ends', () => {
  const approval = (n: number): ChatAction => ({
    kind: 'approval',
    approval: { requestId: `a${n}`, toolCallId: `c${n}`, tool: 'run_command', command: `echo ${n}`, cwd: '/ws', reason: 'Run' },
  });
  let state = reduceAll(emptyChat(), [...play([{ type: 'turnStart', turn: 1 }]), approval(1), approval(2), approval(2)]);
  assert.deepEqual(state.approvals.map((a) => a.requestId), ['a1', 'a2']);
  assert.equal(describeActivity(state), 'Waiting for your approval…');
  state = reduce(state, { kind: 'approvalDone', requestId: 'a1' });
  assert.deepEqual(state.approvals.map((a) => a.requestId), ['a2']);
  state = reduce(state, { kind: 'event', event: { type: 'turnEnd', outcome: 'interrupted' } });
  assert.deepEqual(state.approvals, []);
});

test('a review in the editor shows on its tool row until it ends', () => {
  let state = reduceAll(emptyChat(), play([{ type: 'turnStart', turn: 1 }, { type: 'toolCall', id: 'c1', name: 'edit_file', arguments: { path: 'app.py' } }]));
  assert.equal(describeActivity(state), 'Running edit_file…');
  state = reduce(state, { kind: 'review', callId: 'c1', progress: { total: 2, kept: 1, undone: 0 } });
  assert.equal(describeActivity(state), 'Waiting for your review in the editor…');
  const tool = state.entries[1];
  assert.ok(tool?.kind === 'tool');
  assert.deepEqual(tool.review, { total: 2, kept: 1, undone: 0 });
  state = reduce(state, { kind: 'review', callId: 'c1' });
  const after = state.entries[1];
  assert.ok(after?.kind === 'tool');
  assert.equal('review' in after, false);
});
