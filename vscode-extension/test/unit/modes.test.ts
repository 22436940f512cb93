import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyChat, reduce, reduceAll, type ChatAction } from '../../src/logic/chatState';
import { configureErrorMessage, contextShare, modePicks, profileDetail, profilePicks, shortCost, statusText, statusTooltip, validateModel } from '../../src/logic/modes';
import { Method, type ChatEvent, type ProfileInfo } from '../../src/protocol';

const ev = (event: ChatEvent): ChatAction => ({ kind: 'event', event });
const send: ChatAction = { kind: 'send', segments: [{ kind: 'text', text: 'plan it' }] };
const config = (mode: 'agent' | 'plan' | 'ask', model = 'openai/scripted'): ChatAction =>
  ev({ type: 'config', model, mode, reasoningEffort: null, profile: null });
const usage = (contextTokens: number, contextWindow?: number): ChatAction =>
  ev({ type: 'usage', inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens, ...(contextWindow === undefined ? {} : { contextWindow }) });

test('the status text is model · mode · share of the window, the share only once both are known', () => {
  assert.equal(statusText(emptyChat()), 'yoi · agent');
  let state = reduce(emptyChat(), { kind: 'pod', model: 'openai/scripted', settings: { mode: 'agent', profile: null, reasoningEffort: null } });
  assert.equal(statusText(state), 'openai/scripted · agent');
  state = reduce(state, usage(2000));
  assert.equal(contextShare(state), undefined, 'no window yet');
  assert.equal(statusText(state), 'openai/scripted · agent');
  state = reduce(state, usage(4210, 10_000));
  assert.equal(statusText(state), 'openai/scripted · agent · 42%');
  state = reduce(state, config('plan', 'openai/other'));
  assert.equal(statusText(state), 'openai/other · plan · 42%');
  // from yoi/pod/list: the context and the window
  state = reduce(state, { kind: 'pod', model: 'openai/other', contextTokens: 500, limits: { contextWindow: 1000 } });
  assert.equal(statusText(state), 'openai/other · plan · 50%', 'a pod answer without settings keeps the mode');
  const tip = statusTooltip({ ...state, profile: 'reviewer', reasoningEffort: 'low' });
  assert.match(tip, /Mode: Plan — Reads and plans: no edits, no commands/);
  assert.match(tip, /Profile: reviewer/);
  assert.match(tip, /Reasoning effort: low/);
});

test('the mode picks: Agent, Plan, Ask with a line each, the current one marked', () => {
  const picks = modePicks('plan');
  assert.deepEqual(
    picks.map((p) => [p.mode, p.picked]),
    [
      ['agent', false],
      ['plan', true],
      ['ask', false],
    ],
  );
  const plan = picks.find((p) => p.mode === 'plan');
  const agent = picks.find((p) => p.mode === 'agent');
  assert.ok(plan !== undefined && agent !== undefined);
  assert.equal(plan.label, '$(check) Plan');
  assert.match(plan.description, /\(current\)$/);
  assert.equal(agent.label, 'Agent');
  assert.ok(picks.every((p) => p.description.length > 10 && !p.description.includes('\n')));
  assert.deepEqual(
    modePicks(undefined).filter((p) => p.picked).map((p) => p.mode),
    ['agent'],
    'a pod whose mode is not known yet is in agent mode',
  );
});

test('the reducer follows config events, pod answers and local settings', () => {
  let state = reduce(emptyChat(), { kind: 'settings', settings: { mode: 'plan' } });
  assert.equal(state.mode, 'plan');
  assert.equal(state.model, undefined, 'settings without a model keep it unknown');
  state = reduce(state, { kind: 'pod', model: 'openai/scripted', settings: { mode: 'plan', profile: 'reviewer', reasoningEffort: null } });
  assert.deepEqual([state.model, state.mode, state.profile, state.reasoningEffort], ['openai/scripted', 'plan', 'reviewer', null]);
  state = reduce(state, ev({ type: 'config', model: 'openai/other', mode: 'ask', reasoningEffort: 'high', profile: null }));
  assert.deepEqual([state.model, state.mode, state.profile, state.reasoningEffort], ['openai/other', 'ask', null, 'high']);
  // a redraw from history keeps the settings
  state = reduce(state, { kind: 'history', items: [{ kind: 'message', role: 'user', text: 'hi' }] });
  assert.deepEqual([state.model, state.mode, state.reasoningEffort], ['openai/other', 'ask', 'high']);
});

test('a turn that ran in plan mode and finished offers Execute plan, until a message or another mode', () => {
  const planned = reduceAll(emptyChat(), [config('plan'), send, ev({ type: 'turnStart', turn: 1 }), ev({ type: 'textDelta', text: '1. read\n2. edit' }), ev({ type: 'turnEnd', outcome: 'finished' })]);
  assert.equal(planned.planReady, true);
  assert.equal(reduce(planned, config('agent')).planReady, false, 'switched to agent: withdrawn');
  assert.equal(reduce(planned, send).planReady, false, 'the next message: withdrawn');
  assert.equal(reduce(planned, config('plan')).planReady, true, 'another change that stays in plan keeps it');

  const interrupted = reduceAll(emptyChat(), [config('plan'), send, ev({ type: 'turnStart', turn: 1 }), ev({ type: 'turnEnd', outcome: 'interrupted' })]);
  assert.equal(interrupted.planReady, false, 'a stopped turn made no plan');
  const agent = reduceAll(emptyChat(), [config('agent'), send, ev({ type: 'turnStart', turn: 1 }), ev({ type: 'turnEnd', outcome: 'finished' })]);
  assert.equal(agent.planReady, false);
  // a lost turnEnd: the chat result ends the turn the same way
  const viaResult = reduceAll(emptyChat(), [config('plan'), send, { kind: 'result', result: { outcome: 'finished', sessionId: 's', usage: { inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 } } }]);
  assert.equal(viaResult.planReady, true);
});

