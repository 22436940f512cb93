/**
 * Checkpoints from the chat (docs/protocol.md "Checkpoints, rewind and fork"):
 * which turn a user message is, the restore choices, and the text a message
 * goes back into the input with for "Edit and resend".
 *
 * `yoi/checkpoints/list` numbers turns from 1 in the order of the session's
 * user inputs (a compacted session lists the turns it was compacted from
 * first), while the transcript may show only the latest page of the history.
 * Both end at the same place, so a message is matched from the end: the last
 * user message is the last turn, the one before it the turn before, and so on.
 */

import type { ApprovalParams, CheckpointsRestoreResult, CheckpointTurn, ReferenceKind, Segment } from '../protocol';
import { segmentLabel } from './mentions';

/** Only what the matching needs of a transcript entry. */
export interface KeyedEntry {
  kind: string;
  key: number;
}

/** The turn number of the user message drawn with `key`, or undefined (not a user message, or no such turn). */
export function turnOfMessage(entries: readonly KeyedEntry[], key: number, turns: readonly Pick<CheckpointTurn, 'turn'>[]): number | undefined {
  const users = entries.filter((e) => e.kind === 'user');
  const index = users.findIndex((e) => e.key === key);
  if (index < 0) {
    return undefined;
  }
  const fromEnd = users.length - 1 - index;
  return turns[turns.length - 1 - fromEnd]?.turn;
}

export interface RestoreChoice {
  label: string;
  description: string;
  files: boolean;
  conversation: boolean;
}

export const RESTORE_CHOICES: readonly RestoreChoice[] = [
  { label: 'Files and conversation', description: 'the workspace and the chat as they were before this message', files: true, conversation: true },
  { label: 'Files only', description: 'undo what changed in the workspace since this message; the chat stays', files: true, conversation: false },
  { label: 'Conversation only', description: 'the chat continues from before this message; the files stay', files: false, conversation: true },
];

/** What the user is told after a restore. */
export function restoreSummary(result: CheckpointsRestoreResult, files: boolean): string {
  const count = result.files.length;
  const restored = files ? (count === 0 ? 'no file needed restoring' : count === 1 ? `1 file restored (${result.files[0] ?? ''})` : `${count} files restored`) : '';
  const fork = result.forkedFrom === undefined ? '' : 'the conversation continues from before it (the old one is kept in the session list)';
  return `Back to before message ${result.turn}: ${[restored, fork].filter((s) => s !== '').join('; ')}.`;
}

/** A user message as text for the input again, with the references its mentions need. */
export function messageForInput(segments: readonly Segment[]): { text: string; references: { kind: ReferenceKind; value: string }[] } {
  const references: { kind: ReferenceKind; value: string }[] = [];
  let text = '';
  for (const segment of segments) {
    if (segment.kind === 'image') {
      continue; // images are not put back (their data stays with the old message)
    }
    text += segmentLabel(segment);
    if (segment.kind === 'file') {
      references.push({ kind: 'file', value: segment.path });
    } else if (segment.kind === 'knowledge') {
      references.push({ kind: 'knowledge', value: segment.slug });
    } else if (segment.kind === 'workflow') {
      references.push({ kind: 'workflow', value: segment.slug });
    }
  }
  return { text: text.trim(), references };
}

/** The path of the virtual document for one side of a file's diff. */
export function diffDocPath(turn: number, side: 'before' | 'after', path: string): string {
  return `/turn-${turn}/${side}/${path}`;
}

/** The tool name of the `yoi/approval` a restore sends when files changed outside the agent. */
export const RESTORE_TOOL = 'restore_checkpoint';

/** How that confirmation reads: the files, and their diffs (each from the file now to the checkpoint). */
export function restoreConfirmation(params: ApprovalParams): { message: string; detail: string; diffs: string } {
  const files = Array.isArray(params.arguments['files']) ? params.arguments['files'].map(String) : [];
  const turn = typeof params.arguments['turn'] === 'number' ? params.arguments['turn'] : undefined;
  const raw = params.arguments['diffs'];
  const diffs = raw !== null && typeof raw === 'object' ? Object.values(raw as Record<string, unknown>).map(String).join('\n') : '';
  const which = files.length === 1 ? files[0] ?? '' : `${files.length} files`;
  return {
    message: `Overwrite your changes to ${which}?`,
    detail: `${files.length === 1 ? 'It was' : `${files.join(', ')} were`} changed outside yoi after message ${turn ?? '?'}; restoring the checkpoint puts back ${files.length === 1 ? 'its' : 'their'} earlier text and loses those changes.`,
    diffs,
  };
}
