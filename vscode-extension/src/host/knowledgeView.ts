/**
 * The knowledge view: records from `yoi/knowledge/list` (refreshed on
 * `yoi/knowledge/changed`), and the memory files under `.yoi/memory/`.
 *
 * A server without knowledge support (an older one) answers -32601; the view
 * then says "not available" instead of failing. Memory (summary, decisions,
 * requests) has no list method in contract v1, so it is read from the default
 * folders (`.yoi/memory/`) and watched.
 */

import * as vscode from 'vscode';
import { buildTree, type KnowledgeAvailability, type MemoryFile, type TreeNode } from '../logic/records';
import { Method, type KnowledgeChangedParams, type KnowledgeListResult, type KnowledgeRecord } from '../protocol';
import { isMethodNotFound, type ServerController } from './server';

export const KNOWLEDGE_VIEW_ID = 'yoi.knowledge';

const MEMORY_FOLDERS: readonly ('decisions' | 'requests')[] = ['decisions', 'requests'];

export class KnowledgeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private records: KnowledgeRecord[] = [];
  private availability: KnowledgeAvailability = 'stopped';
  private memory: MemoryFile[] = [];
  private roots: TreeNode[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly server: ServerController) {
    server.onNotification<KnowledgeChangedParams>(Method.knowledgeChanged, () => this.refreshSoon());
    this.subscriptions.push(server.onDidChangeState(() => this.refreshSoon()));
    const watcher = vscode.workspace.createFileSystemWatcher('**/.yoi/memory/**/*.md');
    this.subscriptions.push(
      watcher,
      watcher.onDidCreate(() => this.refreshSoon()),
      watcher.onDidChange(() => this.refreshSoon()),
      watcher.onDidDelete(() => this.refreshSoon()),
    );
  }

  /** Knowledge records as the server last listed them. */
  get knowledge(): readonly KnowledgeRecord[] {
    return this.records;
  }

  refreshSoon(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => void this.refresh(), 150);
  }

  async refresh(): Promise<void> {
    this.timer = undefined;
    await Promise.all([this.loadKnowledge(), this.loadMemory()]);
    this.roots = buildTree(this.records, this.availability, this.memory);
    this.changed.fire(undefined);
  }

  private async loadKnowledge(): Promise<void> {
    if (this.server.state !== 'running') {
      this.availability = this.server.state === 'starting' ? 'loading' : 'stopped';
      this.records = [];
      return;
    }
    try {
      const result = await this.server.request<KnowledgeListResult>(Method.knowledgeList, {});
      this.records = result.records;
      this.availability = 'available';
    } catch (error) {
      this.records = [];
      this.availability = isMethodNotFound(error) ? 'unavailable' : 'stopped';
    }
    void vscode.commands.executeCommand('setContext', 'yoi.knowledge.available', this.availability === 'available');
  }

  private async loadMemory(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const files: MemoryFile[] = [];
    if (folder !== undefined) {
      const memory = vscode.Uri.joinPath(folder, '.yoi', 'memory');
      const summary = vscode.Uri.joinPath(memory, 'summary.md');
      const text = await readText(summary);
      if (text !== undefined) {
        files.push({ folder: 'summary', slug: 'summary', uri: summary.toString(), text });
      }
      for (const sub of MEMORY_FOLDERS) {
        const dir = vscode.Uri.joinPath(memory, sub);
        const entries = await vscode.workspace.fs.readDirectory(dir).then(
          (e) => e,
          () => [] as [string, vscode.FileType][],
        );
        for (const [name, type] of entries) {
          if (type !== vscode.FileType.File || !name.endsWith('.md')) {
            continue;
          }
          const uri = vscode.Uri.joinPath(dir, name);
          files.push({ folder: sub, slug: name.slice(0, -3), uri: uri.toString(), text: (await readText(uri)) ?? '' });
        }
      }
    }
    this.memory = files;
  }

  getChildren(node?: TreeNode): TreeNode[] {
    if (node === undefined) {
      return this.roots;
    }
    return node.kind === 'group' ? node.children : [];
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon(node.icon);
        item.contextValue = 'group';
        return item;
      }
      case 'note': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon('info');
        item.contextValue = 'note';
        return item;
      }
      case 'record': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        const uri = vscode.Uri.parse(node.uri);
        item.id = node.id;
        item.resourceUri = uri;
        const tooltip = new vscode.MarkdownString().appendText(node.tooltip);
        item.tooltip = tooltip;
        if (node.problem !== undefined) {
          item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
          item.description = 'problem';
          tooltip.appendMarkdown('\n\n').appendText(node.problem);
        } else if (node.resident) {
          item.iconPath = new vscode.ThemeIcon('pinned');
          item.description = 'in prompt';
          tooltip.appendMarkdown('\n\n$(pinned) Resident in the system prompt');
          tooltip.supportThemeIcons = true;
        } else {
          item.iconPath = new vscode.ThemeIcon(node.id.startsWith('knowledge:') ? 'book' : 'note');
          if (node.status !== undefined) {
            item.description = node.status;
          }
        }
        item.contextValue = node.slug === undefined ? 'memoryRecord' : 'knowledgeRecord';
        item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
        return item;
      }
    }
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.changed.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

async function readText(uri: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch {
    return undefined;
  }
}
