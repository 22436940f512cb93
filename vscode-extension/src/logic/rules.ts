/**
 * Lasting approval rules and trusting the workspace (docs/protocol.md
 * "yoi/approvals/rules, yoi/approvals/revoke" and "yoi/workspace/trust"):
 * how they read in the quick pick and the dialogs, and which alert offers
 * to trust the workspace. Pure.
 */

import type { ApprovalRule, ChatEvent } from '../protocol';
import { relativeTime } from './sessions';

export interface RulePick {
  /** what the user allowed, e.g. the command */
  label: string;
  /** what the rule covers, e.g. `run_command:pytest` */
  description: string;
  detail: string;
  id: string;
}

/** The workspace's rules for the quick pick, newest first. */
export function rulePicks(rules: readonly ApprovalRule[], now: number): RulePick[] {
  return [...rules]
    .sort((a, b) => b.createdAt - a.createdAt)
    .map((rule) => ({
      label: rule.label,
      description: rule.key,
      detail: `${rule.tool} · allowed ${relativeTime(rule.createdAt, now)}${rule.key.endsWith('*') ? ` · covers ${coverage(rule.key)}` : ''}`,
      id: rule.id,
    }));
}

/** What a rule's key covers, in words (a key ending in `*` covers every key it starts with). */
export function coverage(key: string): string {
  return key.endsWith('*') ? `every key starting with ${key.slice(0, -1)}` : key;
}

/** The modal asking before a rule is revoked. */
export function revokeQuestion(rule: Pick<ApprovalRule, 'label' | 'key'>): { message: string; detail: string } {
  return {
    message: `Revoke the approval rule for "${rule.label}"?`,
    detail: `yoi will ask again in this workspace before what it allows: ${coverage(rule.key)}.`,
  };
}

/** The modal before trusting the workspace: what it means to take its manifest whole. */
export function trustWarning(workspace: string): { message: string; detail: string } {
  return {
    message: 'Trust this workspace?',
    detail:
      `New yoi chats in ${workspace} will take its .yoi/manifest.toml whole, as written by whoever wrote the repository. ` +
      'It may allow commands to run without asking, run hooks (commands of its own) at points of a turn, ' +
      'start MCP servers and widen what yoi may read and write.\n\n' +
      'Untrusted, the manifest may only narrow what yoi does. Trust only a repository you would run the code of. ' +
      'The trust is kept in your yoi config (trusted-workspaces.json), not in the repository.',
  };
}

/**
 * An alert saying a key of the workspace manifest was ignored because the
 * workspace is not trusted (the server's warning, e.g. `…: approvals.mode:
 * mode = "auto" was ignored, commands still need approval: this workspace is
 * not trusted; to allow it, …`).
 */
export function isUntrustedWarning(event: ChatEvent): boolean {
  return event.type === 'alert' && /\bwas ignored\b/.test(event.message) && /\bthis workspace is not trusted\b/.test(event.message);
}
