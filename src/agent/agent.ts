/**
 * The agent: a model that plans, writes SQL and Python, runs them through the tools (SQL through the
 * guard, Python in the sandbox), reads results and errors, repairs, and answers in the user's
 * language. Code runs only when approved; without someone to ask, the agent pauses and the session
 * keeps the code until `resume`. Every step is saved as it happens, so no error loses the conversation.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { detectLanguage, type Language } from '../analyst/text.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import type { ChatMessage, ChatResponse, LanguageModel, TokenUsage, ToolCall } from '../llm/llm.js';
import { MemoryStore } from '../memory/memory-store.js';
import type { DataSource, SqlValue, TableInfo } from '../sources/source.js';
import { toolDefinitions, Toolbox, type AgentChart, type AgentToolName, type ToolRunResult } from './agent-tools.js';
import { policyAllows, type ApprovalDecision, type ApprovalPolicy, type Approver, type CodeFinding, type PendingCode } from './approval.js';
import { closeOpenToolCalls, defaultContextBudget, fitContext, type ContextBudget } from './context-window.js';
import { planRequest, readPlan, systemPrompt } from './prompts.js';
import { agentSessionFolder, claimAgentSession, loadAgentSession, saveAgentSession, storedRows, toolOutputsOfTurn, type AgentSessionRecord, type AgentStep, type AgentTurnRecord, type ApprovalSource } from './session-store.js';
import { checkNumbers } from '../report/check-numbers.js';
import { modelLabel } from '../llm/llm-settings.js';

/** normal: the work shown compactly; expert: the plan is reviewed before anything runs; developer: every prompt, call and raw response. */
export const agentModes = ['normal', 'expert', 'developer'] as const;
export type AgentMode = (typeof agentModes)[number];

/** What happens as the agent works, for a terminal, a web page or a log (one union, noun-verb names). */
export type AgentEvent =
  | { type: 'plan'; steps: string[] }
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'code'; pending: PendingCode }
  | { type: 'approval-request'; pending: PendingCode }
  | { type: 'step'; step: AgentStep; result?: ToolRunResult }
  | { type: 'table'; columns: string[]; rows: SqlValue[][]; truncated: boolean }
  | { type: 'chart'; chart: AgentChart }
  | { type: 'retry'; attempt: number; delayMs: number; reason: string }
  | { type: 'note'; text: string }
  | { type: 'developer'; label: 'request' | 'response'; payload: unknown };

export const agentStatuses = ['answered', 'needs_approval', 'stopped', 'error'] as const;
export type AgentStatus = (typeof agentStatuses)[number];

/** The JSON of `iquery ask` with a model: issue 4's fields plus the agent's own. */
export interface AgentResult {
  status: AgentStatus;
  question: string;
  language: Language;
  /** The numbered plan the model stated, when it stated one. */
  plan: { steps: string[] } | null;
  /** The last SQL the turn ran. */
  sql: string | null;
  /** The last table the turn produced (SQL result or DataFrame shown), unmasked: it is the user's. */
  columns: string[];
  rows: SqlValue[][];
  truncated: boolean;
  answer: string;
  chart: AgentChart | null;
  analyst: 'agent';
  model: string;
  session: string;
  steps: AgentStep[];
  /** needs_approval: the code waiting, with what the checks found. */
  pending?: PendingCode[];
  /** needs_approval in expert mode: the plan waiting for review. */
  pendingPlan?: string[];
  /** Notes the model proposed to remember, waiting for the user's confirmation. */
  memoriesPending?: { id: string; note: string }[];
  usage: { turn: TokenUsage; session: TokenUsage };
  /** Chart and figure files of the turn, under `folder`. */
  files: string[];
  folder: string;
  error?: { code: string; message: string; hint?: string };
  /** Developer mode: every request and raw response. */
  trace?: unknown[];
  /** The model's reasoning behind the answer, when the server sends it (reasoning models). */
  reasoning?: string;
  /** answered: the answer's numbers checked against what the tools returned; `unsupported` ones no result backs. */
  numbers?: { checked: number; unsupported: string[] };
}

