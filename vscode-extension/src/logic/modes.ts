/**
 * A pod's settings in words (`yoi/pod/configure`): the modes the user picks
 * from, the status bar item, what a refused change tells the user. Pure.
 */

import type { ChatState } from './chatState';
import { formatCost, formatTokens } from './display';
import { ErrorCode, type PodMode, type ProfileInfo } from '../protocol';

export interface ModeInfo {
  mode: PodMode;
  label: string;
  /** one line: what the agent may do in it */
  description: string;
}

export const MODES: readonly ModeInfo[] = [
  { mode: 'agent', label: 'Agent', description: 'Reads, edits files and runs commands' },
  { mode: 'plan', label: 'Plan', description: 'Reads and plans: no edits, no commands' },
  { mode: 'ask', label: 'Ask', description: 'Answers from the conversation: no tools' },
];

/** The message "Execute plan" sends once the pod is back in agent mode. */
export const EXECUTE_PLAN_MESSAGE = 'Carry out the plan.';

export function isMode(value: unknown): value is PodMode {
  return MODES.some((m) => m.mode === value);
}

export function modeLabel(mode: PodMode | undefined): string {
  return MODES.find((m) => m.mode === (mode ?? 'agent'))?.label ?? 'Agent';
}

export interface ModePick {
  label: string;
  description: string;
  detail?: string;
  mode: PodMode;
  picked: boolean;
}

/** The quick pick of `Yoi: Switch Mode`: each mode with its line, the current one marked (and first focused). */
export function modePicks(current: PodMode | undefined): ModePick[] {
  const now = current ?? 'agent';
  return MODES.map((m) => ({
    label: m.mode === now ? `$(check) ${m.label}` : m.label,
    description: m.mode === now ? `${m.description} (current)` : m.description,
    mode: m.mode,
    picked: m.mode === now,
  }));
}

/** The share of the window the context fills, `42%` (undefined while either is unknown). */
export function contextShare(state: Pick<ChatState, 'contextTokens' | 'limits'>): string | undefined {
  const window = state.limits?.contextWindow;
  if (state.contextTokens === undefined || window === undefined || window <= 0) {
    return undefined;
  }
  return `${Math.round((state.contextTokens / window) * 100)}%`;
}

/** Dollars in the status bar: `$0.31`, `$3.20`, `<$0.01` for less than a cent. */
export function shortCost(usd: number): string {
  return usd > 0 && usd < 0.005 ? '<$0.01' : `$${usd.toFixed(2)}`;
}

/** The status bar item of the active chat: `<model> · <mode> · NN% · $0.31` (the cost once the session's is known). */
export function statusText(state: Pick<ChatState, 'model' | 'mode' | 'contextTokens' | 'limits' | 'spend'>): string {
  const parts = [state.model ?? 'yoi', state.mode ?? 'agent'];
  const share = contextShare(state);
  if (share !== undefined) {
    parts.push(share);
  }
  const session = state.spend?.sessionUsd;
  if (session !== undefined) {
    parts.push(shortCost(session));
  }
  return parts.join(' · ');
}

/** The status bar item's hover. */
export function statusTooltip(state: Pick<ChatState, 'model' | 'mode' | 'profile' | 'reasoningEffort' | 'contextTokens' | 'limits' | 'spend'>): string {
  const lines = [`yoi model: ${state.model ?? 'not known yet'}`, `Mode: ${modeLabel(state.mode)} — ${MODES.find((m) => m.mode === (state.mode ?? 'agent'))?.description ?? ''}`];
  if (typeof state.profile === 'string') {
    lines.push(`Profile: ${state.profile}`);
  }
  if (typeof state.reasoningEffort === 'string') {
    lines.push(`Reasoning effort: ${state.reasoningEffort}`);
  }
  const window = state.limits?.contextWindow;
  if (state.contextTokens !== undefined) {
    lines.push(`Context: ${formatTokens(state.contextTokens)}${window === undefined ? '' : ` of ${formatTokens(window)}`} tokens`);
  }
  const spend = state.spend;
  if (spend?.turnUsd !== undefined) {
    lines.push(`Cost of the last turn: ${formatCost(spend.turnUsd)}`);
  }
  if (spend?.sessionUsd !== undefined) {
    lines.push(`Cost of this session: ${formatCost(spend.sessionUsd)}`);
  }
  if (spend?.dayUsd !== undefined) {
    lines.push(`Spent today (UTC, every yoi window): ${formatCost(spend.dayUsd)}`);
  }
  lines.push('Click to switch the mode');
  return lines.join('\n');
}

