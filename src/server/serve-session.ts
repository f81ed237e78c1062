/**
 * One HTTP session: its own agent (or offline conversation), its own folder with its uploads, and at
 * most one piece of work at a time (a message or an upload). A failure inside a message ends that
 * message with an `error` event; the session, and every other session, goes on.
 *
 * The session's folder is the agent's session folder (IQUERY_HOME/agent/<id>/): the agent writes its
 * charts, figures and reports there, and uploads go to `uploads/` beside them. Once the session has
 * uploads, its questions run on them alone (a DuckDB source over the uploads folder, with a
 * dictionary drafted from it), never on the server's data.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent, AgentResult } from '../agent/agent.js';
import type { AskResult, OfflineAnalyst } from '../analyst/analyst.js';
import { contextOf, recordTurn, type Conversation } from '../analyst/conversations.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import type { LlmSettings } from '../llm/llm-settings.js';
import { openSource } from '../sources/open-source.js';
import type { DataSource } from '../sources/source.js';
import { EventQueue } from './event-queue.js';
import { HttpApprover, type HttpDecision } from './http-approver.js';
import { maxStreamedRows, type ServeSettings, type SessionSummary, type SessionView, type StreamEvent, type TurnView } from './server.js';
import { listSessionFiles, resolveSessionFile, uploadTarget, uploadsFolderName, type SessionFile } from './session-files.js';
import { writeAnalysisReport, type AnalysisToReport } from '../report/write-analysis-report.js';
import { agentResultEvents, agentTurn, errorView, offlineResultEvents, offlineTurn, streamEventOf } from './stream-events.js';

/** A message being answered: its events until `done`, and a way to stop it. */
export interface RunningMessage {
  events: AsyncIterable<StreamEvent>;
  /** Stops the work (the agent ends the turn as `stopped`); `done` still comes. */
  stop(): void;
  /** Settles (never rejects) once `done` was sent. */
  finished: Promise<void>;
}

export interface UploadResult {
  name: string;
  bytes: number;
  table: string;
}

const titleLength = 60;

export class ServeSession {
  readonly id: string;
  readonly createdAt: string;
  /** The session's folder (the agent's session folder). */
  readonly folder: string;
  private readonly settings: ServeSettings;
  private readonly turns: TurnView[] = [];
  private readonly approver = new HttpApprover();
  private dictionary: Dictionary;
  private uploads: DataSource | undefined;
  private agent: Agent | undefined;
  private offline: OfflineAnalyst | undefined;
  private conversation: Conversation;
  /** The message or upload under way. */
  private work: { finished: Promise<unknown>; stop: () => void } | undefined;
  /** Where the running message's events go. */
  private emit: ((event: StreamEvent) => void) | undefined;
  private closed = false;
  /** The offline analyst's last answer, for its report. */
  private lastOffline: AskResult | undefined;

  constructor(id: string, settings: ServeSettings) {
    this.id = id;
    this.createdAt = new Date().toISOString();
    this.settings = settings;
    this.folder = join(settings.home, 'agent', id);
    this.dictionary = settings.dictionary.dictionary;
    this.conversation = { name: id, turns: [] };
  }

  /** True while a message or an upload runs. */
  get busy(): boolean {
    return this.work !== undefined;
  }

  /** The data the session's questions run on. */
  /** What `iquery rerun` opens for this session's reports: its uploads folder once it has uploads, else the server's data. */
  private get dataSpec(): string | undefined {
    return this.uploads !== undefined ? join(this.folder, uploadsFolderName) : this.settings.dataSpec;
  }

  get source(): DataSource {
    return this.uploads ?? this.settings.source;
  }

  summary(): SessionSummary {
    return { id: this.id, createdAt: this.createdAt, title: this.title(), turns: this.turns.length };
  }

  view(): SessionView {
    return { id: this.id, createdAt: this.createdAt, title: this.title(), turns: this.turns.map((turn) => ({ ...turn })) };
  }

  private title(): string {
    const first = this.turns[0]?.question.trim();
    if (first === undefined || first === '') return 'New session';
    return first.length > titleLength ? `${first.slice(0, titleLength - 1)}…` : first;
  }

