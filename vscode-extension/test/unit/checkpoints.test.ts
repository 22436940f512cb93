import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageForInput, RESTORE_CHOICES, RESTORE_TOOL, restoreConfirmation, restoreSummary, turnOfMessage } from '../../src/logic/checkpoints';
import { parseInput } from '../../src/logic/mentions';
import type { Segment } from '../../src/protocol';

const turns = (...numbers: number[]): { turn: number }[] => numbers.map((turn) => ({ turn }));

test('a user message is matched to its turn from the end (the transcript may show only the latest page)', () => {
  const entries = [
    { kind: 'user', key: 1 },
    { kind: 'assistant', key: 2 },
    { kind: 'tool', key: 3 },
    { kind: 'user', key: 4 },
    { kind: 'assistant', key: 5 },
    { kind: 'user', key: 6 },
  ];
  assert.equal(turnOfMessage(entries, 6, turns(1, 2, 3)), 3);
  assert.equal(turnOfMessage(entries, 4, turns(1, 2, 3)), 2);
  assert.equal(turnOfMessage(entries, 1, turns(1, 2, 3)), 1);
  // a paged or compacted session: turns before the shown messages are listed first
  assert.equal(turnOfMessage(entries, 1, turns(1, 2, 3, 4, 5, 6, 7)), 5);
  assert.equal(turnOfMessage(entries, 6, turns(1, 2, 3, 4, 5, 6, 7)), 7);
});

test('a key that is not a user message, or a message with no turn, has no turn', () => {
  const entries = [
    { kind: 'user', key: 1 },
    { kind: 'assistant', key: 2 },
    { kind: 'user', key: 3 },
  ];
  assert.equal(turnOfMessage(entries, 2, turns(1, 2)), undefined);
  assert.equal(turnOfMessage(entries, 9, turns(1, 2)), undefined);
  assert.equal(turnOfMessage(entries, 1, turns(1)), undefined);
  assert.equal(turnOfMessage(entries, 3, []), undefined);
});

test('the restore choices are files and conversation, files only, conversation only', () => {
  assert.deepEqual(
    RESTORE_CHOICES.map((c) => [c.label, c.files, c.conversation]),
    [
      ['Files and conversation', true, true],
      ['Files only', true, false],
      ['Conversation only', false, true],
    ],
  );
});

test('the restore summary names the files and the fork', () => {
  assert.equal(restoreSummary({ turn: 2, files: ['gen.txt'], sessionId: 's2', forkedFrom: { sessionId: 's1', turn: 2 } }, true), 'Back to before message 2: 1 file restored (gen.txt); the conversation continues from before it (the old one is kept in the session list).');
  assert.equal(restoreSummary({ turn: 1, files: ['a', 'b'], sessionId: 's1' }, true), 'Back to before message 1: 2 files restored.');
  assert.equal(restoreSummary({ turn: 3, files: [], sessionId: 's1' }, true), 'Back to before message 3: no file needed restoring.');
  assert.equal(restoreSummary({ turn: 3, files: [], sessionId: 's2', forkedFrom: { sessionId: 's1', turn: 3 } }, false), 'Back to before message 3: the conversation continues from before it (the old one is kept in the session list).');
});

test('a message goes back into the input as typed, and parses to the same segments', () => {
  const segments: Segment[] = [
    { kind: 'text', text: 'fix ' },
    { kind: 'file', path: 'src/app.py' },
    { kind: 'text', text: ' with ' },
    { kind: 'knowledge', slug: 'naming' },
    { kind: 'image', name: 'shot.png', mime: 'image/png', size: 3, sha256: 'abc' },
  ];
  const message = messageForInput(segments);
  assert.equal(message.text, 'fix @src/app.py with #naming');
  assert.deepEqual(message.references, [
    { kind: 'file', value: 'src/app.py' },
    { kind: 'knowledge', value: 'naming' },
  ]);
  assert.deepEqual(parseInput(message.text, { files: new Set(['src/app.py']), knowledge: new Set(['naming']) }), segments.slice(0, 4));
});

test('a restore that would overwrite changes made outside yoi names the files and carries the diffs', () => {
  const one = restoreConfirmation({
    podId: 'p',
    toolCallId: 'restore-1',
    tool: RESTORE_TOOL,
    arguments: { turn: 2, files: ['app.py'], diffs: { 'app.py': '--- a/app.py\n+++ b/app.py\n-mine\n' } },
    reason: '1 file(s) changed outside the agent after turn 2 (app.py); restoring overwrites those changes',
  });
  assert.equal(one.message, 'Overwrite your changes to app.py?');
  assert.match(one.detail, /^It was changed outside yoi after message 2/);
  assert.equal(one.diffs, '--- a/app.py\n+++ b/app.py\n-mine\n');
  const two = restoreConfirmation({ podId: 'p', toolCallId: 'r', tool: RESTORE_TOOL, arguments: { turn: 1, files: ['a', 'b'], diffs: { a: 'A', b: 'B' } }, reason: '' });
  assert.equal(two.message, 'Overwrite your changes to 2 files?');
  assert.match(two.detail, /^a, b were changed outside yoi after message 1/);
  assert.equal(two.diffs, 'A\nB');
});
