/**
 * `yoi/pod/context` in words and bar sizes for the Context view: the total
 * against the window, the parts grouped System / Tools / History (largest
 * first) and what pruning leaves out. Pure; the webview only builds the DOM.
 */

import type { ContextPart, PodContextResult } from '../protocol';

export interface ContextBar {
  label: string;
  tokens: number;
  /** the part's share of the whole context, 0–100 (the bar's width) */
  share: number;
  /** `12,345 tokens · 29%` */
  text: string;
  /** how many items or tools it holds, when more than one: `×3` */
  count?: string;
}

export interface ContextGroup {
  /** `system`, `tools`, `history` (or a group this client does not know) */
  group: string;
  title: string;
  tokens: number;
  /** `System · 3,120 tokens · 7%` */
  text: string;
  bars: ContextBar[];
}

export interface ContextView {
  model: string;
  /** `42,180 / 128,000 tokens · 33% · compacts at 96,000` */
  headline: string;
  /** the share of the window, 0–100 (undefined: the window is not known) */
  windowShare?: number;
  /** how the sizes were estimated */
  estimate: string;
  groups: ContextGroup[];
  /** what pruning leaves out of the request */
  pruned: string;
}

const GROUPS: readonly { group: string; title: string }[] = [
  { group: 'system', title: 'System' },
  { group: 'tools', title: 'Tools' },
  { group: 'history', title: 'History' },
];

export const tokens = (n: number): string => Math.round(n).toLocaleString('en-US');

const percent = (part: number, whole: number): number => (whole > 0 ? Math.round((part / whole) * 100) : 0);

/** The headline: the total against the window, its share, where compaction starts. */
export function contextHeadline(result: Pick<PodContextResult, 'contextTokens' | 'contextWindow' | 'compactAt'>): string {
  const window = result.contextWindow;
  if (window === undefined || window <= 0) {
    return `${tokens(result.contextTokens)} tokens`;
  }
  const parts = [`${tokens(result.contextTokens)} / ${tokens(window)} tokens`, `${percent(result.contextTokens, window)}%`];
  parts.push(result.compactAt === undefined ? 'no compaction between turns' : `compacts at ${tokens(result.compactAt)}`);
  return parts.join(' · ');
}

/** The line about the prune projection. */
export function prunedLine(pruned: PodContextResult['pruned']): string {
  if (pruned.results > 0) {
    const results = pruned.results === 1 ? '1 old tool result' : `${pruned.results} old tool results`;
    return `Pruning leaves out ${results} (${tokens(pruned.tokens)} tokens) — the session log keeps them.`;
  }
  if (pruned.wouldSave > 0) {
    return `Pruning leaves nothing out: it would save only ${tokens(pruned.wouldSave)} tokens now.`;
  }
  return 'Pruning leaves nothing out.';
}

function bar(part: ContextPart, total: number): ContextBar {
  const share = percent(part.tokens, total);
  const out: ContextBar = { label: part.label, tokens: part.tokens, share, text: `${tokens(part.tokens)} tokens · ${share}%` };
  if (part.count > 1) {
    out.count = `×${part.count}`;
  }
  return out;
}

/** The parts by group (System, Tools, History, then any other), each group's parts largest first; empty groups left out. */
export function contextGroups(result: Pick<PodContextResult, 'contextTokens' | 'parts'>): ContextGroup[] {
  const sum = result.parts.reduce((n, p) => n + p.tokens, 0);
  const total = result.contextTokens > 0 ? result.contextTokens : sum;
  const known = GROUPS.map((g) => g.group);
  const others = [...new Set(result.parts.map((p) => p.group).filter((g) => !known.includes(g)))];
  const order = [...GROUPS, ...others.map((g) => ({ group: g, title: g.charAt(0).toUpperCase() + g.slice(1) }))];
  const groups: ContextGroup[] = [];
  for (const { group, title } of order) {
    const parts = result.parts.filter((p) => p.group === group).sort((a, b) => b.tokens - a.tokens || a.label.localeCompare(b.label));
    if (parts.length === 0) {
      continue;
    }
    const size = parts.reduce((n, p) => n + p.tokens, 0);
    groups.push({ group, title, tokens: size, text: `${tokens(size)} tokens · ${percent(size, total)}%`, bars: parts.map((p) => bar(p, total)) });
  }
  return groups;
}

/** Everything the Context view shows. */
export function contextView(result: PodContextResult): ContextView {
  const window = result.contextWindow;
  const view: ContextView = {
    model: result.model,
    headline: contextHeadline(result),
    estimate: result.measured
      ? 'Sizes estimated at the rate of the last measured request.'
      : 'Sizes estimated at 4 bytes a token (no request measured yet).',
    groups: contextGroups(result),
    pruned: prunedLine(result.pruned),
  };
  if (window !== undefined && window > 0) {
    view.windowShare = Math.min(100, percent(result.contextTokens, window));
  }
  return view;
}
