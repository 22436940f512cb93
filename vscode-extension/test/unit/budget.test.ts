import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAmount, parseBudgetStop, parseRaise, raiseKind, raisedText, raisePrompt, suggestedRaise, validateRaise } from '../../src/logic/budget';
import { emptyChat, reduceAll, type ChatAction } from '../../src/logic/chatState';
import type { ChatEvent } from '../../src/protocol';

// the server's words (agent/spend.py Budget.check)
const SESSION =
  'Budget reached: this session has spent $3.2000 and the next request would cost about $3.5120, over [budget] per_session_usd = 5. ' +
  'The turn stopped before that request; raise it in the editor (Raise Session Budget) or in [budget] of /home/me/.config/yoi/manifest.toml.';
const DAY =
  'Budget reached: today has spent $3.2000 and the next request would cost about $3.4000, over [budget] per_day_usd = 5. ' +
  'The turn stopped before that request; raise [budget] per_day_usd in the user manifest, or wait for tomorrow (UTC).';
const TOKENS =
  'Budget reached: this session has used 12,400 tokens and the next request would send about 3,500, over [budget] per_session_tokens = 15,000. ' +
  'The turn stopped before that request; raise it in the editor (Raise Session Budget) or in [budget] of the user manifest.';

test('a budget message says which limit, what was spent and what the next request would cost', () => {
  assert.deepEqual(parseBudgetStop(SESSION), { key: 'per_session_usd', limit: 5, spent: 3.2, next: 3.512 });
  assert.deepEqual(parseBudgetStop(DAY), { key: 'per_day_usd', limit: 5, spent: 3.2, next: 3.4 });
  assert.deepEqual(parseBudgetStop(TOKENS), { key: 'per_session_tokens', limit: 15_000, spent: 12_400, next: 3500 });
  assert.deepEqual(parseBudgetStop('Budget reached: this session has spent $1.0000, over [budget] per_session_usd = 0.5. The turn stopped.'), {
    key: 'per_session_usd',
    limit: 0.5,
    spent: 1,
  });
  assert.equal(parseBudgetStop('The model failed.'), undefined);
  assert.equal(raiseKind(SESSION), 'usd');
  assert.equal(raiseKind(TOKENS), 'tokens');
  assert.equal(raiseKind(DAY), undefined, "the day's budget is raised in the user manifest only");
});

test('the input box offers double the limit (at least what the stopped request needs) and checks the amount', () => {
  const stop = parseBudgetStop(SESSION);
  assert.ok(stop !== undefined);
  assert.equal(formatAmount('usd', suggestedRaise('usd', stop)), '10');
  assert.equal(suggestedRaise('usd', { key: 'per_session_usd', limit: 1, spent: 0.9, next: 3.4 }), 5, 'enough for the stopped request');
  assert.equal(formatAmount('usd', 12.5), '12.5');
  const tokens = parseBudgetStop(TOKENS);
  assert.ok(tokens !== undefined);
  assert.equal(formatAmount('tokens', suggestedRaise('tokens', tokens)), '30000');
  assert.equal(parseRaise('usd', ' $20 '), 20);
  assert.equal(parseRaise('usd', '7.5'), 7.5);
  assert.equal(parseRaise('usd', 'ten'), undefined);
  assert.equal(parseRaise('usd', '0'), undefined);
  assert.equal(parseRaise('tokens', '200,000'), 200_000);
  assert.equal(parseRaise('tokens', '1.5'), undefined);
  assert.equal(validateRaise('usd', '20', stop), undefined);
  assert.equal(validateRaise('usd', 'x', stop), 'Type an amount in US dollars, e.g. 10');
  assert.equal(validateRaise('usd', '3', stop), 'The session has spent $3.20 already: type more than that');
  assert.match(validateRaise('tokens', '10000', tokens) ?? '', /used 12,400 tokens already/);
  assert.equal(raisePrompt('usd', stop), 'This session has spent $3.20 of its $5.00 budget (the next request would cost about $3.51). Its new budget, in US dollars:');
  assert.match(raisePrompt('tokens', tokens), /used 12,400 of its 15,000 tokens/);
  assert.equal(
    raisedText('usd', { podId: 'p', perSessionUsd: 20, perSessionTokens: null, sessionCostUsd: 3.2, sessionTokens: 3100 }),
    'Session budget raised to $20.00 (spent so far: $3.20). Send your message again to go on.',
  );
});

const ev = (event: ChatEvent): ChatAction => ({ kind: 'event', event });
const send: ChatAction = { kind: 'send', segments: [{ kind: 'text', text: 'second' }] };

test('a turn a session budget stopped: the alert becomes the notice with the raise, once; a raise takes it away and says so', () => {
  let state = reduceAll(emptyChat(), [send, ev({ type: 'turnStart', turn: 2 }), ev({ type: 'alert', level: 'error', source: 'budget', message: SESSION }), ev({ type: 'turnEnd', outcome: 'budgetExceeded', error: SESSION })]);
  const notices = state.entries.filter((e) => e.kind === 'notice');
  assert.equal(notices.length, 1, 'the alert and the turn end say it once');
  const stopped = notices[0];
  assert.ok(stopped?.kind === 'notice');
  assert.equal(stopped.raise, 'usd');
  assert.equal(stopped.level, 'error');
  assert.equal(state.running, false);
  // the chat result that follows changes nothing
  state = reduceAll(state, [{ kind: 'result', result: { outcome: 'budgetExceeded', sessionId: 's', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, error: SESSION } }]);
  assert.equal(state.entries.filter((e) => e.kind === 'notice').length, 1);

  state = reduceAll(state, [{ kind: 'budgetRaised', key: stopped.key, text: 'Session budget raised to $20.00. Send your message again to go on.', sessionCostUsd: 3.2 }]);
  const after = state.entries.filter((e) => e.kind === 'notice');
  assert.equal(after.length, 2);
  assert.ok(after[0]?.kind === 'notice' && after[0].raise === undefined, 'the button is gone');
  assert.ok(after[1]?.kind === 'notice' && after[1].level === 'info' && /Send your message again/.test(after[1].text));
  assert.equal(state.spend?.sessionUsd, 3.2);
});

test('a turn the day budget stopped shows its message without a raise; a result without events says it too', () => {
  const day = reduceAll(emptyChat(), [send, ev({ type: 'turnEnd', outcome: 'budgetExceeded', error: DAY })]);
  const notice = day.entries.at(-1);
  assert.ok(notice?.kind === 'notice' && notice.source === 'budget' && notice.raise === undefined && notice.text === DAY);
  const lost = reduceAll(emptyChat(), [send, { kind: 'result', result: { outcome: 'budgetExceeded', sessionId: 's', usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, error: TOKENS } }]);
  const last = lost.entries.at(-1);
  assert.ok(last?.kind === 'notice' && last.raise === 'tokens');
});
