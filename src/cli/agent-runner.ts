/**
 * The command line's side of the agent: which model (flags, environment, config file), which policy
 * and mode, who approves (a prompt at a terminal, nobody in a pipe), and how the work is shown.
 */
import type { Command } from 'commander';
import type { Agent, AgentEvent, AgentMode, AgentResult } from '../agent/agent.js';
import { agentModes } from '../agent/agent.js';
import { approvalPolicies, type ApprovalPolicy } from '../agent/approval.js';
import { newSessionName } from '../agent/session-store.js';
import { readConfig } from '../config/config-file.js';
import { iqueryHome } from '../config/home.js';
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError } from '../errors.js';
import { resolveLlmSettings, type LlmSettings } from '../llm/llm-settings.js';
import type { DataSource } from '../sources/source.js';
import { numberFlag } from './number-flag.js';
import { printLine, printNote } from './output.js';
import { formatCell, renderTable } from './render-table.js';
import { LineReader } from './line-reader.js';
import { showPendingCode, TerminalApprover } from './terminal-approver.js';

/** The agent's flags, shared by `ask` and `chat`. */
export interface AgentFlags {
  llmBaseUrl?: string;
  llmApiKey?: string;
  llmModel?: string;
  llmProvider?: string;
  yes?: boolean;
  approval?: string;
  mode?: string;
  schemaOnly?: boolean;
  sandbox: boolean;
  maxSteps?: number;
}

export interface AgentChoices {
  policy: ApprovalPolicy;
  mode: AgentMode;
  sendValues: boolean;
}

/** The agent's flags on a command (`ask`, `chat`). */
export function addAgentOptions(command: Command): Command {
  return command
    .option('--llm-provider <name>', 'a model preset: openai, deepseek, qwen, glm, kimi, ollama, vllm, llamacpp')
    .option('--llm-base-url <url>', 'an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1')
    .option('--llm-api-key <key>', 'the API key (better: IQUERY_LLM_API_KEY)')
    .option('--llm-model <name>', 'the model name')
    .option('-y, --yes', 'run the model\'s SQL and Python without asking')
    .option('--approval <policy>', 'ask (default), auto-sql (guarded SQL runs, Python asks) or yes')
    .option('--mode <mode>', 'normal (default), expert (review the plan first) or developer (every prompt and response)')
    .option('--schema-only', 'send the model no data values: only the schema and aggregates you approve')
    .option('--max-steps <n>', 'model calls per question at most (default 12)', numberFlag('--max-steps', 'positive whole number'))
    .option('--no-sandbox', 'run Python WITHOUT isolation (a warning is printed every time)');
}

/** The model to use, or undefined when none is configured anywhere (the offline analyst answers then). */
export function chosenModel(flags: AgentFlags): LlmSettings | undefined {
  return resolveLlmSettings({
    ...(flags.llmBaseUrl === undefined ? {} : { llmBaseUrl: flags.llmBaseUrl }),
    ...(flags.llmApiKey === undefined ? {} : { llmApiKey: flags.llmApiKey }),
    ...(flags.llmModel === undefined ? {} : { llmModel: flags.llmModel }),
    ...(flags.llmProvider === undefined ? {} : { llmProvider: flags.llmProvider }),
  });
}

/** Policy, mode and privacy: flags first, then the config file's `agent:` section, then the defaults (ask, normal, values sent). */
export function agentChoices(flags: AgentFlags): AgentChoices {
  const config = readConfig(iqueryHome()).agent ?? {};
  const approval = flags.yes === true ? 'yes' : flags.approval ?? config.approval ?? 'ask';
  if (!(approvalPolicies as readonly string[]).includes(approval)) {
    throw new IqueryError('usage', `--approval ${approval} is not a policy.`, { hint: `Use one of: ${approvalPolicies.join(', ')}.` });
  }
  const mode = flags.mode ?? config.mode ?? 'normal';
  if (!(agentModes as readonly string[]).includes(mode)) {
    throw new IqueryError('usage', `--mode ${mode} is not a mode.`, { hint: `Use one of: ${agentModes.join(', ')}.` });
  }
  const sendValues = flags.schemaOnly === true ? false : config.send_values ?? true;
  return { policy: approval as ApprovalPolicy, mode: mode as AgentMode, sendValues };
}

export function sessionNameFor(given: string | undefined): string {
  return given ?? newSessionName();
}

/** Someone can answer prompts: a terminal on both ends and no machine output asked for. */
export function canPrompt(json: boolean | undefined): boolean {
  return json !== true && process.stdin.isTTY === true && process.stderr.isTTY === true;
}

export interface OpenedAgent {
  agent: Agent;
  /** The terminal's input, when prompts can be answered; close it when done. */
  lines: LineReader | undefined;
}

