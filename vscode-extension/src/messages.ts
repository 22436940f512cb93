/** Messages between the extension host and the chat webview. */

import type { ChatAction, ChatState } from './logic/chatState';
import type { ContextView } from './logic/context';
import type { PendingImage } from './logic/images';
import type { ApprovalDecision, PodMode, ReferenceItem, ReferenceKind } from './protocol';

/** What a user message's checkpoint buttons ask for ("Edit and resend" fills the input: a `send` with `resendKey`). */
export type CheckpointAction = 'restore' | 'diff';

/** What the chat row's review buttons ask for. */
export type ReviewAction = 'open' | 'keepAll' | 'undoAll';

export interface ChatTab {
  id: string;
  title: string;
}

export type HostMessage =
  /** the whole view: after (re)load or a switch of chat */
  | { type: 'reset'; chatId: string; state: ChatState; tabs: ChatTab[]; notice?: string }
  /** one change to the shown chat */
  | { type: 'action'; chatId: string; action: ChatAction }
  | { type: 'tabs'; tabs: ChatTab[]; active: string }
  | { type: 'completions'; requestId: number; items: ReferenceItem[] }
  /** put a reference (or text) into the input, e.g. from `Yoi: Add File to Chat` */
  | { type: 'insert'; text: string; reference?: { kind: ReferenceKind; value: string } }
  | { type: 'focus' };

export type WebviewMessage =
  | { type: 'ready' }
  /** with `resendKey`: instead of the user message drawn with that key ("Edit and resend") */
  | { type: 'send'; text: string; references: { kind: ReferenceKind; value: string }[]; images?: PendingImage[]; resendKey?: number }
  /** a user message's Restore checkpoint / Show changes since here */
  | { type: 'checkpoint'; action: CheckpointAction; key: number }
  | { type: 'stop' }
  | { type: 'complete'; requestId: number; kind: ReferenceKind; prefix: string }
  | { type: 'newChat' }
  | { type: 'switchChat'; chatId: string }
  | { type: 'closeChat'; chatId: string }
  | { type: 'openFile'; path: string; line?: number }
  /** an answer to an approval shown in the chat */
  | { type: 'approve'; requestId: string; decision: ApprovalDecision }
  /** a tool row's review buttons */
  | { type: 'review'; callId: string; action: ReviewAction }
  /** a running command's Stop button (`agentPodId`: a command of that sub-agent) */
  | { type: 'stopTool'; callId: string; agentPodId?: string }
  /** a sub-agent row's Stop button */
  | { type: 'stopAgent'; podId: string }
  /** the user scrolled to the top of a chat whose older history is not loaded yet */
  | { type: 'loadOlder' }
  /** the mode picker next to the input */
  | { type: 'setMode'; mode: PodMode }
  /** "Execute plan" after a turn in plan mode: agent mode, then "Carry out the plan." */
  | { type: 'executePlan' }
  /** "Raise Session Budget…" of the notice drawn with `key` (a turn a session budget stopped) */
  | { type: 'raiseBudget'; key: number };

/** From the host to the Context view. */
export type ContextHostMessage =
  /** what fills the active chat's context window */
  | { type: 'context'; view: ContextView; chat: string }
  /** a sentence instead (no conversation yet, or the server's error) */
  | { type: 'message'; text: string }
  | { type: 'loading' };

/** From the Context view to the host. */
export type ContextWebviewMessage = { type: 'ready' } | { type: 'refresh' };