/** A refused `yoi/pod/configure` as a sentence for the user (`what`: "switch the mode"). */
export function configureErrorMessage(error: { code?: number; message: string; data?: unknown }, what: string): string {
  const reason = typeof error.data === 'object' && error.data !== null ? (error.data as { reason?: unknown }).reason : undefined;
  if (error.code === ErrorCode.requestFailed && reason === 'busy') {
    return `yoi is working on a turn: wait for the turn to end (or stop it), then ${what}.`;
  }
  // -32602 (an unknown profile, an empty model) says what is accepted: the server's words, without the method it names
  return `yoi could not ${what}: ${error.message.replace(/^yoi\/[\w/]+: /, '')}`;
}

/** A model string as the user typed it: trimmed; undefined when empty (the server refuses an empty model). */
export function modelInput(value: string): string | undefined {
  const model = value.trim();
  return model === '' ? undefined : model;
}

/** The input box's check of a model string (undefined: fine). */
export function validateModel(value: string): string | undefined {
  if (modelInput(value) === undefined) {
    return 'Type a litellm model string, e.g. anthropic/claude-sonnet-4-5';
  }
  return /\s/.test(value.trim()) ? 'A model string has no spaces' : undefined;
}

export interface ProfilePick {
  label: string;
  description: string;
  detail?: string;
  /** the name sent as `profile` (`""`: no profile) */
  profile: string;
}

/** What a profile sets, on one line: `openai/gpt-4.1 · plan mode · effort low · 3 tools`. */
export function profileDetail(profile: ProfileInfo): string {
  const parts: string[] = [];
  if (typeof profile.model === 'string') {
    parts.push(profile.model);
  }
  if (typeof profile.mode === 'string') {
    parts.push(`${profile.mode} mode`);
  }
  if (typeof profile.reasoningEffort === 'string') {
    parts.push(`effort ${profile.reasoningEffort}`);
  }
  if (Array.isArray(profile.tools)) {
    parts.push(profile.tools.length === 1 ? '1 tool' : `${profile.tools.length} tools`);
  }
  if (typeof profile.approvals === 'string') {
    parts.push(`approvals ${profile.approvals}`);
  }
  return parts.length === 0 ? "leaves the model and the mode to the chat" : parts.join(' · ');
}

/**
 * The quick pick of `Yoi: Choose Profile`: "No profile", then the manifests'
 * profiles (name, description, what they set), the current one marked; a
 * typed name that is none of them comes first, to be tried.
 */
export function profilePicks(profiles: readonly ProfileInfo[], current: string | null | undefined, typed = ''): ProfilePick[] {
  const none: ProfilePick = {
    label: current === null || current === undefined ? '$(check) No profile' : 'No profile',
    description: current === null || current === undefined ? 'current' : "drop the profile's tool list and approvals",
    profile: '',
  };
  const listed = profiles.map((p): ProfilePick => {
    const pick: ProfilePick = {
      label: p.name === current ? `$(check) ${p.name}` : p.name,
      description: [p.name === current ? 'current' : '', p.description ?? ''].filter((t) => t !== '').join(' — '),
      detail: profileDetail(p),
      profile: p.name,
    };
    return pick;
  });
  const name = typed.trim();
  const extra: ProfilePick[] = name === '' || profiles.some((p) => p.name === name) ? [] : [{ label: name, description: 'use this profile', profile: name }];
  return [...extra, none, ...listed];
}