export interface AgentSettings {
  model: LanguageModel;
  source: DataSource;
  dictionary: Dictionary;
  home: string;
  sessionName: string;
  mode?: AgentMode;
  policy?: ApprovalPolicy;
  /** False: the model gets the schema and approved aggregates only, never data values. Default true. */
  sendValues?: boolean;
  approver?: Approver;
  /** Python without bubblewrap only when the user asked for it (--no-sandbox). Default true. */
  sandbox?: boolean;
  onEvent?: (event: AgentEvent) => void;
  /** Model calls per turn at most. Default 12. */
  maxSteps?: number;
  /** Failed tool calls in a row before the model must answer with what it has. Default 3. */
  maxRepairs?: number;
  today?: string;
  context?: ContextBudget;
  /** The `--data` the session runs on, recorded in reports for `iquery rerun`. */
  dataSpec?: string;
}

const emptyUsage = (): TokenUsage => ({ promptTokens: 0, completionTokens: 0, totalTokens: 0 });

function addUsage(target: TokenUsage, usage: TokenUsage | null): void {
  if (usage === null) return;
  target.promptTokens += usage.promptTokens;
  target.completionTokens += usage.completionTokens;
  target.totalTokens += usage.totalTokens;
}

/** What the turn produced so far, for the result. */
interface TurnState {
  turn: AgentTurnRecord;
  usage: TokenUsage;
  sql: string | null;
  table: { columns: string[]; rows: SqlValue[][]; truncated: boolean } | null;
  chart: AgentChart | null;
  files: string[];
  failuresInRow: number;
  runAll: boolean;
  memories: { id: string; note: string }[];
  trace: unknown[];
  reasoning: string;
}

type CallOutcome = 'done' | 'paused';

export class Agent {
  private readonly settings: AgentSettings & { mode: AgentMode; policy: ApprovalPolicy; sendValues: boolean; maxSteps: number; maxRepairs: number };
  private readonly record: AgentSessionRecord;
  private readonly toolbox: Toolbox;
  private readonly memory: MemoryStore;
  private readonly tables: TableInfo[];
  private readonly folder: string;
  private state: TurnState | undefined;
  /** Gives the session back for other processes (see claimAgentSession). */
  private readonly release: () => void;
  /** The code the turn paused at, with its findings. */
  private waiting: PendingCode | undefined;

  private constructor(settings: Agent['settings'], record: AgentSessionRecord, tables: TableInfo[], memory: MemoryStore, release: () => void) {
    this.release = release;
    this.settings = settings;
    this.record = record;
    this.tables = tables;
    this.memory = memory;
    this.folder = agentSessionFolder(settings.home, record.name);
    const salt = record.maskSalt ?? randomBytes(8).toString('hex');
    record.maskSalt = salt;
    this.toolbox = new Toolbox({
      source: settings.source,
      dictionary: settings.dictionary,
      tables,
      folder: this.folder,
      sessionName: record.name,
      sendValues: settings.sendValues,
      approveAll: settings.policy === 'yes',
      memory,
      maskSalt: salt,
      sandbox: settings.sandbox ?? true,
      ...(settings.approver === undefined ? {} : { approver: settings.approver }),
      question: () => this.state?.turn.question ?? '',
      writeReport: async (title, summary) => {
        const { writeAnalysisReport } = await import('../report/write-analysis-report.js');
        const turn = this.current().turn;
        const folder = join(this.folder, 'reports', new Date().toISOString().replace(/[:.]/g, '-'));
        const rendered = await writeAnalysisReport(
          { analyst: 'agent', record: this.record, sessionFolder: this.folder, turn: { ...turn, answer: turn.answer === '' ? summary ?? '' : turn.answer }, ...(summary === undefined ? {} : { narrative: summary }), ...(title === undefined ? {} : { title }) },
          { source: settings.source, dictionary: settings.dictionary, folder, ...(settings.dataSpec === undefined ? {} : { data: settings.dataSpec }) },
        );
        const unsupported = rendered.report.numbers.unsupported;
        return {
          folder: rendered.folder,
          files: rendered.files.map((file) => file.path),
          warnings: unsupported.length === 0 ? [] : [`unsupported numbers (flagged in the report, not found in any result): ${unsupported.join(', ')}`],
        };
      },
      onNote: (text) => this.emit({ type: 'note', text }),
      restoreFrames: record.turns.flatMap((turn) =>
        turn.steps.flatMap((step) => {
          const input = step.input as { sql?: unknown; name?: unknown } | null;
          return step.tool === 'load_data' && step.status === 'ok' && typeof input?.sql === 'string' && typeof input.name === 'string' ? [{ sql: input.sql, name: input.name }] : [];
        }),
      ),
    });
  }

