/**
 * Reviewing an agent's edit where the code is: a read-only review document
 * per file (`yoi-review:`) shows the file with every proposed change in place
 * — removed lines red, added lines green — and a Keep / Undo code lens above
 * each change, Keep All / Undo All above the file and in the editor's title
 * bar, and commands with keybindings. Nothing touches the real buffer until
 * every change is decided; then the kept changes are applied to the buffer in
 * one edit, its `didChange` is sent, and the review answers how it ended.
 */

import * as vscode from 'vscode';
import type { FilePlan } from '../logic/editPlan';
import { baseName } from '../logic/editPlan';
import { applyKept, buildChanges, changeAt, reviewView, tally, type Change, type ChangeState, type ReviewView, type Tally } from '../logic/review';

export const REVIEW_SCHEME = 'yoi-review';

export interface ReviewOutcome {
  applied: boolean;
  failureReason?: string;
}

export interface ReviewRequest {
  label: string;
  callId?: string;
  files: FilePlan[];
}

/** How the controller applies the kept changes (the edit handler waits for their didChange). */
export type ApplyKept = (edit: vscode.WorkspaceEdit, uris: vscode.Uri[]) => Promise<boolean>;

class FileReview {
  view: ReviewView;

  constructor(
    readonly uri: vscode.Uri,
    readonly reviewUri: vscode.Uri,
    readonly base: string,
    readonly plan: FilePlan,
    readonly changes: Change[],
    readonly languageId: string,
  ) {
    this.view = reviewView(base, changes);
  }

  refresh(): void {
    this.view = reviewView(this.base, this.changes);
  }
}

class Review {
  readonly files: FileReview[] = [];
  private settle: ((outcome: ReviewOutcome) => void) | undefined;
  readonly done: Promise<ReviewOutcome>;

