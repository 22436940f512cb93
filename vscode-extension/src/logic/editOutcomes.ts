/**
 * How a tool's edits ended, as its result says (`toolResult.edits`, live and
 * in the restored history): the final word over the `edit` events, and the
 * only word after a reload. Pure.
 */

import type { EditOutcome } from '../protocol';
import type { EditState } from './chatState';

/** The edits of a tool row once its result arrived: each outcome replaces the state of its file. */
export function withOutcomes(edits: readonly EditState[], outcomes: readonly EditOutcome[] | undefined): EditState[] {
  if (outcomes === undefined || outcomes.length === 0) {
    return [...edits];
  }
  const byUri = new Map(outcomes.map((o): [string, EditState] => [o.uri, o.message === undefined ? { uri: o.uri, status: o.status } : { uri: o.uri, status: o.status, message: o.message }]));
  const known = new Set(edits.map((e) => e.uri));
  return [...edits.map((e) => byUri.get(e.uri) ?? e), ...[...byUri.values()].filter((e) => !known.has(e.uri))];
}
