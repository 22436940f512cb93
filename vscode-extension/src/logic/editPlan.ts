/**
 * What to do with a `workspace/applyEdit` (docs/protocol.md "Edits from tool
 * calls"): an edit that carries no change annotation needing confirmation is
 * applied directly; one that does is reviewed, file by file. Pure.
 */

import type { ApplyWorkspaceEditParams, ChangeAnnotation, TextEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { callIdOfLabel } from '../protocol';
import type { TextEditLike } from './review';

export interface FilePlan {
  uri: string;
  /** the buffer version the edit is pinned to (null: the file as on disk) */
  version: number | null;
  /** the file is created (it starts empty) */
  create: boolean;
  edits: TextEditLike[];
}

export type EditPlan =
  | { kind: 'direct' }
  /** needs confirmation, but holds operations the in-editor review does not show (rename, delete) */
  | { kind: 'preview'; label: string }
  | { kind: 'review'; label: string; callId?: string; files: FilePlan[] };

function annotationOf(edit: WorkspaceEdit, id: unknown): ChangeAnnotation | undefined {
  return typeof id === 'string' ? edit.changeAnnotations?.[id] : undefined;
}

function needsConfirmation(edit: WorkspaceEdit, id: unknown): boolean {
  return annotationOf(edit, id)?.needsConfirmation === true;
}

export function planEdit(params: ApplyWorkspaceEditParams): EditPlan {
  const edit = params.edit;
  const changes = edit.documentChanges ?? [];
  const ids: unknown[] = [];
  for (const change of changes) {
    if ('kind' in change) {
      ids.push(change.annotationId);
    } else {
      ids.push(...change.edits.map((e) => ('annotationId' in e ? e.annotationId : undefined)));
    }
  }
  if (!ids.some((id) => needsConfirmation(edit, id))) {
    return { kind: 'direct' };
  }
  const first = ids.map((id) => annotationOf(edit, id)).find((a) => a !== undefined);
  const label = params.label ?? first?.label ?? 'yoi: proposed edit';
  const files = new Map<string, FilePlan>();
  for (const change of changes) {
    if ('kind' in change) {
      if (change.kind !== 'create') {
        return { kind: 'preview', label };
      }
      files.set(change.uri, { uri: change.uri, version: null, create: true, edits: [] });
      continue;
    }
    const uri = change.textDocument.uri;
    const plan = files.get(uri) ?? { uri, version: change.textDocument.version, create: false, edits: [] };
    for (const e of change.edits as TextEdit[]) {
      plan.edits.push({ range: e.range, newText: e.newText });
    }
    files.set(uri, plan);
  }
  const callId = callIdOfLabel(label) ?? (first === undefined ? undefined : callIdOfLabel(first.label));
  return { kind: 'review', label, ...(callId === undefined ? {} : { callId }), files: [...files.values()] };
}

/** The file name at the end of a URI, for messages. */
export function baseName(uri: string): string {
  const path = decodeURIComponent(uri.replace(/^[a-z-]+:\/\//, ''));
  return path.split('/').pop() ?? path;
}
