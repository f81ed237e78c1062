import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Agent, AgentMode, AgentResult } from '../../agent/agent.js';
import { agentModes } from '../../agent/agent.js';
import { renderSessionReport } from '../../agent/session-report.js';
import { renderChartSvg, type ChartToDraw } from '../../charts/render-chart.js';
import { writeAnalysisReport, type AnalysisToReport } from '../../report/write-analysis-report.js';
import { agentSessionFolder, loadAgentSession, saveAgentSession, type AgentTurnRecord } from '../../agent/session-store.js';
import type { AskResult } from '../../analyst/analyst.js';
import { contextOf, loadConversation, recordTurn, saveConversation } from '../../analyst/conversations.js';
import { dictionaryFor, openAnalyst } from '../../analyst/open-analyst.js';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import type { Dictionary } from '../../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../../errors.js';
import type { SqlValue } from '../../sources/source.js';
import { addAgentOptions, agentChoices, chosenModel, eventPrinter, openAgent, printAgentResult, sessionNameFor, type AgentFlags } from '../agent-runner.js';
import { LineReader } from '../line-reader.js';
import { withData } from '../open-data.js';
import { printLine, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';
import { Spinner } from '../spinner.js';

interface ChatOptions extends AgentFlags {
  session?: string;
  open?: boolean;
}

type ChatLanguage = 'en' | 'zh';

/** The chat's own words, in both languages (answers follow the question's language by themselves). */
const messages = {
  help: {
    en: `Ask a question in Chinese or English. Commands:
  /tables          list the tables
  /dict            the data dictionary: tables, columns and metrics
  /mode [MODE]     show or switch the mode: normal, expert (review the plan first), developer
  /report [DIR]    write the report of the last analysis (Markdown, HTML, PDF)
  /save [FILE]     save the last table (.csv, .json) or the conversation (.md)
  /reset           start a new conversation
  /help            this help
  /exit            leave (Ctrl-D works too)
Ctrl-C stops the running step, not the chat.`,
    zh: `用中文或英文提问。命令：
  /tables          列出数据表
  /dict            数据字典：表、字段和指标
  /mode [模式]      查看或切换模式：normal、expert（先审阅计划）、developer
  /report [目录]    把最近一次分析写成报告（Markdown、HTML、PDF）
  /save [文件]      保存最后一张表（.csv、.json）或对话（.md）
  /reset           开始新的对话
  /help            显示本帮助
  /exit            退出（也可按 Ctrl-D）
Ctrl-C 只中断正在运行的步骤，不会退出对话。`,
  },
  offline: { en: '(offline analyst: no model is configured)', zh: '（离线分析器：未配置模型）' },
  session: { en: (name: string) => `(session ${name}; /help for commands)`, zh: (name: string) => `（会话 ${name}；输入 /help 查看命令）` },
  newSession: { en: (name: string) => `(new conversation: session ${name})`, zh: (name: string) => `（新对话：会话 ${name}）` },
  unknown: { en: (word: string) => `Unknown command ${word}; /help lists them.`, zh: (word: string) => `没有命令 ${word}；输入 /help 查看。` },
  mode: { en: (mode: string) => `(mode: ${mode})`, zh: (mode: string) => `（模式：${mode}）` },
  badMode: { en: `Modes: ${agentModes.join(', ')}.`, zh: `模式：${agentModes.join('、')}。` },
  noTable: { en: 'There is no table to save yet.', zh: '还没有可保存的表。' },
  saved: { en: (path: string) => `(saved ${path})`, zh: (path: string) => `（已保存 ${path}）` },
  thinking: { en: 'thinking…', zh: '思考中…' },
  writingReport: { en: 'writing the report…', zh: '正在写报告…' },
  noReport: { en: 'Ask a question first; the report describes its analysis.', zh: '请先提一个问题；报告描述的是它的分析过程。' },
  chart: { en: (path: string) => `(chart: ${path})`, zh: (path: string) => `（图表：${path}）` },
  running: { en: (tool: string) => `running ${tool}…`, zh: (tool: string) => `正在运行 ${tool}…` },
  modeOffline: { en: 'Modes apply to the agent; no model is configured.', zh: '模式只用于智能体；当前没有配置模型。' },
} as const;

function chatLanguage(): ChatLanguage {
  const locale = process.env['LC_ALL'] ?? process.env['LC_MESSAGES'] ?? process.env['LANG'] ?? '';
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Opens a file with the desktop's viewer, when there is one; silently nothing otherwise. */
function openFile(path: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const child = spawn(opener, [path], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}

function dictionarySummary(dictionary: Dictionary): string {
  const lines: string[] = [`${dictionary.name} (version ${dictionary.version})`];
  for (const table of dictionary.tables) {
    lines.push('', `${table.name}${table.description === undefined ? '' : ` — ${table.description}`}`);
    const rows = table.columns.map((column) => [column.name, column.description ?? '', column.unit ?? '', column.sensitivity === 'public' ? '' : column.sensitivity]);
    if (rows.length > 0) lines.push(renderTable(['column', 'meaning', 'unit', 'sensitivity'], rows));
  }
  if (dictionary.metrics.length > 0) {
    lines.push('', 'metrics');
    lines.push(renderTable(['metric', 'label', 'definition'], dictionary.metrics.map((metric) => [metric.name, metric.label, metric.sql])));
  }
  return lines.join('\n');
}

/** Draws a chart into the session's charts folder as SVG; the file's path, or undefined when it is not a picture. */
function saveChart(folder: string, chart: ChartToDraw): string | undefined {
  const svg = renderChartSvg(chart);
  if (svg === undefined) return undefined;
  mkdirSync(join(folder, 'charts'), { recursive: true });
  const path = join(folder, 'charts', `chart-${new Date().toISOString().replace(/[:.]/g, '-')}.svg`);
  writeFileSync(path, svg);
  return path;
}

/** An offline answer as a turn of the session record, so /report and /save treat both analysts alike. */
function offlineTurn(result: AskResult): AgentTurnRecord {
  return {
    question: result.question,
    at: new Date().toISOString(),
    status: result.status,
    answer: result.answer,
    plan: [],
    steps: result.sql === null ? [] : [{ index: 1, tool: 'run_sql', input: { sql: result.sql }, status: result.status === 'error' ? 'error' : 'ok', output: `${result.rows.length} rows`, at: new Date().toISOString() }],
    analyst: 'offline',
    sql: result.sql,
    table: { columns: result.columns, rows: result.rows.slice(0, 200), truncated: result.truncated || result.rows.length > 200, rowCount: result.rows.length },
  };
}

/**
 * `iquery chat`: questions at a prompt, answered by the agent with approvals at the terminal, or by
 * the offline analyst when no model is configured. Ctrl-C stops the running step, not the chat.
 */
export function registerChatCommand(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('chat')
    .description('Talk with iquery at the terminal: the agent when a model is configured, else the offline analyst')
    .option('--session <name>', 'continue a named conversation')
    .option('--open', 'open figures in the desktop\'s image viewer as they are made');
  addAgentOptions(command).action(async (commandOptions: ChatOptions) => {
    const options = globals();
    if (options.json) throw new IqueryError('usage', 'chat is for people; use `iquery ask --json` for machines.');
    const language = chatLanguage();
    const model = chosenModel(commandOptions);
    const home = iqueryHome();
    const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
    await withData(options, async (source) => {
      const dictionaryOptions = { ...(options.dict === undefined ? {} : { dictPath: options.dict }), ...(dataPath === undefined ? {} : { dataPath }) };
      const { dictionary } = await dictionaryFor(source, dictionaryOptions);
      const prompt = new LineReader();
      const spinner = new Spinner();
      let session = sessionNameFor(commandOptions.session);
      let mode: AgentMode = agentChoices(commandOptions).mode;
      let agent: Agent | undefined;
      let running: AbortController | undefined;
      let lastTable: { columns: string[]; rows: SqlValue[][] } | undefined;
      let lastOffline: AskResult | undefined;
      // Ctrl-C stops the running step, not the chat; at the prompt it leaves.
      const onInterrupt = (): void => {
        if (running !== undefined) running.abort();
        else prompt.close();
      };
      process.on('SIGINT', onInterrupt);
      const offline = model === undefined ? (await openAnalyst(source, dictionaryOptions)).analyst : undefined;
      const print = (event: Parameters<ReturnType<typeof eventPrinter>>[0]): void => eventPrinter(mode, { streamText: true, showCode: true })(event);
      const openAgentOnce = async (): Promise<Agent> => {
        if (agent !== undefined) return agent;
        if (model === undefined) throw new IqueryError('internal', 'The agent was asked for with no model configured.');
        agent = (
          await openAgent(source, dictionary, model, {
            flags: { ...commandOptions, mode },
            session,
            json: false,
            lines: prompt,
            codeShownByEvents: true,
            onEvent: (event) => {
              spinner.stop();
              print(event);
              if (event.type === 'code') spinner.start(messages.running[language](event.pending.tool));
              else if (event.type === 'step' || event.type === 'plan') spinner.start(messages.thinking[language]);
              if (commandOptions.open === true && event.type === 'step') {
                for (const file of event.step.files ?? []) if (file.endsWith('.png') && agent !== undefined) openFile(join(agent.sessionFolder, file));
              }
              if (event.type === 'chart') showChart({ ...event.chart, y: event.chart.y ?? [], columns: event.chart.data.columns, rows: event.chart.data.rows });
            },
          })
        ).agent;
        return agent;
      };
      const showChart = (chart: ChartToDraw): void => {
        const path = saveChart(agentSessionFolder(home, session), chart);
        if (path === undefined) return;
        printNote(messages.chart[language](path));
        if (commandOptions.open === true) openFile(path);
      };
      const sessionRecord = () => {
        if (agent !== undefined) return agent.session;
        const record = loadAgentSession(home, session);
        return record;
      };
      const offlineConversation = loadConversation(home, session);
      printNote(model === undefined ? messages.offline[language] : messages.session[language](session));
      try {
        for (;;) {
          const input = await prompt.question('iquery> ');
          if (input === undefined) break;
          const line = input.trim();
          if (line === '') continue;
          const [word = '', ...rest] = line.split(/\s+/);
          const argument = rest.join(' ');
          if (word === '/exit' || word === '/quit') break;
          if (word === '/help') {
            printLine(messages.help[language]);
            continue;
          }
          if (word === '/tables') {
            const tables = await source.listTables();
            printLine(renderTable(['table', 'rows', 'columns'], tables.map((table) => [table.name, String(table.rowCount), String(table.columns.length)])));
            continue;
          }
          if (word === '/dict') {
            printLine(dictionarySummary(dictionary));
            continue;
          }
          if (word === '/mode') {
            if (argument === '') printNote(messages.mode[language](mode));
            else if (model === undefined) printNote(messages.modeOffline[language]);
            else if (!(agentModes as readonly string[]).includes(argument)) printNote(messages.badMode[language]);
            else {
              mode = argument as AgentMode;
              await agent?.close();
              agent = undefined;
              printNote(messages.mode[language](mode));
            }
            continue;
          }
          if (word === '/report') {
            const sessionFolder = agentSessionFolder(home, session);
            const folder = argument !== '' ? resolve(argument) : join(sessionFolder, 'reports', new Date().toISOString().replace(/[:.]/g, '-'));
            const target = { source, dictionary, folder, ...(dataPath === undefined ? {} : { data: dataPath }) };
            const analysis: AnalysisToReport | undefined = agent !== undefined && agent.session.turns.length > 0
              ? { analyst: 'agent', record: agent.session, sessionFolder }
              : lastOffline !== undefined ? { analyst: 'offline', result: lastOffline } : undefined;
            if (analysis === undefined) {
              printNote(messages.noReport[language]);
              continue;
            }
            spinner.start(messages.writingReport[language]);
            try {
              const rendered = await writeAnalysisReport(analysis, target);
              spinner.stop();
              for (const file of rendered.files) printNote(messages.saved[language](file.path));
              for (const warning of rendered.warnings) printNote(`(${warning})`);
              const html = rendered.files.find((file) => file.format === 'html');
              if (commandOptions.open === true && html !== undefined) openFile(html.path);
            } finally {
              spinner.stop();
            }
            continue;
          }
          if (word === '/save') {
            const target = resolve(argument === '' ? join(agentSessionFolder(home, session), 'last-result.csv') : argument);
            const extension = extname(target).toLowerCase();
            if (extension === '.md') writeFileSync(target, renderSessionReport(sessionRecord()));
            else if (lastTable === undefined) {
              printNote(messages.noTable[language]);
              continue;
            } else if (extension === '.json') writeFileSync(target, JSON.stringify(lastTable, null, 1));
            else writeFileSync(target, [lastTable.columns, ...lastTable.rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n');
            printNote(messages.saved[language](target));
            continue;
          }
          if (word === '/reset') {
            await agent?.close();
            agent = undefined;
            session = sessionNameFor(undefined);
            offlineConversation.name = session;
            offlineConversation.turns = [];
            printNote(messages.newSession[language](session));
            continue;
          }
          if (word.startsWith('/')) {
            printNote(messages.unknown[language](word));
            continue;
          }
          running = new AbortController();
          try {
            if (offline !== undefined) {
              const result = await offline.ask(line, { previous: contextOf(offlineConversation) });
              if (result.status === 'answered') lastOffline = result;
              recordTurn(offlineConversation, result);
              saveConversation(home, offlineConversation);
              const record = loadAgentSession(home, session);
              record.turns.push(offlineTurn(result));
              saveAgentSession(home, record);
              printLine(result.answer);
              if (result.status === 'answered' && result.columns.length > 0) {
                lastTable = { columns: result.columns, rows: result.rows };
                printLine(renderTable(result.columns, result.rows.slice(0, 20).map((row) => row.map(formatCell))));
                if (result.chart !== null) showChart({ ...result.chart, columns: result.columns, rows: result.rows });
              }
            } else {
              spinner.start(messages.thinking[language]);
              const result: AgentResult = await (await openAgentOnce()).ask(line, running.signal);
              spinner.stop();
              if (result.columns.length > 0) lastTable = { columns: result.columns, rows: result.rows };
              printAgentResult(result, { answerStreamed: true });
            }
          } catch (error) {
            spinner.stop();
            printNote(`error: ${messageOf(error)}`);
          } finally {
            running = undefined;
          }
        }
      } finally {
        spinner.stop();
        process.off('SIGINT', onInterrupt);
        prompt.close();
        await agent?.close();
      }
    });
  });
}
