/**
 * The yoi editor protocol, contract v1 (docs/protocol.md), mirrored from
 * server/protocol.py. This is the only place in the extension that spells a
 * method name. Every type here is what travels on the wire (camelCase).
 */

export const PROTOCOL_VERSION = 1;

export const Method = {
  podCreate: 'yoi/pod/create',
  podList: 'yoi/pod/list',
  podDispose: 'yoi/pod/dispose',
  podHistory: 'yoi/pod/history',
  podInterrupt: 'yoi/pod/interrupt',
  podNotify: 'yoi/pod/notify',
  podCompact: 'yoi/pod/compact',
  podConfigure: 'yoi/pod/configure',
  sessionsList: 'yoi/sessions/list',
  chat: 'yoi/chat',
  /** server → client notification */
  event: 'yoi/event',
  /** server → client request */
  approval: 'yoi/approval',
  referencesComplete: 'yoi/references/complete',
  knowledgeList: 'yoi/knowledge/list',
  knowledgeGet: 'yoi/knowledge/get',
  /** server → client notification */
  knowledgeChanged: 'yoi/knowledge/changed',
  memoryExtract: 'yoi/memory/extract',
  memoryConsolidate: 'yoi/memory/consolidate',
  memoryList: 'yoi/memory/list',
  /** server → client request */
  documentSave: 'yoi/document/save',
  toolCancel: 'yoi/tool/cancel',
  mcpList: 'yoi/mcp/list',
  mcpRestart: 'yoi/mcp/restart',
  /** server → client notification */
  mcpChanged: 'yoi/mcp/changed',
  checkpointsList: 'yoi/checkpoints/list',
  checkpointsDiff: 'yoi/checkpoints/diff',
  checkpointsRestore: 'yoi/checkpoints/restore',
  sessionFork: 'yoi/session/fork',
  sessionResend: 'yoi/session/resend',
  imageGet: 'yoi/image/get',
  podContext: 'yoi/pod/context',
  profilesList: 'yoi/profiles/list',
  budgetRaise: 'yoi/budget/raise',
  approvalsRules: 'yoi/approvals/rules',
  approvalsRevoke: 'yoi/approvals/revoke',
  workspaceTrust: 'yoi/workspace/trust',
} as const;

export const ErrorCode = {
  methodNotFound: -32601,
  invalidParams: -32602,
  requestFailed: -32803,
} as const;

// ------------------------------------------------------------------ segments

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'paste'; text: string; label?: string }
  | { kind: 'file'; path: string; range?: Range }
  | { kind: 'knowledge'; slug: string }
  | { kind: 'workflow'; slug: string }
  /** a workspace `path` or a `data` URL; as logged, `mime`, `size` and `sha256` instead of `data` */
  | { kind: 'image'; path?: string; data?: string; name?: string; mime?: string; size?: number; sha256?: string };

export interface ImageGetParams {
  sha256: string;
}

export interface ImageGetResult {
  mime: string;
  size: number;
  dataUrl: string;
}

/** An image a tool returned (`read_file` of an image), as history lists it. */
export interface ImageInfo {
  mime: string;
  size: number;
  sha256: string;
  name?: string;
}

// ------------------------------------------------------------------ pods

export interface PodCreateParams {
  name?: string;
  profile?: string;
  model?: string;
  /** start in this mode (default `agent`) */
  mode?: PodMode;
  resumeSessionId?: string;
}

/** What the agent may do: every tool, only the tools that read, or none. */
export type PodMode = 'agent' | 'plan' | 'ask';

/** A pod's settings (`yoi/pod/configure`; absent from older servers). */
export interface PodSettings {
  mode?: PodMode;
  reasoningEffort?: string | null;
  profile?: string | null;
}

export interface PodCreateResult extends PodSettings {
  podId: string;
  sessionId: string;
  model: string;
  restored: boolean;
}

/** `yoi/pod/configure`: an absent field is left as it is. */
export interface PodConfigureParams {
  podId: string;
  model?: string;
  reasoningEffort?: string;
  mode?: PodMode;
  profile?: string;
}

export interface PodConfigureResult {
  podId: string;
  model: string;
  mode: PodMode;
  reasoningEffort: string | null;
  profile: string | null;
}

export interface PodParams {
  podId: string;
}

export type PodState = 'idle' | 'running' | 'compacting';

export interface PodInfo extends ContextLimits, PodSettings {
  podId: string;
  name: string;
  sessionId: string;
  model: string;
  state: PodState;
  contextTokens: number;
  turnCount: number;
  /** a sub-agent: the pod that spawned it */
  parentPodId?: string;
  /** what the session has spent (US dollars; requests without a known price add nothing) */
  sessionCostUsd?: number;
  sessionTokens?: number;
}

