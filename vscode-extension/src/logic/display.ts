/** How a chat's state reads in words: token counts, costs, the working indicator. Pure. */

import type { Activity, ChatState } from './chatState';

/** A cost in dollars, short: `$0.0042`, `$0.12`, `$3.40`. */
export function formatCost(usd: number): string {
  if (usd < 0.01) {
    return `$${usd.toFixed(4)}`;
  }
  return usd < 1 ? `$${usd.toFixed(3)}` : `$${usd.toFixed(2)}`;
}

const PHASE_LABELS: Record<string, string | undefined> = {
  preparing: 'Preparing…',
  loadingModel: 'Loading the model client…',
  waitingForModel: 'Waiting for the model…',
  thinking: 'Thinking…',
  writing: 'Writing…',
  compacting: 'Compacting the context…',
};

/** What the working indicator says (a phase this client does not know reads "Working…"). */
export function activityLabel(activity: Activity): string {
  if (activity.phase === 'runningTool') {
    return activity.tool === undefined ? 'Running a tool…' : `Running ${activity.tool}…`;
  }
  return PHASE_LABELS[activity.phase] ?? 'Working…';
}

/** What the working indicator shows for a chat: what the turn waits for, else its phase; nothing when idle. */
export function describeActivity(state: ChatState): string | undefined {
  if (state.activity === undefined) {
    return undefined;
  }
  if (state.approvals.length > 0) {
    return 'Waiting for your approval…';
  }
  if (state.entries.some((e) => e.kind === 'tool' && e.review !== undefined)) {
    return 'Waiting for your review in the editor…';
  }
  return activityLabel(state.activity);
}

/** Totals as one line, e.g. `12.3k in · 512 out`. */
export function formatTokens(n: number): string {
  if (n < 1000) {
    return String(n);
  }
  if (n < 100_000) {
    return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  }
  if (n < 1_000_000) {
    return `${Math.round(n / 1000)}k`;
  }
  return `${(n / 1_000_000).toFixed(1).replace(/\.0$/, '')}M`;
}
