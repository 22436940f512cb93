/** How a chat's state reads in words: token counts, costs, the working indicator. Pure. */

import type { Activity, ChatState } from './chatState';
import type { ContextLimits } from '../protocol';

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

const WINDOW_SOURCE: Record<string, string> = {
  manifest: 'set in the manifest ([model] context_window)',
  model: "from litellm's model map",
  fallback: 'assumed: litellm does not know this model',
};

/** The context in the status line: `context 54k · 42% of 128k` (the window once known). */
export function contextSummary(tokens: number | undefined, limits: ContextLimits | undefined): string | undefined {
  if (tokens === undefined) {
    return undefined;
  }
  const window = limits?.contextWindow;
  if (window === undefined || window <= 0) {
    return `context ${formatTokens(tokens)}`;
  }
  return `context ${formatTokens(tokens)} · ${Math.round((tokens / window) * 100)}% of ${formatTokens(window)}`;
}

/** The status line's hover: the context, the window and where it comes from, when compaction happens. */
export function contextTooltip(tokens: number | undefined, limits: ContextLimits | undefined): string {
  const lines = [`Context: ${tokens === undefined ? '?' : tokens.toLocaleString('en-US')} tokens (estimated size of the next request)`];
  const window = limits?.contextWindow;
  if (window !== undefined) {
    const source = limits?.contextWindowSource === undefined ? '' : ` (${WINDOW_SOURCE[limits.contextWindowSource] ?? limits.contextWindowSource})`;
    lines.push(`Model window: ${window.toLocaleString('en-US')} tokens${source}`);
  }
  const share = (n: number): string => (window === undefined || window <= 0 ? '' : ` (${Math.round((n / window) * 100)}%)`);
  if (limits?.compactAt !== undefined) {
    lines.push(`Compacts between turns past ${limits.compactAt.toLocaleString('en-US')} tokens${share(limits.compactAt)}`);
  } else if (window !== undefined) {
    lines.push('Compaction between turns is off');
  }
  if (limits?.compactRequestAt !== undefined) {
    lines.push(`Compacts within a turn past ${limits.compactRequestAt.toLocaleString('en-US')} tokens${share(limits.compactRequestAt)}`);
  }
  return lines.join('\n');
}
