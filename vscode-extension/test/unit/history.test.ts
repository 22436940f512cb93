import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyChat, reduce, reduceAll, type ChatState, type Entry } from '../../src/logic/chatState';
import { contextSummary, contextTooltip } from '../../src/logic/display';
import { withOutcomes } from '../../src/logic/editOutcomes';
import { consolidateMessage, extractMessage } from '../../src/logic/memoryMessages';
import type { HistoryItem } from '../../src/protocol';

const APP = 'file:///ws/app.py';

/** A conversation of `turns` turns, each: user, a read call and result, a reply (4 items). */
function conversation(turns: number): HistoryItem[] {
  const items: HistoryItem[] = [];
  for (let i = 0; i < turns; i += 1) {
    items.push(
      { kind: 'message', role: 'user', text: `question ${i}` },
      { kind: 'toolCall', id: `call_${i}`, name: 'read_file', arguments: { path: 'app.py' } },
      { kind: 'toolResult', id: `call_${i}`, name: 'read_file', ok: true, summary: `read ${i}`, content: `content ${i}` },
      { kind: 'message', role: 'assistant', text: `answer ${i}` },
    );
  }
  return items;
}

/** The entries as text, to compare transcripts. */
function shown(entries: readonly Entry[]): string[] {
  return entries.map((e) => {
    switch (e.kind) {
      case 'user':
        return `user ${e.segments.map((s) => (s.kind === 'text' ? s.text : s.kind)).join('')}`;
      case 'assistant':
        return `assistant ${e.text}`;
      case 'tool':
        return `tool ${e.callId} ${e.status} ${e.summary ?? ''} ${e.edits.map((x) => x.status).join(',')}`.trim();
      default:
        return e.kind;
    }
  });
}

/** Load `items` as a client does: the last page, then older pages, `page` items at a time. */
function loadPaged(items: HistoryItem[], page: number): ChatState[] {
  const start = Math.max(0, items.length - page);
  let state = reduce(emptyChat(), { kind: 'history', items: items.slice(start), start });
  const states = [state];
  while (state.paging !== undefined) {
    const before = state.paging.start;
    const from = Math.max(0, before - page);
    state = reduce(state, { kind: 'older', items: items.slice(from, before), start: from });
    states.push(state);
  }
  return states;
}

test('older pages are put above the loaded ones; the whole reads as if loaded at once', () => {
  const items = conversation(10); // 40 items
  const whole = reduce(emptyChat(), { kind: 'history', items });
  assert.equal(whole.paging, undefined);
  // 7 does not divide 4: pages begin with a tool result whose call is on the older page
  const states = loadPaged(items, 7);
  assert.equal(states.length, 6);
  const first = states[0];
  assert.ok(first !== undefined);
  assert.equal(first.paging?.start, 33);
  assert.deepEqual(shown(first.entries), ['tool call_8 ok read 8', 'assistant answer 8', 'user question 9', 'tool call_9 ok read 9', 'assistant answer 9']);
  const last = states[states.length - 1];
  assert.ok(last !== undefined);
  assert.equal(last.paging, undefined);
  assert.deepEqual(shown(last.entries), shown(whole.entries));
  // keys stay unique, and the entries of the first page kept their identity (the webview does not redraw them)
  assert.equal(new Set(last.entries.map((e) => e.key)).size, last.entries.length);
  assert.ok(first.entries.every((e) => last.entries.includes(e)));
});

test('a page whose first item is a tool result fills in the call when the older page arrives', () => {
  const items = conversation(2); // result of call_0 at index 2
  let state = reduce(emptyChat(), { kind: 'history', items: items.slice(2), start: 2 });
  assert.deepEqual(state.paging?.orphans.map((o) => o.id), ['call_0']);
  assert.equal(state.entries.filter((e) => e.kind === 'tool').length, 1); // call_1 only
  state = reduce(state, { kind: 'older', items: items.slice(0, 2), start: 0 });
  assert.deepEqual(shown(state.entries).slice(0, 2), ['user question 0', 'tool call_0 ok read 0']);
});