/** The model's window and the compaction thresholds, once known (`yoi/pod/list` and `usage`). */
export interface ContextLimits {
  contextWindow?: number;
  contextWindowSource?: 'manifest' | 'model' | 'fallback';
  /** compaction between turns happens once the context passes this */
  compactAt?: number;
  /** compaction in the middle of a turn happens once the context passes this */
  compactRequestAt?: number;
}

export interface PodListResult {
  pods: PodInfo[];
}

/** One part of what fills the context window (`yoi/pod/context`). */
export interface ContextPart {
  /** `system`, `tools`, `history` (a client ignores, or lists apart, a group it does not know) */
  group: string;
  label: string;
  tokens: number;
  bytes: number;
  count: number;
}

/** `yoi/pod/context`: what the pod's next request would send, part by part. */
export interface PodContextResult extends ContextLimits {
  podId: string;
  model: string;
  contextTokens: number;
  measured: boolean;
  tokensPerByte: number;
  parts: ContextPart[];
  /** the prune projection: old tool results the request leaves out, the tokens that saves, what pruning would save now */
  pruned: { results: number; tokens: number; wouldSave: number };
}

/** A `[profiles.<name>]` of the manifests (`yoi/profiles/list`); null: left to the pod. */
export interface ProfileInfo {
  name: string;
  description?: string | null;
  model?: string | null;
  mode?: PodMode | null;
  reasoningEffort?: string | null;
  tools?: string[] | null;
  approvals?: string | null;
}

export interface ProfilesListResult {
  profiles: ProfileInfo[];
}

/** `yoi/budget/raise`: at least one, positive. */
export interface BudgetRaiseParams {
  podId: string;
  perSessionUsd?: number;
  perSessionTokens?: number;
}

export interface BudgetRaiseResult {
  podId: string;
  perSessionUsd: number | null;
  perSessionTokens: number | null;
  sessionCostUsd: number;
  sessionTokens: number;
}

export type HistoryItem =
  | { kind: 'message'; role: 'user' | 'assistant' | 'system'; text: string; segments?: Segment[] }
  | { kind: 'toolCall'; id: string; name: string; arguments: Record<string, unknown> }
  | { kind: 'toolResult'; id: string; name: string; ok: boolean; summary: string; content?: string; images?: ImageInfo[]; edits?: EditOutcome[] }
  | { kind: 'reasoning'; text: string };

/** How an edit a tool proposed ended, kept with the tool's result (`partial`: only some of it was kept). */
export interface EditOutcome {
  uri: string;
  status: 'applied' | 'partial' | 'rejected' | 'stale' | 'failed';
  message?: string;
}

export interface PodHistoryParams {
  podId: string;
  /** at most this many items: the last ones before `before` */
  limit?: number;
  /** an item index: the page ends just before it */
  before?: number;
}

export interface HistoryResult {
  sessionId: string;
  items: HistoryItem[];
  /** the index of the first item returned in the whole history (servers with paging) */
  start?: number;
  /** the number of items in the whole history (servers with paging) */
  total?: number;
  /** the pod's sub-agents and their last states (absent: none) */
  subAgents?: SubAgentState[];
}

export interface SubAgentState {
  name: string;
  status: string;
  sessionId: string;
  /** the spawn_agent call that started it */
  callId: string;
  task: string;
  scope: string;
  answer?: string;
  error?: string;
  /** while it runs */
  podId?: string;
}

export interface SessionInfo {
  sessionId: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  turnCount: number;
  /** what its requests cost (US dollars) */
  costUsd?: number;
  parentSessionId?: string;
  cwd?: string;
  /** a sub-agent's session: the session that spawned it */
  spawnedBySessionId?: string;
}

export interface SessionsListResult {
  sessions: SessionInfo[];
}

// ------------------------------------------------------------------ chat

/** `budgetExceeded`: a `[budget]` limit stopped the turn before a request (`error` says which, the spend, how to raise it) */
export type Outcome = 'finished' | 'paused' | 'limitReached' | 'interrupted' | 'error' | 'budgetExceeded';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface ChatParams {
  podId: string;
  input: Segment[];
}

export interface ChatResult {
  outcome: Outcome;
  sessionId: string;
  usage: Usage;
  error?: string;
}

export type PodPhase = 'loadingModel' | 'waitingForModel' | 'runningTool' | 'compacting';

export type EditStatus = 'proposed' | 'applied' | 'rejected' | 'stale' | 'failed';
export type AlertLevel = 'info' | 'warn' | 'error';

