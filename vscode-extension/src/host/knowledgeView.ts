/**
 * The knowledge view: records from `yoi/knowledge/list` (refreshed on
 * `yoi/knowledge/changed`), and the memory records from `yoi/memory/list` —
 * the folder the manifest's `[memory] memory_dir` names, which is watched
 * (as is the manifest, which may move it).
 *
 * A server without knowledge support (an older one) answers -32601; the view
 * then says "not available" instead of failing, and shows no memory.
 */

import * as vscode from 'vscode';
import { buildTree, type KnowledgeAvailability, type MemoryView, type TreeNode } from '../logic/records';
import {
  Method,
  type KnowledgeChangedParams,
  type KnowledgeListResult,
  type KnowledgeRecord,
  type MemoryListParams,
  type MemoryListResult,
} from '../protocol';
import { isMethodNotFound, type ServerController } from './server';

export const KNOWLEDGE_VIEW_ID = 'yoi.knowledge';

export class KnowledgeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private records: KnowledgeRecord[] = [];
  private availability: KnowledgeAvailability = 'stopped';
  private memory: MemoryView | undefined;
  /** the watched memory folder (a URI), and its watcher */
  private memoryDir: string | undefined;
  private memoryWatcher: vscode.Disposable | undefined;
  private roots: TreeNode[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly server: ServerController) {
    server.onNotification<KnowledgeChangedParams>(Method.knowledgeChanged, () => this.refreshSoon());
    this.subscriptions.push(server.onDidChangeState(() => this.refreshSoon()));
    this.subscriptions.push(this.watch(vscode.workspace.createFileSystemWatcher('**/.yoi/manifest.toml')));
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
    if (this.server.state !== 'running') {
      this.memory = undefined;
      return;
    }
    try {
      const params: MemoryListParams = {};
      const result = await this.server.request<MemoryListResult>(Method.memoryList, params);
      this.memory = { records: result.records, staged: result.staged, ...(result.problem === undefined ? {} : { problem: result.problem }) };
      this.watchMemory(result.memoryDir);
    } catch {
      this.memory = undefined; // an older server (no yoi/memory/list), or it stopped
    }
  }

  /** Refresh when anything in the memory folder changes (records, staged extractions). */
  private watchMemory(dir: string): void {
    if (dir === this.memoryDir) {
      return;
    }
    this.memoryWatcher?.dispose();
    this.memoryDir = dir;
    this.memoryWatcher = this.watch(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.parse(dir), '**/*')));
  }

  private watch(watcher: vscode.FileSystemWatcher): vscode.Disposable {
    const refresh = (): void => this.refreshSoon();
    return vscode.Disposable.from(watcher, watcher.onDidCreate(refresh), watcher.onDidChange(refresh), watcher.onDidDelete(refresh));
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
    this.memoryWatcher?.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
