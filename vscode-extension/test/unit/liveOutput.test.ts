import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyChat, LIVE_KEEP, liveTail, reduceAll, type ChatAction, type Entry } from '../../src/logic/chatState';
import type { ChatEvent } from '../../src/protocol';

const events = (...list: ChatEvent[]): ChatAction[] => list.map((event): ChatAction => ({ kind: 'event', event }));

function tool(entries: readonly Entry[]): Extract<Entry, { kind: 'tool' }> {
  const found = entries.find((e) => e.kind === 'tool');
  assert.ok(found?.kind === 'tool');
  return found;
}

const CALL: ChatEvent = { type: 'toolCall', id: 'call_1', name: 'run_command', arguments: { command: 'make' } };

test('a running command collects its live output until the result replaces it', () => {
  const running = reduceAll(emptyChat(), events({ type: 'turnStart', turn: 1 }, CALL, { type: 'toolOutput', id: 'call_1', text: 'line 1\nli' }, { type: 'toolOutput', id: 'call_1', text: 'ne 2\n' }));
  assert.equal(tool(running.entries).live, 'line 1\nline 2\n');
  const done = reduceAll(running, events({ type: 'toolResult', id: 'call_1', name: 'run_command', ok: true, summary: 'stopped by the user — line 1', content: 'line 1\nline 2\n[stopped by the user]' }, { type: 'toolOutput', id: 'call_1', text: 'late\n' }));
  const entry = tool(done.entries);
  assert.equal(entry.live, undefined);
  assert.equal(entry.status, 'ok');
  assert.match(entry.content ?? '', /stopped by the user/);
});

test('live output keeps its end, from a line start', () => {
  const long = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const kept = liveTail(long);
  assert.ok(kept.length <= LIVE_KEEP);
  assert.ok(kept.startsWith('line '));
  assert.ok(kept.endsWith('line 4999\n'));
  assert.equal(liveTail('short\n'), 'short\n');
});