/** A `yoi/event` payload. Unknown types must be ignored (contract v1 only grows). */
export type ChatEvent =
  | { type: 'turnStart'; turn: number }
  | { type: 'textDelta'; text: string }
  | { type: 'reasoningDelta'; text: string }
  | { type: 'toolCall'; id: string; name: string; arguments: Record<string, unknown> }
  /** `content`: the result as the model got it (capped), from servers that send it */
  | { type: 'toolResult'; id: string; name: string; ok: boolean; summary: string; content?: string; edits?: EditOutcome[] }
  | { type: 'edit'; id: string; uri: string; status: EditStatus; message?: string }
  /** live output of a running command: progress, not logged (its toolResult is the record) */
  | { type: 'toolOutput'; id: string; text: string }
  /** `costUsd`: the request's cost (null: its price is not known); the turn's, session's and day's spend (US dollars) */
  | ({ type: 'usage'; contextTokens: number; costUsd?: number | null; turnCostUsd?: number | null; sessionCostUsd?: number | null; dayCostUsd?: number | null } & Usage & ContextLimits)
  /** the pod's phase changed (servers that send it; others are read from the other events) */
  | { type: 'phase'; phase: PodPhase; tool?: string }
  | { type: 'turnEnd'; outcome: Outcome; error?: string }
  | { type: 'compactStart' }
  | { type: 'compactDone'; sessionId: string }
  | { type: 'compactFailed'; error: string }
  /** on the parent: a sub-agent started (`status: 'running'`) or ended a run; `podId` is the sub-agent's */
  | { type: 'subAgent'; podId: string; name: string; status: string; callId?: string; sessionId?: string; task?: string; scope?: string; answer?: string; error?: string }
  | { type: 'alert'; level: AlertLevel; source: string; message: string }
  /** the pod's settings changed (`yoi/pod/configure`) */
  | { type: 'config'; model: string; mode: PodMode; reasoningEffort: string | null; profile: string | null };

export interface EventParams {
  podId: string;
  seq: number;
  event: ChatEvent;
  /** set on a sub-agent's events */
  parentPodId?: string;
}

// ------------------------------------------------------------------ approvals

export interface ApprovalParams {
  podId: string;
  toolCallId: string;
  tool: string;
  arguments: Record<string, unknown>;
  reason: string;
  /** set when a sub-agent asks (`podId` is its own) */
  parentPodId?: string;
}

/** `allowAlways`: also a lasting rule of the workspace, in the user's config */
export type ApprovalDecision = 'allow' | 'deny' | 'allowSession' | 'allowAlways';

export interface ApprovalResult {
  decision: ApprovalDecision;
}

/** A lasting approval rule of the workspace (`yoi/approvals/rules`). */
export interface ApprovalRule {
  id: string;
  /** what it covers, e.g. `run_command:pytest`; one ending in `*` covers every key it starts with */
  key: string;
  tool: string;
  /** what the user allowed, e.g. the command */
  label: string;
  /** milliseconds since the epoch */
  createdAt: number;
}

export interface ApprovalRulesResult {
  workspace: string;
  rules: ApprovalRule[];
}

export interface ApprovalRevokeParams {
  id: string;
}

export interface ApprovalRevokeResult {
  revoked: boolean;
}

/** `yoi/workspace/trust`: pods created from now on take the workspace manifest whole. */
export interface WorkspaceTrustResult {
  workspace: string;
  trusted: boolean;
}

// ------------------------------------------------------------------ edits (LSP workspace/applyEdit)

/** The change annotation the server puts on every edit it wants reviewed. */
export const REVIEW_ANNOTATION = 'yoi';

/** The server's annotation label: `yoi: <tool> <path> (call <id>)`. */
export function callIdOfLabel(label: string): string | undefined {
  return /\(call ([^)\s]+)\)\s*$/.exec(label)?.[1];
}

// ------------------------------------------------------------------ references

export type ReferenceKind = 'file' | 'knowledge' | 'workflow';

export interface ReferencesCompleteParams {
  prefix?: string;
  kind?: ReferenceKind;
  limit?: number;
}

export interface ReferenceItem {
  kind: ReferenceKind;
  label: string;
  path?: string;
  detail?: string;
  open: boolean;
}

export interface ReferencesCompleteResult {
  items: ReferenceItem[];
}

// ------------------------------------------------------------------ knowledge and memory

export interface KnowledgeRecord {
  slug: string;
  title: string;
  description: string;
  /** resident in the system prompt */
  modelInvocation: boolean;
  /** offered for `#` references */
  userInvocable?: boolean;
  uri: string;
  updatedAt: number;
  /** why the record could not be read fully (it is listed anyway) */
  problem?: string;
}