  constructor(
    readonly id: number,
    readonly label: string,
    readonly callId: string | undefined,
  ) {
    this.done = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  get changes(): Change[] {
    return this.files.flatMap((f) => f.changes);
  }

  get tally(): Tally {
    return tally(this.changes);
  }

  finish(outcome: ReviewOutcome): void {
    this.settle?.(outcome);
    this.settle = undefined;
  }
}

export class ReviewController implements vscode.Disposable {
  private readonly reviews = new Map<number, Review>();
  private counter = 0;
  private readonly contentChanged = new vscode.EventEmitter<vscode.Uri>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly progress = new vscode.EventEmitter<{ callId: string; tally?: Tally }>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    borderStyle: 'none none none solid',
    borderWidth: '0 0 0 3px',
    borderColor: new vscode.ThemeColor('editorGutter.deletedBackground'),
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    borderStyle: 'none none none solid',
    borderWidth: '0 0 0 3px',
    borderColor: new vscode.ThemeColor('editorGutter.addedBackground'),
  });

  /** A review of a tool call changed (its tally), or ended (no tally). */
  readonly onDidChangeProgress = this.progress.event;

  constructor(private readonly applyKept: ApplyKept) {
    this.subscriptions.push(
      vscode.workspace.registerTextDocumentContentProvider(REVIEW_SCHEME, {
        onDidChange: this.contentChanged.event,
        provideTextDocumentContent: (uri) => this.fileFor(uri)?.view.text ?? '',
      }),
      vscode.languages.registerCodeLensProvider({ scheme: REVIEW_SCHEME }, {
        onDidChangeCodeLenses: this.lensesChanged.event,
        provideCodeLenses: (document) => this.lenses(document.uri),
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorateAll()),
      vscode.window.onDidChangeActiveTextEditor((editor) => this.setContext(editor)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === REVIEW_SCHEME) {
          this.decorateAll();
        }
      }),
    );
  }

  // ------------------------------------------------------------ starting and ending

  /** Open the review of an edit; resolves when the user decided every change, or on cancel. */
  async review(request: ReviewRequest, token: vscode.CancellationToken): Promise<ReviewOutcome> {
    this.counter += 1;
    const review = new Review(this.counter, request.label, request.callId);
    for (const plan of request.files) {
      const uri = vscode.Uri.parse(plan.uri);
      let base = '';
      let languageId = 'plaintext';
      if (!plan.create) {
        const document = await vscode.workspace.openTextDocument(uri);
        if (plan.version !== null && document.version !== plan.version) {
          return { applied: false, failureReason: `${baseName(plan.uri)} changed in the editor before the review opened` };
        }
        base = document.getText();
        languageId = document.languageId;
      }
      const edits = plan.create && plan.edits.length === 0 ? [] : plan.edits;
      const changes = buildChanges(base, edits);
      const reviewUri = uri.with({ scheme: REVIEW_SCHEME, query: `review=${review.id}` });
      review.files.push(new FileReview(uri, reviewUri, base, plan, changes, languageId));
    }
    if (review.changes.length === 0) {
      return this.applyNothingToReview(review);
    }
    this.reviews.set(review.id, review);
    const cancel = token.onCancellationRequested(() => {
      void this.end(review, { applied: false, failureReason: 'the review was withdrawn' });
    });
    this.report(review);
    await this.show(review);
    try {
      return await review.done;
    } finally {
      cancel.dispose();
    }
  }

  private async applyNothingToReview(review: Review): Promise<ReviewOutcome> {
    // A new empty file: nothing to look at, only the creation.
    const edit = new vscode.WorkspaceEdit();
    for (const file of review.files) {
      if (file.plan.create) {
        edit.createFile(file.uri, { ignoreIfExists: false, overwrite: false });
      }
    }
    return { applied: await this.applyKept(edit, []) };
  }

  private async end(review: Review, outcome: ReviewOutcome): Promise<void> {
    if (!this.reviews.delete(review.id)) {
      return;
    }
    review.finish(outcome);
    if (review.callId !== undefined) {
      this.progress.fire({ callId: review.callId });
    }
    this.lensesChanged.fire();
    this.updatePendingContext();
    const uris = new Set(review.files.map((f) => f.reviewUri.toString()));
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputText && uris.has(t.input.uri.toString()));
    await vscode.window.tabGroups.close(tabs).then(undefined, () => undefined);
  }

  /** Every change is decided: apply the kept ones to the buffer and answer. */
  private async complete(review: Review): Promise<void> {
    const { kept } = review.tally;
    if (kept === 0) {
      await this.end(review, { applied: false, failureReason: 'the user undid every change in the review' });
      return;
    }
    const edit = new vscode.WorkspaceEdit();
    const touched: vscode.Uri[] = [];
    for (const file of review.files) {
      const keptHere = file.changes.filter((c) => c.state === 'kept');
      if (file.plan.create) {
        edit.createFile(file.uri, { overwrite: false, ignoreIfExists: false });
        if (keptHere.length > 0) {
          edit.insert(file.uri, new vscode.Position(0, 0), applyKept('', file.changes));
        }
        touched.push(file.uri);
        continue;
      }
      if (keptHere.length === 0) {
        continue;
      }
      const document = await vscode.workspace.openTextDocument(file.uri);
      if (document.getText() !== file.base) {
        await this.end(review, {
          applied: false,
          failureReason: `${baseName(file.plan.uri)} changed in the editor during the review, so nothing was applied`,
        });
        return;
      }
      for (const change of keptHere) {
        for (const e of change.edits) {
          const range = new vscode.Range(e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character);
          edit.replace(file.uri, range, e.newText);
        }
      }
      touched.push(file.uri);
    }
    const applied = await this.applyKept(edit, touched);
    await this.end(review, applied ? { applied: true } : { applied: false, failureReason: 'VS Code could not apply the kept changes' });
    const first = review.files.find((f) => f.changes.some((c) => c.state === 'kept'));
    if (applied && first !== undefined) {
      const line = first.changes.find((c) => c.state === 'kept')?.first ?? 0;
      await vscode.window.showTextDocument(first.uri, { selection: new vscode.Range(line, 0, line, 0), preview: false });
    }
  }

  // ------------------------------------------------------------ decisions

  /** Keep or undo one change: of a review document and index, else the change at the cursor. */
  async decide(state: ChangeState, reviewUri?: vscode.Uri, index?: number): Promise<void> {
    const file = reviewUri !== undefined ? this.fileFor(reviewUri) : this.activeFile();
    if (file === undefined) {
      return this.decideAll(state);
    }
    const cursor = vscode.window.activeTextEditor?.document.uri.toString() === file.reviewUri.toString() ? vscode.window.activeTextEditor.selection.active.line : 0;
    const target = index ?? changeAt(file.view, cursor);
    const change = target === undefined ? undefined : file.changes[target];
    if (change?.state !== 'pending') {
      return;
    }
    change.state = state;
    await this.changed(file);
  }

  /** Keep or undo every pending change of a review (of a tool call, the active editor's, or the latest). */
  async decideAll(state: ChangeState, callId?: string): Promise<void> {
    const review = this.find(callId);
    if (review === undefined) {
      return;
    }
    for (const change of review.changes) {
      if (change.state === 'pending') {
        change.state = state;
      }
    }
    for (const file of review.files) {
      await this.changed(file);
    }
  }

  /** Show a review again (from the chat row). */
  async open(callId?: string): Promise<void> {
    const review = this.find(callId);
    if (review !== undefined) {
      await this.show(review);
    }
  }

  hasReview(callId: string): boolean {
    return [...this.reviews.values()].some((r) => r.callId === callId);
  }

  private async changed(file: FileReview): Promise<void> {
    file.refresh();
    this.contentChanged.fire(file.reviewUri);
    this.lensesChanged.fire();
    const review = this.reviewOf(file);
    if (review === undefined) {
      return;
    }
    this.report(review);
    if (!review.changes.some((c) => c.state === 'pending')) {
      await this.complete(review);
    }
  }

  // ------------------------------------------------------------ showing

  private async show(review: Review): Promise<void> {
    for (const file of review.files) {
      const document = await vscode.workspace.openTextDocument(file.reviewUri);
      if (document.languageId !== file.languageId && file.languageId !== 'plaintext') {
        await vscode.languages.setTextDocumentLanguage(document, file.languageId).then(undefined, () => undefined);
      }
      const line = file.view.changes.find((c) => c.state === 'pending')?.line ?? 0;
      const editor = await vscode.window.showTextDocument(document, { preview: false, selection: new vscode.Range(line, 0, line, 0) });
      editor.revealRange(new vscode.Range(line, 0, line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      this.decorate(editor);
      this.setContext(editor);
    }
  }

  private decorateAll(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme === REVIEW_SCHEME) {
        this.decorate(editor);
      }
    }
  }

  private decorate(editor: vscode.TextEditor): void {
    const file = this.fileFor(editor.document.uri);
    const spans = (pick: (c: ReviewView['changes'][number]) => { start: number; end: number }): vscode.Range[] =>
      (file?.view.changes ?? []).map(pick).filter((s) => s.end > s.start).map((s) => new vscode.Range(s.start, 0, s.end - 1, 0));
    editor.setDecorations(this.removed, spans((c) => c.removed));
    editor.setDecorations(this.added, spans((c) => c.added));
  }

  private lenses(uri: vscode.Uri): vscode.CodeLens[] {
    const file = this.fileFor(uri);
    const review = file === undefined ? undefined : this.reviewOf(file);
    if (file === undefined || review === undefined) {
      return [];
    }
    const top = new vscode.Range(0, 0, 0, 0);
    const { total, kept, undone } = review.tally;
    const pending = total - kept - undone;
    const lenses = [
      new vscode.CodeLens(top, { title: `$(git-compare) ${review.label}: ${pending} of ${total} ${total === 1 ? 'change' : 'changes'} to review`, command: '' }),
      new vscode.CodeLens(top, { title: '$(check-all) Keep All', command: 'yoi.review.keepAll', tooltip: 'Keep every change (Alt+Shift+Y)' }),
      new vscode.CodeLens(top, { title: '$(discard) Undo All', command: 'yoi.review.undoAll', tooltip: 'Undo every change (Alt+Shift+N)' }),
    ];
    for (const change of file.view.changes) {
      const at = new vscode.Range(change.line, 0, change.line, 0);
      if (change.state === 'pending') {
        const args = [file.reviewUri.toString(), change.index];
        lenses.push(
          new vscode.CodeLens(at, { title: '$(check) Keep', command: 'yoi.review.keepChange', arguments: args, tooltip: 'Keep this change (Alt+Y)' }),
          new vscode.CodeLens(at, { title: '$(discard) Undo', command: 'yoi.review.undoChange', arguments: args, tooltip: 'Undo this change (Alt+N)' }),
        );
      } else {
        lenses.push(new vscode.CodeLens(at, { title: change.state === 'kept' ? '$(check) Kept' : '$(discard) Undone', command: '' }));
      }
    }
    return lenses;
  }

  // ------------------------------------------------------------ bookkeeping

  private report(review: Review): void {
    if (review.callId !== undefined) {
      this.progress.fire({ callId: review.callId, tally: review.tally });
    }
    this.updatePendingContext();
  }

  private updatePendingContext(): void {
    void vscode.commands.executeCommand('setContext', 'yoi.reviewPending', this.reviews.size > 0);
  }

  private setContext(editor: vscode.TextEditor | undefined): void {
    const reviewing = editor !== undefined && this.fileFor(editor.document.uri) !== undefined;
    void vscode.commands.executeCommand('setContext', 'yoi.reviewing', reviewing);
  }

  private fileFor(uri: vscode.Uri): FileReview | undefined {
    for (const review of this.reviews.values()) {
      const file = review.files.find((f) => f.reviewUri.toString() === uri.toString());
      if (file !== undefined) {
        return file;
      }
    }
    return undefined;
  }

  private reviewOf(file: FileReview): Review | undefined {
    return [...this.reviews.values()].find((r) => r.files.includes(file));
  }

  private activeFile(): FileReview | undefined {
    const uri = vscode.window.activeTextEditor?.document.uri;
    return uri === undefined ? undefined : this.fileFor(uri);
  }

  /** A tool call's review, else the active editor's, else the latest. */
  private find(callId?: string): Review | undefined {
    const all = [...this.reviews.values()];
    if (callId !== undefined) {
      return all.find((r) => r.callId === callId);
    }
    const active = this.activeFile();
    return (active === undefined ? undefined : this.reviewOf(active)) ?? all[all.length - 1];
  }

  dispose(): void {
    for (const review of [...this.reviews.values()]) {
      void this.end(review, { applied: false, failureReason: 'VS Code closed the review' });
    }
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.removed.dispose();
    this.added.dispose();
    this.contentChanged.dispose();
    this.lensesChanged.dispose();
    this.progress.dispose();
  }
}
