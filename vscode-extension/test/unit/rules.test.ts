import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALWAYS_TITLE, APPROVAL_CHOICES, approvalChoices, approvalPrompt, decisionFor } from '../../src/logic/approval';
import { coverage, isUntrustedWarning, revokeQuestion, rulePicks, trustWarning } from '../../src/logic/rules';
import type { ApprovalRule } from '../../src/protocol';

const NOW = Date.UTC(2026, 11, 2, 12);

test('"Always allow in this workspace" answers allowAlways, between the session answer and Deny', () => {
  assert.deepEqual(
    APPROVAL_CHOICES.map((c) => c.title),
    ['Allow', 'Allow for this Session', 'Always allow in this workspace', 'Deny'],
  );
  assert.equal(decisionFor(ALWAYS_TITLE), 'allowAlways');
  assert.equal(decisionFor('Allow for this Session'), 'allowSession');
  assert.equal(decisionFor(undefined), 'deny');
  // Deny stays what closing the modal means
  assert.deepEqual(APPROVAL_CHOICES.filter((c) => c.isCloseAffordance).map((c) => c.decision), ['deny']);
});

test('without a workspace folder there is no workspace rule to offer', () => {
  assert.deepEqual(approvalChoices('/ws').map((c) => c.decision), ['allow', 'allowSession', 'allowAlways', 'deny']);
  assert.deepEqual(approvalChoices(undefined).map((c) => c.decision), ['allow', 'allowSession', 'deny']);
  const params = { podId: 'p', toolCallId: 'c', tool: 'run_command', arguments: { command: 'make' }, reason: 'Run `make`' };
  assert.match(approvalPrompt(params, '/ws').detail, /"Always allow in this workspace" also allows calls like this one in later chats of this workspace/);
  assert.doesNotMatch(approvalPrompt(params, undefined).detail, /Always allow/);
  const fetch = { ...params, tool: 'fetch', arguments: { url: 'https://x' }, reason: 'Fetch https://x' };
  assert.match(approvalPrompt(fetch, '/ws').detail, /^Fetch https:\/\/x\n\nWorking directory: \/ws\n\n"Always allow in this workspace"/);
});

test('the rules read as what was allowed and the key, newest first', () => {
  const rules: ApprovalRule[] = [
    { id: 'r1', key: 'run_command:pytest', tool: 'run_command', label: 'pytest -q', createdAt: NOW - 7_200_000 },
    { id: 'r2', key: 'mcp__git__*', tool: 'mcp__git__git_status', label: 'mcp__git__git_status', createdAt: NOW - 30_000 },
  ];
  assert.deepEqual(rulePicks(rules, NOW), [
    { id: 'r2', label: 'mcp__git__git_status', description: 'mcp__git__*', detail: 'mcp__git__git_status · allowed just now · covers every key starting with mcp__git__' },
    { id: 'r1', label: 'pytest -q', description: 'run_command:pytest', detail: 'run_command · allowed 2 h ago' },
  ]);
  assert.deepEqual(rulePicks([], NOW), []);
  assert.equal(coverage('run_command:echo'), 'run_command:echo');
});

test('revoking asks first, naming the rule', () => {
  assert.deepEqual(revokeQuestion({ label: 'echo hi', key: 'run_command:echo' }), {
    message: 'Revoke the approval rule for "echo hi"?',
    detail: 'yoi will ask again in this workspace before what it allows: run_command:echo.',
  });
});

test('the trust warning says the manifest is taken whole: commands without asking, hooks', () => {
  const warning = trustWarning('/home/me/repo');
  assert.equal(warning.message, 'Trust this workspace?');
  assert.match(warning.detail, /\/home\/me\/repo will take its \.yoi\/manifest\.toml whole/);
  assert.match(warning.detail, /allow commands to run without asking/);
  assert.match(warning.detail, /run hooks/);
});

test('only the warning that a workspace manifest key was ignored for want of trust offers to trust', () => {
  const ignored = '/ws/.yoi/manifest.toml: approvals.mode: mode = "auto" was ignored, commands still need approval: this workspace is not trusted; to allow it, add \'/ws\' to [trust] workspaces in the user manifest /cfg/manifest.toml';
  assert.equal(isUntrustedWarning({ type: 'alert', level: 'warn', source: 'manifest', message: ignored }), true);
  const hook = "/ws/.yoi/manifest.toml: hooks: the preTool hook `make lint` was ignored, it would run a command: this workspace is not trusted; to allow it, add '/ws' to …";
  assert.equal(isUntrustedWarning({ type: 'alert', level: 'warn', source: 'manifest', message: hook }), true);
  assert.equal(isUntrustedWarning({ type: 'alert', level: 'warn', source: 'manifest', message: '/ws/.yoi/manifest.toml: budget: ignored: spending limits are the user\'s' }), false);
  assert.equal(isUntrustedWarning({ type: 'alert', level: 'warn', source: 'manifest', message: '/ws/.yoi/manifest.toml: colour: unknown key, ignored' }), false);
  assert.equal(isUntrustedWarning({ type: 'textDelta', text: 'this workspace is not trusted, so that was ignored' }), false);
});