export interface KnowledgeListResult {
  records: KnowledgeRecord[];
}

export interface KnowledgeGetResult {
  slug: string;
  frontmatter: Record<string, unknown>;
  body: string;
  uri: string;
}

export interface KnowledgeChangedParams {
  slugs: string[];
}

export type MemoryKind = 'summary' | 'decision' | 'request';

export interface MemoryRecord {
  kind: MemoryKind;
  /** absent for the summary */
  slug?: string;
  title: string;
  /** the body's first line of prose */
  preview: string;
  uri: string;
  updatedAt: number;
  /** a decision's status: open, resolved or replaced */
  status?: string;
  problem?: string;
}

export interface MemoryListParams {
  podId?: string;
}

export interface MemoryListResult {
  enabled: boolean;
  /** the memory folder (the manifest's `[memory] memory_dir`), as a file URI */
  memoryDir: string;
  /** extractions waiting to be consolidated */
  staged: number;
  records: MemoryRecord[];
  /** why the configured folders were not used */
  problem?: string;
}

export interface PodCompactResult {
  sessionId: string;
}

export type MemoryExtractResult =
  | { extracted: false }
  | { extracted: true; processedThroughEntry: number; source: { session_id: string; range: [number, number] }; stagingId?: string };

export interface MemoryConsolidateResult {
  consumed: string[];
  report: string;
}

// ------------------------------------------------------------------ initialize

export interface InitializationOptions {
  model?: string;
  profile?: string;
  approvals?: 'ask' | 'auto';
}

// ------------------------------------------------------------------ saving accepted edits

/** `yoi/document/save` (server → client): save this document after an accepted edit. */
export interface DocumentSaveParams {
  uri: string;
}

export interface DocumentSaveResult {
  saved: boolean;
}

// ------------------------------------------------------------------ stopping one tool call

export interface ToolCancelParams {
  podId: string;
  callId: string;
}

export interface ToolCancelResult {
  stopped: boolean;
}

/** `capabilities.experimental.yoi` in the initialize result. */
export interface ServerYoiCapabilities {
  protocolVersion: number;
  features: string[];
}

// ------------------------------------------------------------------ MCP servers

export type McpStatus = 'starting' | 'ready' | 'error' | 'stopped' | 'disabled';

/** One MCP server: an entry of `yoi/mcp/list`, and the params of `yoi/mcp/changed`. */
export interface McpServer {
  name: string;
  status: McpStatus;
  transport: 'stdio' | 'http' | '';
  source: string;
  tools: string[];
  toolCount: number;
  prompts: string[];
  resourceCount: number;
  lastError: string | null;
  connects: number;
}

export interface McpListResult {
  servers: McpServer[];
  configured: boolean;
}

export interface McpRestartParams {
  name: string;
}

export interface McpRestartResult {
  name: string;
  /** false: the server was removed from the configuration (or disabled) and stopped */
  restarting: boolean;
}

// ------------------------------------------------------------------ checkpoints

export interface CheckpointTurn {
  turn: number;
  /** Unix ms */
  time: number;
  text: string;
  checkpoint: boolean;
  /** paths changed from this turn's start to the next one's (the last: to now) */
  files: string[];
}

export interface CheckpointsListParams {
  podId: string;
}

export interface CheckpointsListResult {
  sessionId: string;
  turns: CheckpointTurn[];
}

export interface CheckpointsDiffParams {
  podId: string;
  turn: number;
  toTurn?: number;
}

export interface CheckpointFileDiff {
  path: string;
  status: 'added' | 'modified' | 'deleted';
  /** unified diff (git format) */
  diff: string;
  /** the text at `turn` and at `toTurn` (or now); null: absent or binary */
  before: string | null;
  after: string | null;
}

export interface CheckpointsDiffResult {
  turn: number;
  toTurn: number | null;
  files: CheckpointFileDiff[];
}

export interface CheckpointsRestoreParams {
  podId: string;
  turn: number;
  files?: boolean;
  conversation?: boolean;
  /** overwrite files changed outside the agent without asking */
  force?: boolean;
}

export interface CheckpointsRestoreResult {
  turn: number;
  files: string[];
  sessionId: string;
  forkedFrom?: { sessionId: string; turn: number };
}

export interface SessionForkParams {
  podId: string;
  turn: number;
}

export interface SessionForkResult extends PodCreateResult {
  forkedFrom: { sessionId: string; turn: number };
}

export interface SessionResendParams {
  podId: string;
  turn: number;
  input: Segment[];
  files?: boolean;
  force?: boolean;
}

export interface SessionResendResult extends ChatResult {
  restored: CheckpointsRestoreResult;
}
