import assert from 'node:assert/strict';
import { test } from 'node:test';
import { approvalPrompt, approvalTarget, decisionFor } from '../../src/logic/approval';
import { relativeTime, sessionPicks, chatTitle } from '../../src/logic/sessions';

test('the approval names the command and its working directory', () => {
  const prompt = approvalPrompt(
    { podId: 'p', toolCallId: 'c', tool: 'run_command', arguments: { command: 'pytest -q', cwd: 'tests' }, reason: 'Run `pytest -q` in tests' },
    '/ws',
  );
  assert.equal(prompt.message, 'yoi wants to run: pytest -q');
  assert.match(prompt.detail, /Working directory: \/ws\/tests/);
});

test('without cwd the workspace root is the working directory', () => {
  const prompt = approvalPrompt({ podId: 'p', toolCallId: 'c', tool: 'run_command', arguments: { command: 'ls' }, reason: 'Run `ls` in .' }, '/ws');
  assert.match(prompt.detail, /Working directory: \/ws\n/);
});

test('the chat shows the command and its absolute working directory', () => {
  const params = { podId: 'p', toolCallId: 'c', tool: 'run_command', arguments: { command: 'make', cwd: './sub/' }, reason: 'Run `make`' };
  assert.deepEqual(approvalTarget(params, '/ws'), { command: 'make', cwd: '/ws/sub' });
  assert.deepEqual(approvalTarget({ ...params, tool: 'fetch', arguments: { url: 'https://x' } }, '/ws'), { cwd: '/ws' });
  assert.deepEqual(approvalTarget({ ...params, arguments: { command: 'ls', cwd: '/abs' } }, '/ws'), { command: 'ls', cwd: '/abs' });
});

test('dismissing the modal denies', () => {
  assert.equal(decisionFor(undefined), 'deny');
  assert.equal(decisionFor('Allow'), 'allow');
  assert.equal(decisionFor('Allow for this Session'), 'allowSession');
});

test('sessions read as title, age and turns', () => {
  const now = Date.UTC(2026, 0, 10, 12);
  const [pick] = sessionPicks(
    [{ sessionId: 's1', title: 'fix @app.py', createdAt: now - 7_200_000, updatedAt: now - 7_200_000, turnCount: 3, cwd: '/ws' }],
    now,
    new Set(['s1']),
  );
  assert.deepEqual(pick, { sessionId: 's1', label: 'fix @app.py', description: '2 h ago', detail: '3 turns · /ws · open in a chat' });
  const [priced, free] = sessionPicks(
    [
      { sessionId: 's2', title: 'paid', createdAt: now, updatedAt: now, turnCount: 1, costUsd: 3.2 },
      { sessionId: 's3', title: 'local model', createdAt: now, updatedAt: now, turnCount: 2, costUsd: 0 },
    ],
    now,
    new Set(),
  );
  assert.equal(priced?.detail, '1 turn · $3.20', 'what the session cost');
  assert.equal(free?.detail, '2 turns', 'nothing spent (or no price known): no cost');
  assert.equal(relativeTime(now - 86_400_000 * 40, now), '2025-12-01');
  assert.equal(chatTitle('  a   long\nquestion ', 'Chat 1'), 'a long question');
  assert.equal(chatTitle('', 'Chat 1'), 'Chat 1');
});
