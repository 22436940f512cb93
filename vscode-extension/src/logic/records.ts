/**
 * What the knowledge view shows, computed from plain data: knowledge records
 * from the server and memory files (summary, decisions, requests) read from
 * `<root>/.yoi/memory/`. Pure; the tree provider turns these into tree items.
 */

import type { KnowledgeRecord } from '../protocol';

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

export interface MemoryFile {
  /** `summary`, `decisions` or `requests` */
  folder: 'summary' | 'decisions' | 'requests';
  slug: string;
  uri: string;
  text: string;
}

/** YAML-ish frontmatter between `---` lines: top-level `key: value` scalars only. */
export function frontmatter(text: string): { fields: Record<string, string>; body: string } {
  const fields: Record<string, string> = {};
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (match === null) {
    return { fields, body: text };
  }
  for (const line of (match[1] ?? '').split(/\r?\n/)) {
    const kv = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (kv?.[1] !== undefined && kv[2] !== undefined) {
      fields[kv[1]] = kv[2].replace(/^(['"])(.*)\1$/, '$2').trim();
    }
  }
  return { fields, body: text.slice(match[0].length) };
}

/** The first `# heading` of a body, else the first non-empty line. */
export function titleOf(body: string, fallback: string): string {
  const lines = body.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const heading = lines.find((l) => l.startsWith('# '));
  const first = heading ?? lines[0];
  if (first === undefined) {
    return fallback;
  }
  const text = first.replace(/^#+\s*/, '');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
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

function memoryRecord(file: MemoryFile): RecordNode {
  const { fields, body } = frontmatter(file.text);
  const label = file.folder === 'summary' ? 'Summary' : titleOf(body, file.slug);
  const node: RecordNode = {
    kind: 'record',
    id: `${file.folder}:${file.slug}`,
    label,
    tooltip: fields['description'] ?? (file.folder === 'summary' ? 'What the agent remembers of this workspace' : file.slug),
    resident: false,
    uri: file.uri,
  };
  const status = fields['status'];
  return status === undefined ? node : { ...node, status };
}

/** The whole tree: Knowledge first, then Memory (only when it has files). */
export function buildTree(
  records: KnowledgeRecord[],
  availability: KnowledgeAvailability,
  memory: MemoryFile[],
): GroupNode[] {
  const groups: GroupNode[] = [knowledgeGroup(records, availability)];
  const summary = memory.filter((f) => f.folder === 'summary').map(memoryRecord);
  const sub = (folder: 'decisions' | 'requests', label: string, icon: string): GroupNode[] => {
    const items = memory
      .filter((f) => f.folder === folder)
      .map(memoryRecord)
      .sort((a, b) => a.label.localeCompare(b.label));
    return items.length === 0 ? [] : [{ kind: 'group', id: `memory:${folder}`, label, icon, children: items }];
  };
  const children: TreeNode[] = [...summary, ...sub('decisions', 'Decisions', 'law'), ...sub('requests', 'Requests', 'comment-discussion')];
  if (children.length > 0) {
    groups.push({ kind: 'group', id: 'memory', label: 'Memory', icon: 'history', children });
  }
  return groups;
}
