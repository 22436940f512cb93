import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextGroups, contextHeadline, contextView, prunedLine } from '../../src/logic/context';
import type { PodContextResult } from '../../src/protocol';

const part = (group: string, label: string, tokens: number, count = 1): PodContextResult['parts'][number] => ({ group, label, tokens, bytes: tokens * 4, count });

const RESULT: PodContextResult = {
  podId: 'pod-1',
  model: 'openai/scripted',
  contextTokens: 42_180,
  measured: true,
  tokensPerByte: 0.26,
  contextWindow: 128_000,
  contextWindowSource: 'model',
  compactAt: 96_000,
  compactRequestAt: 115_200,
  parts: [
    part('history', 'user messages', 900, 3),
    part('system', 'instructions', 1800),
    part('tools', 'read_file', 310),
    part('history', 'tool results: read_file', 30_000, 4),
    part('tools', 'run_command', 420),
    part('system', 'Project instructions (AGENTS.md)', 2500),
    part('history', 'assistant messages', 6250, 3),
  ],
  pruned: { results: 2, tokens: 12_400, wouldSave: 12_400 },
};

test('the headline is the total against the window, its share, and where compaction starts', () => {
  assert.equal(contextHeadline(RESULT), '42,180 / 128,000 tokens · 33% · compacts at 96,000');
  assert.equal(contextHeadline({ contextTokens: 1234 }), '1,234 tokens', 'the window not known yet');
  assert.equal(contextHeadline({ contextTokens: 64_000, contextWindow: 128_000 }), '64,000 / 128,000 tokens · 50% · no compaction between turns');
});

test('the parts are grouped System / Tools / History, each largest first, with shares of the whole', () => {
  const groups = contextGroups(RESULT);
  assert.deepEqual(
    groups.map((g) => [g.title, g.tokens, g.bars.map((b) => b.label)]),
    [
      ['System', 4300, ['Project instructions (AGENTS.md)', 'instructions']],
      ['Tools', 730, ['run_command', 'read_file']],
      ['History', 37_150, ['tool results: read_file', 'assistant messages', 'user messages']],
    ],
  );
  const history = groups[2];
  assert.ok(history !== undefined);
  assert.equal(history.text, '37,150 tokens · 88%');
  assert.deepEqual(history.bars[0], { label: 'tool results: read_file', tokens: 30_000, share: 71, text: '30,000 tokens · 71%', count: '×4' });
  assert.equal(groups[1]?.bars[0]?.count, undefined, 'one tool: no count');
  // a group this client does not know comes after, and an empty group is left out
  const other = contextGroups({ contextTokens: 100, parts: [part('images', 'screenshots', 60, 2), part('history', 'user messages', 40)] });
  assert.deepEqual(other.map((g) => g.title), ['History', 'Images']);
  // no total from the server: the parts' sum is the whole
  const [system] = contextGroups({ contextTokens: 0, parts: [part('system', 'instructions', 30), part('tools', 'read_file', 10)] });
  assert.equal(system?.text, '30 tokens · 75%');
});

test('the pruning line says what the request leaves out, or what pruning would save', () => {
  assert.equal(prunedLine(RESULT.pruned), 'Pruning leaves out 2 old tool results (12,400 tokens) — the session log keeps them.');
  assert.equal(prunedLine({ results: 1, tokens: 800, wouldSave: 800 }), 'Pruning leaves out 1 old tool result (800 tokens) — the session log keeps them.');
  assert.equal(prunedLine({ results: 0, tokens: 0, wouldSave: 350 }), 'Pruning leaves nothing out: it would save only 350 tokens now.');
  assert.equal(prunedLine({ results: 0, tokens: 0, wouldSave: 0 }), 'Pruning leaves nothing out.');
});

test('the view puts it together: the meter is the share of the window, the estimate says how it was made', () => {
  const view = contextView(RESULT);
  assert.equal(view.model, 'openai/scripted');
  assert.equal(view.windowShare, 33);
  assert.match(view.estimate, /last measured request/);
  assert.equal(view.groups.length, 3);
  const unsized: PodContextResult = { ...RESULT, measured: false };
  delete unsized.contextWindow;
  const fresh = contextView(unsized);
  assert.equal(fresh.windowShare, undefined);
  assert.match(fresh.estimate, /4 bytes a token/);
  assert.equal(contextView({ ...RESULT, contextTokens: 200_000 }).windowShare, 100, 'past the window: a full meter');
});
