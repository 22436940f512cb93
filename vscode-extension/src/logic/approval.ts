/** How an approval request reads in the modal. Pure. */

import type { ApprovalDecision, ApprovalParams } from '../protocol';

export interface ApprovalPrompt {
  message: string;
  detail: string;
}

export interface ApprovalChoice {
  title: string;
  decision: ApprovalDecision;
  isCloseAffordance: boolean;
}

/** The answer that lasts: a rule of the workspace, kept in the user's config (never the repository). */
export const ALWAYS_TITLE = 'Always allow in this workspace';

/** The modal's buttons; Deny is also what closing the modal means (no extra Cancel). */
export const APPROVAL_CHOICES: readonly ApprovalChoice[] = [
  { title: 'Allow', decision: 'allow', isCloseAffordance: false },
  { title: 'Allow for this Session', decision: 'allowSession', isCloseAffordance: false },
  { title: ALWAYS_TITLE, decision: 'allowAlways', isCloseAffordance: false },
  { title: 'Deny', decision: 'deny', isCloseAffordance: true },
];

/** The buttons offered: without a workspace folder there is no workspace to keep a rule for. */
export function approvalChoices(root: string | undefined): readonly ApprovalChoice[] {
  return root === undefined ? APPROVAL_CHOICES.filter((c) => c.decision !== 'allowAlways') : APPROVAL_CHOICES;
}

function joinPath(root: string, relative: string): string {
  if (relative.startsWith('/')) {
    return relative;
  }
  const clean = relative.replace(/^\.\/?/, '').replace(/\/$/, '');
  return clean === '' ? root : `${root.replace(/\/$/, '')}/${clean}`;
}

/** The command (for command tools) and the absolute working directory of an approval request. */
export function approvalTarget(params: ApprovalParams, root: string | undefined): { command?: string; cwd: string } {
  const command = params.arguments['command'];
  const cwdArg = params.arguments['cwd'];
  const relative = typeof cwdArg === 'string' && cwdArg !== '' ? cwdArg : '.';
  const cwd = root === undefined ? relative : joinPath(root, relative);
  return typeof command === 'string' ? { command, cwd } : { cwd };
}

/**
 * The server's note at the end of a command's reason, e.g. `note: greet.py has
 * unsaved changes in the editor; the command will see the saved version`.
 */
export function approvalNote(reason: string): string | undefined {
  return /\((note: [^()]*)\)\s*$/.exec(reason)?.[1];
}

/** What the lasting answer means (after `separator`), when there is a workspace to keep it for. */
function alwaysDetail(root: string | undefined, separator: string): string {
  return root === undefined ? '' : `${separator}"${ALWAYS_TITLE}" also allows calls like this one in later chats of this workspace ("Yoi: Manage Approval Rules" revokes that).`;
}

/** `agent`: the sub-agent asking (its name), else yoi itself. */
export function approvalPrompt(params: ApprovalParams, root: string | undefined, agent?: string): ApprovalPrompt {
  const { command, cwd } = approvalTarget(params, root);
  const who = agent ?? 'yoi';
  if (command !== undefined) {
    const note = approvalNote(params.reason);
    return {
      message: `${who} wants to run: ${command}`,
      detail: `${note === undefined ? '' : `${note}\n\n`}Working directory: ${cwd}\n\n"Allow for this Session" also allows later calls like this one in this chat.${alwaysDetail(root, '\n')}`,
    };
  }
  return {
    message: `${who} wants to use ${params.tool}`,
    detail: `${params.reason}\n\nWorking directory: ${cwd}${alwaysDetail(root, '\n\n')}`,
  };
}

/** The modal's answer (undefined when dismissed) → the decision sent back. */
export function decisionFor(title: string | undefined): ApprovalDecision {
  return APPROVAL_CHOICES.find((c) => c.title === title)?.decision ?? 'deny';
}