test('a page that does not end where the loaded history begins is dropped', () => {
  const items = conversation(5);
  const state = reduce(emptyChat(), { kind: 'history', items: items.slice(12), start: 12 });
  assert.equal(reduce(state, { kind: 'older', items: items.slice(0, 4), start: 0 }), state);
  assert.equal(reduce(state, { kind: 'older', items: items.slice(4, 12), start: 4 }).paging?.start, 4);
  const done = reduce(state, { kind: 'older', items: items.slice(0, 12), start: 0 });
  assert.equal(reduce(done, { kind: 'older', items: items.slice(0, 12), start: 0 }), done, 'nothing more to load');
});

test('after a compaction the older pages of the old session are out of reach', () => {
  const state = reduce(emptyChat(), { kind: 'history', items: conversation(5).slice(8), start: 8 });
  const compacted = reduceAll(state, [
    { kind: 'event', event: { type: 'compactStart' } },
    { kind: 'event', event: { type: 'compactDone', sessionId: 's2' } },
  ]);
  assert.equal(compacted.paging, undefined);
});

test('edit outcomes from the result: live and restored rows say applied, partly applied or rejected', () => {
  const five = 'file:///ws/five.py';
  const outcomes = [
    { uri: APP, status: 'applied' as const },
    { uri: five, status: 'partial' as const, message: 'only some of the changes were kept' },
  ];
  // live: the edit events say "applied" for both; the result says how they ended
  const live = reduceAll(emptyChat(), [
    { kind: 'send', segments: [{ kind: 'text', text: 'go' }] },
    { kind: 'event', event: { type: 'turnStart', turn: 1 } },
    { kind: 'event', event: { type: 'toolCall', id: 'c1', name: 'write_file', arguments: { path: 'app.py' } } },
    { kind: 'event', event: { type: 'edit', id: 'c1', uri: APP, status: 'proposed' } },
    { kind: 'event', event: { type: 'edit', id: 'c1', uri: APP, status: 'applied' } },
    { kind: 'event', event: { type: 'edit', id: 'c1', uri: five, status: 'applied' } },
    { kind: 'event', event: { type: 'toolResult', id: 'c1', name: 'write_file', ok: false, summary: 'partly', edits: outcomes } },
  ]);
  const tool = live.entries.find((e) => e.kind === 'tool');
  assert.ok(tool?.kind === 'tool');
  assert.deepEqual(tool.edits, outcomes);
  // restored: only the history knows
  const restored = reduce(emptyChat(), {
    kind: 'history',
    items: [
      { kind: 'toolCall', id: 'c1', name: 'edit_file', arguments: { path: 'app.py' } },
      { kind: 'toolResult', id: 'c1', name: 'edit_file', ok: false, summary: 'The user rejected the change', edits: [{ uri: APP, status: 'rejected' }] },
      { kind: 'toolCall', id: 'c2', name: 'read_file', arguments: { path: 'app.py' } },
      { kind: 'toolResult', id: 'c2', name: 'read_file', ok: true, summary: 'read' },
    ],
  });
  assert.deepEqual(shown(restored.entries), ['tool c1 failed The user rejected the change rejected', 'tool c2 ok read']);
});

test('withOutcomes keeps the order of the edits and adds files the events did not name', () => {
  const edits = [
    { uri: 'a', status: 'applied' as const },
    { uri: 'b', status: 'proposed' as const },
  ];
  assert.deepEqual(withOutcomes(edits, undefined), edits);
  assert.deepEqual(withOutcomes(edits, [{ uri: 'c', status: 'stale' }, { uri: 'b', status: 'rejected', message: 'no' }]), [
    { uri: 'a', status: 'applied' },
    { uri: 'b', status: 'rejected', message: 'no' },
    { uri: 'c', status: 'stale' },
  ]);
});

