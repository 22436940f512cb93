/**
 * What the knowledge view shows, computed from plain data: knowledge records
 * (`yoi/knowledge/list`) and memory records — summary, decisions, requests —
 * from the folder the manifest names (`yoi/memory/list`). Pure; the tree
 * provider turns these into tree items.
 */

import type { KnowledgeRecord, MemoryRecord } from '../protocol';

export type KnowledgeAvailability = 'loading' | 'available' | 'unavailable' | 'stopped';

export interface RecordNode {
  kind: 'record';
  id: string;
  label: string;
  tooltip: string;
  /** resident in the system prompt */
  resident: boolean;
  uri: string;
  slug?: string;
  /** decisions: open / resolved / replaced */
  status?: string;
  /** why the server could not read the record fully */
  problem?: string;
}

export interface GroupNode {
  kind: 'group';
  id: string;
  label: string;
  icon: string;
  children: (RecordNode | GroupNode | NoteNode)[];
}

export interface NoteNode {
  kind: 'note';
  id: string;
  label: string;
  tooltip: string;
}

export type TreeNode = RecordNode | GroupNode | NoteNode;

/** What `yoi/memory/list` said, or why there is nothing to show. */
export interface MemoryView {
  records: MemoryRecord[];
  /** extractions waiting to be consolidated */
  staged: number;
  /** why the configured folders were not used */
  problem?: string;
}

function knowledgeGroup(records: KnowledgeRecord[], availability: KnowledgeAvailability): GroupNode {
  const children: TreeNode[] = [...records]
    .sort((a, b) => a.title.localeCompare(b.title))
    .map((r): RecordNode => {
      const node: RecordNode = {
        kind: 'record',
        id: `knowledge:${r.slug}`,
        label: r.title !== '' ? r.title : r.slug,
        tooltip: r.description !== '' ? r.description : r.slug,
        resident: r.modelInvocation,
        uri: r.uri,
        slug: r.slug,
      };
      return r.problem === undefined ? node : { ...node, problem: r.problem };
    });
  if (availability === 'unavailable') {
    children.push({
      kind: 'note',
      id: 'knowledge:unavailable',
      label: 'Not available from this yoi server',
      tooltip: 'This yoi server does not implement yoi/knowledge/list yet (it answered "method not found"). Knowledge records appear here once the server supports memory.',
    });
  } else if (availability === 'stopped') {
    children.push({ kind: 'note', id: 'knowledge:stopped', label: 'The yoi server is not running', tooltip: 'Run "Yoi: Restart Server".' });
  } else if (availability === 'loading') {
    children.push({ kind: 'note', id: 'knowledge:loading', label: 'Loading…', tooltip: 'Asking the yoi server for knowledge records.' });
  } else if (children.length === 0) {
    children.push({ kind: 'note', id: 'knowledge:empty', label: 'No knowledge records yet', tooltip: 'Records live in .yoi/knowledge/<slug>.md.' });
  }
  return { kind: 'group', id: 'knowledge', label: 'Knowledge', icon: 'book', children };
}

function memoryRecord(record: MemoryRecord): RecordNode {
  const label = record.kind === 'summary' ? 'Summary' : record.title;
  const node: RecordNode = {
    kind: 'record',
    id: `${record.kind}:${record.slug ?? 'summary'}`,
    label,
    tooltip: record.preview !== '' ? record.preview : record.kind === 'summary' ? 'What the agent remembers of this workspace' : (record.slug ?? label),
    resident: false,
    uri: record.uri,
  };
  const withStatus = record.status === undefined ? node : { ...node, status: record.status };
  return record.problem === undefined ? withStatus : { ...withStatus, problem: record.problem };
}

/** The whole tree: Knowledge first, then Memory (only when it has something to show). */
export function buildTree(records: KnowledgeRecord[], availability: KnowledgeAvailability, memory: MemoryView | undefined): GroupNode[] {
  const groups: GroupNode[] = [knowledgeGroup(records, availability)];
  if (memory === undefined) {
    return groups;
  }
  const children: TreeNode[] = [];
  if (memory.problem !== undefined) {
    children.push({ kind: 'note', id: 'memory:problem', label: 'The configured memory folder is not used', tooltip: memory.problem });
  }
  children.push(...memory.records.filter((r) => r.kind === 'summary').map(memoryRecord));
  const sub = (kind: 'decision' | 'request', label: string, icon: string): GroupNode[] => {
    const items = memory.records
      .filter((r) => r.kind === kind)
      .map(memoryRecord)
      .sort((a, b) => a.label.localeCompare(b.label));
    return items.length === 0 ? [] : [{ kind: 'group', id: `memory:${kind}s`, label, icon, children: items }];
  };
  children.push(...sub('decision', 'Decisions', 'law'), ...sub('request', 'Requests', 'comment-discussion'));
  if (memory.staged > 0) {
    const what = memory.staged === 1 ? '1 extraction waits' : `${memory.staged} extractions wait`;
    children.push({ kind: 'note', id: 'memory:staged', label: `${what} to be consolidated`, tooltip: 'Run "Yoi: Consolidate Memory" to fold them into the records now.' });
  }
  if (children.length > 0) {
    groups.push({ kind: 'group', id: 'memory', label: 'Memory', icon: 'history', children });
  }
  return groups;
}
