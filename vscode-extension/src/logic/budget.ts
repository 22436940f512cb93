/**
 * A turn stopped by a `[budget]` limit (outcome `budgetExceeded`), in words and
 * numbers: which limit, what was spent, what raising the session's limit
 * asks and says. The server's message is the source (docs/protocol.md,
 * `yoi/budget/raise`). Pure.
 */

import type { BudgetRaiseResult } from '../protocol';

/** What a "Raise Session Budget…" raises: the session's dollars or its tokens. */
export type RaiseKind = 'usd' | 'tokens';

/** The limit a stopped turn met, as its message says. */
export interface BudgetStop {
  /** the `[budget]` key: `per_session_usd`, `per_day_usd`, `per_session_tokens`, `per_day_tokens` */
  key: string;
  limit: number;
  /** what the session (or the day) spent: dollars, or tokens */
  spent: number;
  /** what the next request would have cost (dollars) or sent (tokens), when said */
  next?: number;
}

const number = (text: string): number => Number(text.replace(/,/g, ''));

/** The limit, the spend and the next request's estimate in a budget message (undefined: not one). */
export function parseBudgetStop(text: string): BudgetStop | undefined {
  const limit = /over \[budget\] (per_(?:session|day)_(?:usd|tokens)) = ([\d,.eE+-]+?)\.?(?:\s|$)/.exec(text);
  if (limit === null) {
    return undefined;
  }
  const [, key = '', amount = ''] = limit;
  const spent = /has spent \$([\d.]+)/.exec(text) ?? /has used ([\d,]+) tokens/.exec(text);
  const next = /would cost about \$([\d.]+)/.exec(text) ?? /would send about ([\d,]+)/.exec(text);
  const stop: BudgetStop = { key, limit: number(amount), spent: spent?.[1] === undefined ? 0 : number(spent[1]) };
  if (next?.[1] !== undefined) {
    stop.next = number(next[1]);
  }
  return Number.isFinite(stop.limit) ? stop : undefined;
}

/** What the editor can raise for a stopped turn: the session's limits only (the day's is raised in the user manifest). */
export function raiseKind(text: string): RaiseKind | undefined {
  const key = parseBudgetStop(text)?.key;
  return key === 'per_session_usd' ? 'usd' : key === 'per_session_tokens' ? 'tokens' : undefined;
}

/** An amount as the input box shows it: `10`, `12.5`, `200000`. */
export function formatAmount(kind: RaiseKind, value: number): string {
  return kind === 'tokens' ? String(Math.round(value)) : String(Number(value.toFixed(2)));
}

/** The amount the input box offers: double the limit, and at least enough for the request that was stopped. */
export function suggestedRaise(kind: RaiseKind, stop: BudgetStop): number {
  const needed = stop.spent + (stop.next ?? 0);
  if (kind === 'tokens') {
    return Math.max(stop.limit * 2, Math.ceil(needed / 1000) * 1000);
  }
  return Math.max(stop.limit * 2, Math.ceil(needed));
}

/** The typed amount (`$20`, `20`, `200,000`), undefined unless a positive number (whole, for tokens). */
export function parseRaise(kind: RaiseKind, value: string): number | undefined {
  const text = value.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d+(\.\d+)?$/.test(text)) {
    return undefined;
  }
  const amount = Number(text);
  if (amount <= 0 || (kind === 'tokens' && !Number.isInteger(amount))) {
    return undefined;
  }
  return amount;
}

const money = (usd: number): string => `$${usd.toFixed(2)}`;

/** The input box's check (undefined: fine). */
export function validateRaise(kind: RaiseKind, value: string, stop: BudgetStop | undefined): string | undefined {
  const amount = parseRaise(kind, value);
  if (amount === undefined) {
    return kind === 'usd' ? 'Type an amount in US dollars, e.g. 10' : 'Type a whole number of tokens, e.g. 200000';
  }
  if (stop !== undefined && amount <= stop.spent) {
    return kind === 'usd'
      ? `The session has spent ${money(stop.spent)} already: type more than that`
      : `The session has used ${stop.spent.toLocaleString('en-US')} tokens already: type more than that`;
  }
  return undefined;
}

/** The input box's prompt: what was spent of what, and what is asked. */
export function raisePrompt(kind: RaiseKind, stop: BudgetStop | undefined): string {
  if (stop === undefined) {
    return kind === 'usd' ? "The session's new budget, in US dollars" : "The session's new budget, in tokens";
  }
  if (kind === 'usd') {
    const next = stop.next === undefined ? '' : ` (the next request would cost about ${money(stop.next)})`;
    return `This session has spent ${money(stop.spent)} of its ${money(stop.limit)} budget${next}. Its new budget, in US dollars:`;
  }
  const next = stop.next === undefined ? '' : ` (the next request would send about ${stop.next.toLocaleString('en-US')})`;
  return `This session has used ${stop.spent.toLocaleString('en-US')} of its ${stop.limit.toLocaleString('en-US')} tokens${next}. Its new budget, in tokens:`;
}

/** What the chat says once the server raised the budget. */
export function raisedText(kind: RaiseKind, result: BudgetRaiseResult): string {
  const limit =
    kind === 'usd'
      ? `${money(result.perSessionUsd ?? 0)} (spent so far: ${money(result.sessionCostUsd)})`
      : `${(result.perSessionTokens ?? 0).toLocaleString('en-US')} tokens (used so far: ${result.sessionTokens.toLocaleString('en-US')})`;
  return `Session budget raised to ${limit}. Send your message again to go on.`;
}