test('the window and the thresholds come from usage events and the pod, and show as a share of the window', () => {
  let state = reduce(emptyChat(), { kind: 'pod', model: 'm', contextTokens: 100, limits: { contextWindow: 128_000, contextWindowSource: 'model', compactAt: 96_000 } });
  assert.equal(contextSummary(state.contextTokens, state.limits), 'context 100 · 0% of 128k');
  state = reduce(state, {
    kind: 'event',
    event: { type: 'usage', inputTokens: 10, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens: 53_760, contextWindow: 128_000, contextWindowSource: 'model', compactAt: 96_000, compactRequestAt: 115_200 },
  });
  assert.equal(contextSummary(state.contextTokens, state.limits), 'context 53.8k · 42% of 128k');
  const tip = contextTooltip(state.contextTokens, state.limits);
  assert.match(tip, /Model window: 128,000 tokens \(from litellm's model map\)/);
  assert.match(tip, /Compacts between turns past 96,000 tokens \(75%\)/);
  assert.match(tip, /Compacts within a turn past 115,200 tokens \(90%\)/);
  // a restored history keeps what is known of the window; a usage event without it does not erase it
  state = reduce(state, { kind: 'history', items: conversation(1) });
  state = reduce(state, { kind: 'event', event: { type: 'usage', inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens: 60_000 } });
  assert.equal(state.limits?.compactAt, 96_000);
  // without a window: the size only; compaction off is said
  assert.equal(contextSummary(2_000, undefined), 'context 2k');
  assert.equal(contextSummary(undefined, undefined), undefined);
  assert.match(contextTooltip(10, { contextWindow: 32_000, contextWindowSource: 'fallback' }), /assumed[\s\S]*Compaction between turns is off/);
});

test('what the memory commands say when they finish', () => {
  assert.match(extractMessage({ extracted: false }), /Nothing new to extract/);
  assert.equal(
    extractMessage({ extracted: true, processedThroughEntry: 12, source: { session_id: 's', range: [0, 12] }, stagingId: 'x' }),
    'Extracted entries 0–12 of this conversation; it waits to be consolidated into memory.',
  );
  assert.match(extractMessage({ extracted: true, processedThroughEntry: 3, source: { session_id: 's', range: [3, 3] } }), /^Read entry 3 .*nothing in it/);
  assert.equal(consolidateMessage({ consumed: ['a', 'b'], report: 'One decision updated.' }), 'Consolidated 2 extractions into memory: One decision updated.');
  assert.equal(consolidateMessage({ consumed: [], report: '' }), 'Nothing was waiting to be consolidated.');
});

test('a compaction between turns (or on demand) leaves the working indicator idle when it ends', () => {
  for (const end of [{ type: 'compactDone', sessionId: 's2' }, { type: 'compactFailed', error: 'no' }] as const) {
    const state = reduceAll(emptyChat(), [
      { kind: 'event', event: { type: 'compactStart' } },
      { kind: 'event', event: { type: 'phase', phase: 'compacting' } },
    ]);
    assert.equal(state.activity?.phase, 'compacting');
    assert.equal(reduce(state, { kind: 'event', event: end }).activity, undefined);
  }
  // in the middle of a turn the next phase event takes over
  const running = reduceAll(emptyChat(), [
    { kind: 'send', segments: [{ kind: 'text', text: 'go' }] },
    { kind: 'event', event: { type: 'turnStart', turn: 1 } },
    { kind: 'event', event: { type: 'phase', phase: 'compacting' } },
    { kind: 'event', event: { type: 'compactDone', sessionId: 's2' } },
  ]);
  assert.equal(running.activity?.phase, 'compacting');
  assert.equal(reduce(running, { kind: 'event', event: { type: 'phase', phase: 'waitingForModel' } }).activity?.phase, 'waitingForModel');
});