test('a refused change reads: wait for the turn when busy, the server’s words for -32602', () => {
  assert.equal(
    configureErrorMessage({ code: -32803, message: 'pod-1 is running a turn', data: { reason: 'busy' } }, 'switch the mode'),
    'yoi is working on a turn: wait for the turn to end (or stop it), then switch the mode.',
  );
  assert.equal(
    configureErrorMessage({ code: -32602, message: `${Method.podConfigure}: There is no profile 'x' ([profiles.x] in a manifest); profiles: none are defined.` }, 'use the profile "x"'),
    'yoi could not use the profile "x": There is no profile \'x\' ([profiles.x] in a manifest); profiles: none are defined.',
  );
  assert.match(configureErrorMessage({ code: -32803, message: 'gone', data: { reason: 'sessionInUse' } }, 'switch the model'), /could not switch the model: gone/);
  assert.equal(validateModel('  '), 'Type a litellm model string, e.g. anthropic/claude-sonnet-4-5');
  assert.equal(validateModel('openai/gpt 4'), 'A model string has no spaces');
  assert.equal(validateModel(' openai/gpt-4.1 '), undefined);
});

const priced = (costUsd: number | null, turnCostUsd: number, sessionCostUsd: number, dayCostUsd: number): ChatAction =>
  ev({ type: 'usage', inputTokens: 3000, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0, contextTokens: 4210, contextWindow: 10_000, costUsd, turnCostUsd, sessionCostUsd, dayCostUsd });

test('the status text adds the session cost once known ("<$0.01" under a cent); the tooltip lists turn, session and day', () => {
  let state = reduce(emptyChat(), { kind: 'pod', model: 'openai/scripted', settings: { mode: 'agent' }, sessionCostUsd: 0 });
  assert.equal(statusText(state), 'openai/scripted · agent', 'nothing spent, no price known: no cost');
  state = reduce(state, priced(null, 0, 0, 0));
  assert.equal(statusText(state), 'openai/scripted · agent · 42%', 'a model without a price: no cost');
  state = reduce(state, priced(0.0004, 0.0004, 0.0004, 0.0004));
  assert.equal(statusText(state), 'openai/scripted · agent · 42% · <$0.01');
  state = reduce(state, priced(3.1996, 3.2, 3.2, 7.5));
  assert.equal(statusText(state), 'openai/scripted · agent · 42% · $3.20');
  const tip = statusTooltip(state);
  assert.match(tip, /Cost of the last turn: \$3\.20/);
  assert.match(tip, /Cost of this session: \$3\.20/);
  assert.match(tip, /Spent today \(UTC, every yoi window\): \$7\.50/);
  assert.equal(shortCost(0.31), '$0.31');
  assert.equal(shortCost(0), '$0.00');
  // a restored session: its spend from yoi/pod/list, kept over a redraw from history
  let restored = reduce(emptyChat(), { kind: 'pod', model: 'openai/scripted', sessionCostUsd: 1.234 });
  restored = reduce(restored, { kind: 'history', items: [{ kind: 'message', role: 'user', text: 'hi' }] });
  assert.equal(statusText(restored), 'openai/scripted · agent · $1.23');
});

test('Choose Profile lists "No profile" and the manifests\' profiles with what they set; a typed unknown name comes first', () => {
  const profiles: ProfileInfo[] = [
    { name: 'fast', description: 'Quick answers', model: 'openai/gpt-4.1-mini', mode: 'ask', reasoningEffort: null, tools: null, approvals: null },
    { name: 'reviewer', description: null, model: null, mode: 'plan', reasoningEffort: 'high', tools: ['read_file', 'grep'], approvals: 'ask' },
  ];
  const picks = profilePicks(profiles, 'fast');
  assert.deepEqual(
    picks.map((p) => [p.label, p.description, p.detail, p.profile]),
    [
      ['No profile', "drop the profile's tool list and approvals", undefined, ''],
      ['$(check) fast', 'current — Quick answers', 'openai/gpt-4.1-mini · ask mode', 'fast'],
      ['reviewer', '', 'plan mode · effort high · 2 tools · approvals ask', 'reviewer'],
    ],
  );
  assert.deepEqual(profilePicks(profiles, null).map((p) => p.label)[0], '$(check) No profile');
  assert.deepEqual(profilePicks([], undefined, ' other ').map((p) => [p.label, p.description, p.profile]), [
    ['other', 'use this profile', 'other'],
    ['$(check) No profile', 'current', ''],
  ]);
  assert.equal(profilePicks(profiles, null, 'fast').length, 3, 'a listed name is not offered twice');
  assert.equal(profileDetail({ name: 'bare' }), 'leaves the model and the mode to the chat');
});