  /**
   * Starts answering a question, with the agent when the server has a model and `offline` is not
   * asked for, else with the offline analyst. Returns undefined when the session is busy.
   */
  startMessage(question: string, options: { offline: boolean }): RunningMessage | undefined {
    if (this.work !== undefined || this.closed) return undefined;
    const queue = new EventQueue<StreamEvent>();
    const controller = new AbortController();
    const emit = (event: StreamEvent): void => queue.push(event);
    const finished = this.answer(question, options.offline, emit, controller.signal)
      .then((status) => emit({ type: 'done', data: { status } }))
      .finally(() => {
        queue.end();
        this.work = undefined;
      });
    this.work = { finished, stop: () => controller.abort() };
    return { events: queue, stop: () => controller.abort(), finished };
  }

  /** Answers the request (code, sharing or plan) with this id; see `HttpApprover.answer`. */
  answerApproval(id: string, decision: HttpDecision): 'answered' | 'unknown' | 'mismatch' {
    return this.approver.answer(id, decision);
  }

  /** Runs one message; resolves to the status `done` reports, never rejects. */
  private async answer(question: string, offline: boolean, emit: (event: StreamEvent) => void, signal: AbortSignal): Promise<string> {
    const model = offline ? undefined : this.settings.model;
    const turn: TurnView = { question, status: 'running', answer: '', analyst: model === undefined ? 'offline' : 'agent', steps: [], sql: null, files: [] };
    this.turns.push(turn);
    try {
      if (model === undefined) return this.finishOffline(turn, await this.askOffline(question, signal), emit);
      const agent = await this.openAgent(model);
      this.emit = emit;
      this.approver.attach(emit, signal);
      let result: AgentResult;
      try {
        result = await agent.ask(question, signal);
      } finally {
        this.approver.detach();
        this.emit = undefined;
      }
      if (result.status === 'error' && result.error?.code === 'llm_unreachable' && result.steps.length === 0) {
        // The model is down: the offline analyst answers, and the result says so (as `iquery ask` does).
        emit({ type: 'output', data: { kind: 'note', text: `the model could not be reached (${result.error.message}); the offline analyst answers instead` } });
        const fallback = await this.askOffline(question, signal);
        return this.finishOffline(turn, { ...fallback, fallback: { from: result.model, reason: result.error.message } }, emit);
      }
      Object.assign(turn, agentTurn(result));
      for (const event of agentResultEvents(result)) emit(event);
      return result.status;
    } catch (error) {
      const failure = errorView(error);
      Object.assign(turn, { status: 'error', answer: failure.message });
      emit({ type: 'error', data: failure });
      // An agent that failed outside its own error handling is not trusted with the next message.
      if (!(error instanceof IqueryError)) await this.dropAgent();
      return 'error';
    }
  }

  private finishOffline(turn: TurnView, result: AskResult & { fallback?: unknown }, emit: (event: StreamEvent) => void): string {
    Object.assign(turn, offlineTurn(result));
    if (result.status === 'answered') this.lastOffline = result;
    for (const event of offlineResultEvents(result)) emit(event);
    return result.status;
  }

  private async askOffline(question: string, signal: AbortSignal): Promise<AskResult> {
    if (this.offline === undefined) {
      const { OfflineAnalyst } = await import('../analyst/analyst.js');
      this.offline = await OfflineAnalyst.create(this.source, this.dictionary, this.settings.today === undefined ? {} : { today: this.settings.today });
    }
    const result = await this.offline.ask(question, { previous: contextOf(this.conversation), signal, maxRows: maxStreamedRows });
    recordTurn(this.conversation, result);
    return result;
  }

  private async openAgent(model: LlmSettings): Promise<Agent> {
    if (this.agent !== undefined) return this.agent;
    const [{ Agent }, { createLanguageModel }] = await Promise.all([import('../agent/agent.js'), import('../llm/openai-compatible.js')]);
    const choices = this.settings.agent;
    this.agent = await Agent.open({
      model: createLanguageModel(model),
      source: this.source,
      dictionary: this.dictionary,
      home: this.settings.home,
      sessionName: this.id,
      mode: choices.mode,
      policy: choices.policy,
      sendValues: choices.sendValues,
      sandbox: choices.sandbox,
      approver: this.approver,
      onEvent: (event) => {
        const streamed = streamEventOf(event);
        if (streamed !== undefined) this.emit?.(streamed);
      },
      ...(choices.maxSteps === undefined ? {} : { maxSteps: choices.maxSteps }),
      ...(this.dataSpec === undefined ? {} : { dataSpec: this.dataSpec }),
      ...(this.settings.today === undefined ? {} : { today: this.settings.today }),
    });
    return this.agent;
  }