/**
 * Opens the agent on a session. Prompts are answered on `options.lines` when given (chat), else on a
 * terminal when there is one; with neither, code waits for approval.
 */
export async function openAgent(
  source: DataSource,
  dictionary: Dictionary,
  settings: LlmSettings,
  options: { flags: AgentFlags; session: string; json: boolean | undefined; today?: string; onEvent?: (event: AgentEvent) => void; lines?: LineReader; codeShownByEvents?: boolean; data?: string },
): Promise<OpenedAgent> {
  const [{ Agent }, { createLanguageModel }] = await Promise.all([import('../agent/agent.js'), import('../llm/openai-compatible.js')]);
  const choices = agentChoices(options.flags);
  const lines = options.lines ?? (canPrompt(options.json) ? new LineReader() : undefined);
  // Code is shown once: by the event printer when it shows every statement, else with the prompt.
  const showCode = options.codeShownByEvents !== true && choices.mode === 'normal';
  const approver = lines === undefined ? undefined : new TerminalApprover(lines, { showCode });
  const agent = await Agent.open({
    model: createLanguageModel(settings),
    source,
    dictionary,
    home: iqueryHome(),
    sessionName: options.session,
    mode: choices.mode,
    policy: choices.policy,
    sendValues: choices.sendValues,
    sandbox: options.flags.sandbox,
    ...(approver === undefined ? {} : { approver }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    ...(options.flags.maxSteps === undefined ? {} : { maxSteps: options.flags.maxSteps }),
    ...(options.today === undefined ? {} : { today: options.today }),
    ...(options.data === undefined ? {} : { dataSpec: options.data }),
  });
  return { agent, lines };
}

/** Shows the work on stderr as it happens: compact in normal mode, everything in developer mode. */
export function eventPrinter(mode: AgentMode, options: { streamText: boolean; showCode?: boolean }): (event: AgentEvent) => void {
  return (event) => {
    switch (event.type) {
      case 'plan':
        printNote(`plan:\n${event.steps.map((step, index) => `  ${index + 1}. ${step}`).join('\n')}`);
        return;
      case 'text-delta':
        if (options.streamText) process.stdout.write(event.text);
        return;
      case 'reasoning-delta':
        if (mode === 'developer') process.stderr.write(event.text);
        return;
      case 'code':
        if (mode !== 'normal' || options.showCode === true) showPendingCode(event.pending);
        return;
      case 'step':
        printNote(`▸ ${event.step.tool}${event.step.status === 'ok' ? '' : ` [${event.step.status}]`}: ${mode === 'normal' ? (event.step.output.split('\n')[0] ?? '').slice(0, 200) : event.step.output}`);
        return;
      case 'retry':
        printNote(`(the model server said ${event.reason}; retry ${event.attempt} in ${Math.round(event.delayMs / 100) / 10} s)`);
        return;
      case 'note':
        printNote(`(${event.text})`);
        return;
      case 'developer':
        printNote(`── ${event.label} ──\n${JSON.stringify(event.payload, null, 1)}`);
        return;
      default:
        return;
    }
  };
}

/** The result for a person: the answer, the last table, the files, and how to go on. */
export function printAgentResult(result: AgentResult, options: { answerStreamed: boolean }): void {
  if (!options.answerStreamed || result.status !== 'answered') printLine(result.answer);
  else printLine();
  if (result.status === 'needs_approval') {
    for (const pending of result.pending ?? []) showPendingCode(pending);
    if (result.pendingPlan !== undefined) printNote(result.pendingPlan.map((step, index) => `  ${index + 1}. ${step}`).join('\n'));
  }
  if (result.columns.length > 0 && result.status === 'answered') {
    printLine();
    printLine(renderTable(result.columns, result.rows.slice(0, 20).map((row) => row.map(formatCell))));
    if (result.rows.length > 20) printLine(`(first 20 of ${result.rows.length} rows)`);
  }
  if (result.numbers !== undefined && result.numbers.unsupported.length > 0) printNote(`⚠ numbers in the answer that no result supports: ${result.numbers.unsupported.join(', ')} (check them before relying on them)`);
  for (const file of result.files) printNote(`file: ${result.folder}/${file}`);
  for (const memory of result.memoriesPending ?? []) printNote(`to remember (not saved until you confirm): ${memory.note}\n  iquery memory confirm ${memory.id}`);
  if (result.error?.hint !== undefined) printNote(`hint: ${result.error.hint}`);
  printNote(`(${result.status === 'answered' ? 'answered by ' : ''}${result.model}; session ${result.session}; ${result.usage.turn.totalTokens} tokens)`);
}