  /** Opens (or starts) the named session on a source. */
  static async open(settings: AgentSettings): Promise<Agent> {
    const release = claimAgentSession(settings.home, settings.sessionName);
    let record: AgentSessionRecord;
    let tables: TableInfo[];
    let memory: MemoryStore;
    try {
      record = loadAgentSession(settings.home, settings.sessionName);
      tables = await settings.source.listTables();
      memory = MemoryStore.open(settings.home);
    } catch (error) {
      release();
      throw error;
    }
    record.data = settings.source.label;
    record.model = modelLabel(settings.model);
    return new Agent(
      { ...settings, mode: settings.mode ?? 'normal', policy: settings.policy ?? 'ask', sendValues: settings.sendValues ?? true, maxSteps: settings.maxSteps ?? 12, maxRepairs: settings.maxRepairs ?? 3 },
      record,
      tables,
      memory,
      release,
    );
  }

  get session(): AgentSessionRecord {
    return this.record;
  }

  private emit(event: AgentEvent): void {
    this.settings.onEvent?.(event);
  }

  private save(): void {
    saveAgentSession(this.settings.home, this.record);
  }

  /** Answers a question: a new turn. Code still waiting from an earlier turn is skipped. */
  async ask(question: string, signal?: AbortSignal): Promise<AgentResult> {
    if (this.record.pending.length > 0) {
      for (const call of this.record.pending) this.record.messages.push({ role: 'tool', toolCallId: call.id, name: call.tool, content: 'Not run: the user asked a new question instead.' });
      this.record.pending = [];
      this.markLastTurn('stopped');
    }
    const turn: AgentTurnRecord = { question, at: new Date().toISOString(), status: 'running', answer: '', plan: [], steps: [], analyst: 'agent' };
    this.record.turns.push(turn);
    this.record.stepsTaken = 0;
    this.state = this.newState(turn);
    this.record.messages.push({ role: 'user', content: question });
    this.save();
    return this.guarded(async () => {
      if (this.settings.mode === 'expert') {
        const planned = await this.reviewPlanFirst(signal);
        if (planned !== undefined) return planned;
      }
      return this.loop(signal);
    });
  }