  /** Closes the agent (its Python kernel, its claim on the session); the next message opens it again. */
  private async dropAgent(): Promise<void> {
    const agent = this.agent;
    this.agent = undefined;
    // A failure to close is not the user's problem; the kernel process is gone either way.
    await agent?.close().catch(() => undefined);
  }

  /**
   * Stores an upload and makes the session's questions run on its uploads. Returns undefined when
   * the session is busy. Throws `bad_input` for a file type iquery cannot load or a file that does
   * not load (nothing is changed then).
   */
  upload(fileName: string, bytes: Uint8Array): Promise<UploadResult> | undefined {
    const target = uploadTarget(fileName);
    if (this.work !== undefined || this.closed) return undefined;
    const finished = this.storeUpload(target, bytes).finally(() => {
      this.work = undefined;
    });
    this.work = { finished: finished.catch(() => undefined), stop: () => undefined };
    return finished;
  }

  private async storeUpload(target: { name: string; table: string }, bytes: Uint8Array): Promise<UploadResult> {
    const folder = join(this.folder, uploadsFolderName);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const path = join(folder, target.name);
    // A file of the same name is kept aside (hidden: the loader skips it) until the new one loads.
    const previous = join(folder, `.${target.name}.previous`);
    const replacing = existsSync(path);
    if (replacing) renameSync(path, previous);
    writeFileSync(path, bytes, { mode: 0o600 });
    let source: DataSource;
    try {
      source = await openSource(folder, { home: this.settings.home });
    } catch (error) {
      rmSync(path, { force: true });
      if (replacing) renameSync(previous, path);
      if (error instanceof IqueryError && error.code === 'bad_input') throw error;
      throw new IqueryError('bad_input', `${target.name} could not be loaded: ${messageOf(error)}`, { hint: 'Check that the file is well-formed (a header row for CSV), or export it again.', cause: error });
    }
    rmSync(previous, { force: true });
    const { draftDictionary } = await import('../dictionary/draft-dictionary.js');
    let dictionary: Dictionary;
    try {
      dictionary = await draftDictionary(source);
    } catch (error) {
      await source.close();
      throw error;
    }
    await this.dropAgent();
    await this.uploads?.close();
    this.uploads = source;
    this.dictionary = dictionary;
    // The offline analyst's follow-up context named the old tables.
    this.offline = undefined;
    this.conversation = { name: this.id, turns: [] };
    return { name: target.name, bytes: bytes.byteLength, table: target.table };
  }

  files(): SessionFile[] {
    return listSessionFiles(this.folder);
  }

  /** A file of the session's folder; see `resolveSessionFile` for what is refused. */
  file(relative: string): ReturnType<typeof resolveSessionFile> {
    return resolveSessionFile(this.folder, relative);
  }

  /**
   * Writes the analysis report of the last finished turn into `reports/<time>/` (report.json, .md,
   * .html, and .pdf when Chromium is there); undefined when no turn has finished.
   */
  async writeReport(): Promise<{ path: string; format: 'markdown'; files: string[]; warnings: string[] } | undefined> {
    const turn = this.turns.findLast((candidate) => candidate.status !== 'running');
    if (turn === undefined) return undefined;
    const record = this.agent?.session;
    const analysis: AnalysisToReport | undefined =
      turn.analyst === 'offline' || this.lastOffline?.question === turn.question
        ? this.lastOffline === undefined ? undefined : { analyst: 'offline', result: this.lastOffline }
        : record === undefined || record.turns.length === 0 ? undefined : { analyst: 'agent', record, sessionFolder: this.folder };
    if (analysis === undefined) return undefined;
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const data = this.dataSpec;
    const rendered = await writeAnalysisReport(analysis, { source: this.source, dictionary: this.dictionary, folder: join(this.folder, 'reports', stamp), ...(data === undefined ? {} : { data }) });
    const relative = (path: string): string => path.slice(this.folder.length + 1);
    const markdown = rendered.files.find((file) => file.format === 'markdown');
    return { path: relative(markdown?.path ?? rendered.folder), format: 'markdown', files: rendered.files.map((file) => relative(file.path)), warnings: rendered.warnings };
  }

  /** Stops the work under way, waits for it, and closes the agent and the uploads' source. */
  async close(): Promise<void> {
    this.closed = true;
    const work = this.work;
    work?.stop();
    await work?.finished.catch(() => undefined);
    await this.dropAgent();
    const uploads = this.uploads;
    this.uploads = undefined;
    await uploads?.close().catch(() => undefined);
  }
}