  /**
   * Continues a turn that paused for approval: `approve` runs the waiting code (or accepts the
   * waiting plan), `reject` skips it; `edit` runs the given code instead.
   */
  async resume(decision: ApprovalDecision | { action: 'reject' }, signal?: AbortSignal): Promise<AgentResult> {
    const turn = this.record.turns.at(-1);
    const pendingPlan = this.record.pendingPlan;
    if (turn === undefined || (this.record.pending.length === 0 && pendingPlan === undefined)) {
      throw new IqueryError('usage', `Nothing in session "${this.record.name}" waits for approval.`, { hint: 'Ask a question instead: iquery ask --session NAME "…"' });
    }
    this.state = this.newState(turn);
    this.state.turn.steps = turn.steps;
    return this.guarded(async () => {
      if (pendingPlan !== undefined) {
        delete this.record.pendingPlan;
        if (decision.action === 'reject' || decision.action === 'skip') return this.finish('stopped', 'The plan was declined; nothing ran.');
        const plan = decision.action === 'edit' ? decision.code.split(/\r?\n/).map((line) => line.replace(/^\s*\d+\s*[.)、]\s*/, '').trim()).filter((line) => line !== '') : pendingPlan;
        this.adoptPlan(plan);
        return this.loop(signal);
      }
      const [first, ...rest] = this.record.pending;
      const message = [...this.record.messages].reverse().find((candidate) => candidate.role === 'assistant' && (candidate.toolCalls ?? []).some((call) => call.id === first?.id));
      if (first === undefined || message === undefined) throw new IqueryError('internal', 'The waiting code is missing from the session.');
      this.record.pending = [];
      const decided: ApprovalDecision = decision.action === 'reject' ? { action: 'skip', reason: 'the user declined it' } : decision;
      const calls = [first, ...rest].map((call): ToolCall => ({ id: call.id, name: call.tool, arguments: call.arguments }));
      if ((await this.handleCalls(calls, signal, decided)) === 'paused') return this.paused();
      return this.loop(signal);
    });
  }

  private newState(turn: AgentTurnRecord): TurnState {
    return { turn, usage: emptyUsage(), sql: null, table: null, chart: null, files: [], failuresInRow: 0, runAll: false, memories: [], trace: [], reasoning: '' };
  }

  /** Runs work; a failure of the system ends the turn with an error result, the session saved. */
  private async guarded(work: () => Promise<AgentResult>): Promise<AgentResult> {
    try {
      return await work();
    } catch (error) {
      this.record.messages = closeOpenToolCalls(this.record.messages, new Set(this.record.pending.map((call) => call.id)));
      const cancelled = (error instanceof Error && error.name === 'AbortError') || (error instanceof IqueryError && error.code === 'query_cancelled');
      if (cancelled) return this.finish('stopped', 'Stopped: you interrupted this step. The conversation is kept; ask again to go on.');
      const known = error instanceof IqueryError;
      const failure = {
        code: known ? error.code : 'internal',
        message: known ? error.message : `internal error: ${messageOf(error)}`,
        ...(known && error.hint !== undefined ? { hint: error.hint } : {}),
      };
      const result = this.finish('error', failure.message);
      result.error = failure;
      return result;
    }
  }

  private markLastTurn(status: string): void {
    const turn = this.record.turns.at(-1);
    if (turn !== undefined && (turn.status === 'running' || turn.status === 'needs_approval')) turn.status = status;
  }

  /** Expert mode: ask for a plan with tools off, and let the user review it before anything runs. */
  private async reviewPlanFirst(signal?: AbortSignal): Promise<AgentResult | undefined> {
    const messages = [...this.requestMessages(), { role: 'user' as const, content: planRequest }];
    const response = await this.callModel(messages, 'none', signal);
    const plan = readPlan(response.text);
    const steps = plan.length > 0 ? plan : response.text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
    this.emit({ type: 'plan', steps });
    if (this.settings.policy === 'yes') {
      this.adoptPlan(steps);
      return undefined;
    }
    const approver = this.settings.approver;
    if (approver?.reviewPlan === undefined) {
      this.record.pendingPlan = steps;
      const state = this.current();
      state.turn.plan = steps;
      return this.paused();
    }
    const reviewed = await approver.reviewPlan(steps);
    if (reviewed === null) return this.finish('stopped', 'The plan was declined; nothing ran.');
    this.adoptPlan(reviewed);
    return undefined;
  }

  /** The reviewed plan joins the turn's question, so the model carries out that plan and no other. */
  private adoptPlan(plan: readonly string[]): void {
    const state = this.current();
    state.turn.plan = [...plan];
    const question = [...this.record.messages].reverse().find((message) => message.role === 'user');
    if (question !== undefined && question.role === 'user') {
      question.content = `${question.content}\n\nCarry out this plan, reviewed by the user:\n${plan.map((step, index) => `${index + 1}. ${step}`).join('\n')}`;
    }
    this.save();
  }

  private current(): TurnState {
    if (this.state === undefined) throw new IqueryError('internal', 'No turn is in progress.');
    return this.state;
  }

  private requestMessages(extra?: string): ChatMessage[] {
    const prompt = systemPrompt({
      dialect: this.settings.source.dialect,
      dictionary: this.settings.dictionary,
      tables: this.tables,
      notes: this.memory.list({ status: 'saved' }),
      sendValues: this.settings.sendValues,
      today: this.settings.today ?? new Date().toISOString().slice(0, 10),
    });
    const history = fitContext(closeOpenToolCalls(this.record.messages), this.settings.context ?? defaultContextBudget);
    return [{ role: 'system', content: prompt }, ...history, ...(extra === undefined ? [] : [{ role: 'user' as const, content: extra }])];
  }

  /** One model call, with streaming events passed on and usage counted. A context overflow is retried once with less history. */
  private async callModel(messages: ChatMessage[], toolChoice: 'auto' | 'none', signal?: AbortSignal): Promise<ChatResponse> {
    const state = this.current();
    // Tools go with every request (the history holds tool calls); `none` forbids new calls.
    const request = { messages, tools: toolDefinitions(), toolChoice, ...(signal === undefined ? {} : { signal }) };
    if (this.settings.mode === 'developer') {
      state.trace.push({ request: { messages, toolChoice } });
      this.emit({ type: 'developer', label: 'request', payload: { messages, toolChoice } });
    }
    const onEvent = (event: Parameters<NonNullable<Parameters<LanguageModel['chat']>[0]['onEvent']>>[0]): void => {
      if (event.type === 'text-delta') this.emit({ type: 'text-delta', text: event.text });
      else if (event.type === 'reasoning-delta') this.emit({ type: 'reasoning-delta', text: event.text });
      else if (event.type === 'retry') this.emit({ type: 'retry', attempt: event.attempt, delayMs: event.delayMs, reason: event.reason });
    };
    let response: ChatResponse;
    try {
      response = await this.settings.model.chat({ ...request, onEvent });
    } catch (error) {
      if (!(error instanceof IqueryError) || error.code !== 'llm_context_overflow') throw error;
      this.emit({ type: 'note', text: 'the conversation is too long for the model: retrying with earlier turns summarised' });
      const system = messages[0];
      const compact = fitContext(closeOpenToolCalls(this.record.messages), { historyChars: 8_000, recentTurns: 1 });
      response = await this.settings.model.chat({ ...request, messages: [...(system === undefined ? [] : [system]), ...compact], onEvent });
    }
    addUsage(state.usage, response.usage);
    addUsage(this.record.usage, response.usage);
    if (this.settings.mode === 'developer') {
      state.trace.push({ response: response.raw });
      this.emit({ type: 'developer', label: 'response', payload: response.raw });
    }
    return response;
  }

  private async loop(signal?: AbortSignal): Promise<AgentResult> {
    const state = this.current();
    for (;;) {
      signal?.throwIfAborted();
      const outOfSteps = this.record.stepsTaken >= this.settings.maxSteps;
      const outOfRepairs = state.failuresInRow >= this.settings.maxRepairs;
      const stopNote = outOfSteps
        ? `You have used the ${this.settings.maxSteps} steps this question may take. Do not call tools; answer now with what you have found, and say what is missing.`
        : outOfRepairs
          ? `The last ${state.failuresInRow} tool calls failed. Do not call tools again; answer with what you have, and say what failed and why.`
          : undefined;
      const response = await this.callModel(this.requestMessages(stopNote), stopNote === undefined ? 'auto' : 'none', signal);
      this.record.stepsTaken++;
      const calls = stopNote === undefined ? response.toolCalls : [];
      const assistant: ChatMessage = { role: 'assistant', content: response.text === '' ? null : response.text, ...(calls.length > 0 ? { toolCalls: calls } : {}), ...(response.reasoning === '' ? {} : { reasoning: response.reasoning }) };
      this.record.messages.push(assistant);
      if (state.turn.plan.length === 0 && calls.length > 0) {
        const plan = readPlan(response.text);
        if (plan.length > 0) {
          state.turn.plan = plan;
          this.emit({ type: 'plan', steps: plan });
        }
      }
      this.save();
      if (calls.length === 0) {
        if (stopNote !== undefined && response.toolCalls.length > 0 && response.text.trim() === '') {
          const result = this.finish('error', `Stopped: ${outOfSteps ? `the step limit (${this.settings.maxSteps})` : `${state.failuresInRow} failed tool calls in a row`} was reached without an answer.`);
          result.error = { code: outOfSteps ? 'step_limit' : 'repair_limit', message: result.answer, hint: 'Ask a narrower question, or look at the steps to see what failed.' };
          return result;
        }
        state.reasoning = response.reasoning;
        return this.finish('answered', response.text.trim());
      }
      if ((await this.handleCalls(calls, signal)) === 'paused') return this.paused();
    }
  }

  /** Runs the calls of one assistant message in order; pauses at code that needs approval nobody can give. */
  private async handleCalls(calls: readonly ToolCall[], signal: AbortSignal | undefined, firstDecision?: ApprovalDecision): Promise<CallOutcome> {
    for (const [index, call] of calls.entries()) {
      const outcome = await this.handleCall(call, index === 0 ? firstDecision : undefined, signal);
      if (outcome === 'paused') {
        this.record.pending = calls.slice(index).map((pending) => ({ id: pending.id, tool: pending.name, arguments: pending.arguments }));
        if (this.waiting !== undefined) this.record.pending[0] = { ...this.record.pending[0]!, code: this.waiting };
        this.save();
        return 'paused';
      }
    }
    return 'done';
  }

  private async handleCall(call: ToolCall, decision: ApprovalDecision | undefined, signal: AbortSignal | undefined): Promise<CallOutcome> {
    const state = this.current();
    const prepared = await this.toolbox.prepare(call.id, call.name, call.arguments);
    const inputOf = (): unknown => {
      try {
        return JSON.parse(call.arguments);
      } catch {
        return call.arguments;
      }
    };
    if (prepared.kind === 'invalid') {
      this.recordStep(call, inputOf(), prepared.result);
      return 'done';
    }
    let args = prepared.args;
    let approval: ApprovalSource = 'not_needed';
    const pending = prepared.pending;
    if (pending !== undefined) {
      this.emit({ type: 'code', pending });
      let choice = decision;
      if (choice === undefined && policyAllows(this.settings.policy, pending, state.runAll)) {
        approval = this.settings.policy === 'auto-sql' && !state.runAll ? 'policy' : 'yes';
      } else {
        if (choice === undefined) {
          const approver = this.settings.approver;
          if (approver === undefined) {
            this.recordPendingStep(call, inputOf(), pending.findings);
            this.waiting = pending;
            return 'paused';
          }
          this.emit({ type: 'approval-request', pending });
          choice = await approver.approveCode(pending);
        }
        if (choice.action === 'skip') {
          this.recordStep(call, inputOf(), {
            status: 'ok',
            forModel: `The user chose not to run this${choice.reason === undefined ? '' : ` (${choice.reason})`}. Do not run it again; go on without it, or answer with what you have.`,
            summary: 'skipped by the user',
          }, 'skipped');
          return 'done';
        }
        if (choice.action === 'run_all') state.runAll = true;
        approval = 'user';
        if (choice.action === 'edit') {
          // Edited code is checked again: the guard and the protection rules hold for the user's code too.
          const key = pending.language === 'sql' ? 'sql' : 'code';
          const edited = await this.toolbox.prepare(call.id, call.name, JSON.stringify({ ...args, [key]: choice.code }));
          if (edited.kind === 'invalid') {
            this.recordStep(call, { ...args, [key]: choice.code }, edited.result);
            return 'done';
          }
          args = edited.args;
          approval = 'edited';
        }
      }
    }
    const result = await this.toolbox.run(call.name as AgentToolName, args, signal);
    this.recordStep(call, args, result, undefined, approval);
    return 'done';
  }

  private recordPendingStep(call: ToolCall, input: unknown, findings: readonly CodeFinding[]): void {
    const state = this.current();
    const step: AgentStep = { index: state.turn.steps.length + 1, tool: call.name, input, status: 'pending', output: `waiting for approval${findings.length > 0 ? ` (${findings.map((finding) => finding.message).join('; ')})` : ''}`, at: new Date().toISOString() };
    state.turn.steps.push(step);
    this.emit({ type: 'step', step });
  }

  private recordStep(call: ToolCall, input: unknown, result: ToolRunResult, status?: AgentStep['status'], approval?: ApprovalSource): void {
    const state = this.current();
    // A step that waited for approval is replaced by how it ended.
    const waiting = state.turn.steps.findIndex((step) => step.status === 'pending' && step.tool === call.name);
    if (waiting >= 0) state.turn.steps.splice(waiting, 1);
    const step: AgentStep = {
      index: state.turn.steps.length + 1,
      tool: call.name,
      input,
      status: status ?? result.status,
      output: result.summary,
      ...(approval === undefined ? {} : { approval }),
      ...(result.rows === undefined ? {} : { rows: result.rows }),
      ...(result.truncated === undefined ? {} : { truncated: result.truncated }),
      ...(result.files === undefined || result.files.length === 0 ? {} : { files: result.files }),
      at: new Date().toISOString(),
    };
    state.turn.steps.push(step);
    this.record.messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: result.forModel });
    state.failuresInRow = result.status === 'ok' ? 0 : state.failuresInRow + 1;
    if (result.sql !== undefined) state.sql = result.sql;
    if (result.table !== undefined) {
      state.table = result.table;
      this.emit({ type: 'table', ...result.table });
    }
    if (result.chart !== undefined) {
      state.chart = result.chart;
      this.emit({ type: 'chart', chart: result.chart });
    }
    if (result.files !== undefined) state.files.push(...result.files);
    if (call.name === 'remember' && result.summary.startsWith('pending')) {
      const id = /\((m-[^)]+)\)/.exec(result.summary)?.[1];
      const note = (input as { note?: unknown }).note;
      if (id !== undefined && typeof note === 'string') state.memories.push({ id, note });
    }
    this.emit({ type: 'step', step, result });
    this.save();
  }

  private paused(): AgentResult {
    const result = this.finish('needs_approval', '');
    return result;
  }

  /** Ends (or pauses) the turn: records it, saves, and builds the result. */
  private finish(status: AgentStatus, answer: string): AgentResult {
    const state = this.current();
    state.turn.status = status;
    state.turn.answer = answer;
    state.turn.sql = state.sql;
    if (state.table !== null) state.turn.table = { columns: state.table.columns, rows: state.table.rows.slice(0, storedRows), truncated: state.table.truncated || state.table.rows.length > storedRows, rowCount: state.table.rows.length };
    state.turn.files = [...(state.turn.files ?? []), ...state.files.filter((file) => !(state.turn.files ?? []).includes(file))];
    state.turn.usage = { ...state.usage };
    // A model asked of the server is known only after the first call.
    this.record.model = modelLabel(this.settings.model);
    this.save();
    const pendingPlan = this.record.pendingPlan;
    const result: AgentResult = {
      status,
      question: state.turn.question,
      language: detectLanguage(state.turn.question),
      plan: state.turn.plan.length > 0 ? { steps: state.turn.plan } : null,
      sql: state.sql,
      columns: state.table?.columns ?? [],
      rows: state.table?.rows ?? [],
      truncated: state.table?.truncated ?? false,
      answer: status === 'needs_approval' ? this.waitingText(pendingPlan) : answer,
      chart: state.chart,
      analyst: 'agent',
      model: modelLabel(this.settings.model),
      session: this.record.name,
      steps: state.turn.steps,
      usage: { turn: { ...state.usage }, session: { ...this.record.usage } },
      files: state.files,
      folder: this.folder,
    };
    if (status === 'needs_approval') {
      if (pendingPlan !== undefined) result.pendingPlan = pendingPlan;
      else result.pending = this.pendingCode();
    }
    if (state.memories.length > 0) result.memoriesPending = state.memories;
    if (this.settings.mode === 'developer') result.trace = state.trace;
    if (state.reasoning !== '') result.reasoning = state.reasoning;
    if (status === 'answered') {
      const code = state.turn.steps.flatMap((step) => {
        const input = step.input as { sql?: unknown; code?: unknown } | null;
        return [input?.sql, input?.code].filter((text): text is string => typeof text === 'string');
      });
      const tables = state.table === null ? [] : [{ columns: state.table.columns, rows: state.table.rows }];
      const checked = checkNumbers(answer, tables, { outputs: toolOutputsOfTurn(this.record), given: [state.turn.question, ...code] });
      result.numbers = { checked: checked.checked, unsupported: checked.unsupported };
    }
    return result;
  }

  private waitingText(pendingPlan: string[] | undefined): string {
    const resume = `iquery ask --session ${this.record.name} --approve (or --reject)`;
    return pendingPlan !== undefined ? `The plan waits for your review: ${resume}.` : `Code waits for your approval before it runs: ${resume}, or run with -y.`;
  }

  /** The code waiting for approval, as the user must see it. */
  private pendingCode(): PendingCode[] {
    const code = this.record.pending[0]?.code;
    return code === undefined ? [] : [code];
  }

  /** Where the session keeps its files. */
  get sessionFolder(): string {
    return this.folder;
  }

  /** The Python workspace of this process's kernel, when Python ran. */
  get workspace(): string | undefined {
    return this.toolbox.pythonSession?.workspace;
  }

  async close(): Promise<void> {
    try {
      await this.toolbox.close();
    } finally {
      this.release();
    }
  }
}

