import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import type { Agent } from '../../agent/agent.js';
import { dictionaryFor, openAnalyst } from '../../analyst/open-analyst.js';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { IqueryError, messageOf } from '../../errors.js';
import { addAgentOptions, agentChoices, chosenModel, eventPrinter, openAgent, printAgentResult, sessionNameFor, type AgentFlags } from '../agent-runner.js';
import { LineReader } from '../line-reader.js';
import { withData } from '../open-data.js';
import { printLine, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';

interface ChatOptions extends AgentFlags {
  session?: string;
}

const help = `Ask a question in Chinese or English. Commands:
  /tables   list the tables
  /reset    start a new conversation
  /help     this help
  /exit     leave (Ctrl-D works too)
Ctrl-C stops the running step, not the chat.`;

/**
 * `iquery chat`: questions at a prompt, answered by the agent with approvals at the terminal, or by
 * the offline analyst when no model is configured. Ctrl-C stops the running step, not the chat.
 */
export function registerChatCommand(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('chat')
    .description('Talk with iquery at the terminal: the agent when a model is configured, else the offline analyst')
    .option('--session <name>', 'continue a named conversation');
  addAgentOptions(command).action(async (commandOptions: ChatOptions) => {
      const options = globals();
      if (options.json) throw new IqueryError('usage', 'chat is for people; use `iquery ask --json` for machines.');
      const model = chosenModel(commandOptions);
      const home = iqueryHome();
      const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
      await withData(options, async (source) => {
        const dictionaryOptions = { ...(options.dict === undefined ? {} : { dictPath: options.dict }), ...(dataPath === undefined ? {} : { dataPath }) };
        const prompt = new LineReader();
        let session = sessionNameFor(commandOptions.session);
        let agent: Agent | undefined;
        let running: AbortController | undefined;
        // Ctrl-C stops the running step, not the chat; at the prompt it leaves.
        const onInterrupt = (): void => {
          if (running !== undefined) running.abort();
          else prompt.close();
        };
        process.on('SIGINT', onInterrupt);
        const offline = model === undefined ? (await openAnalyst(source, dictionaryOptions)).analyst : undefined;
        const openAgentOnce = async (): Promise<Agent> => {
          if (agent !== undefined) return agent;
          if (model === undefined) throw new IqueryError('internal', 'The agent was asked for with no model configured.');
          const { dictionary } = await dictionaryFor(source, dictionaryOptions);
          const mode = agentChoices(commandOptions).mode;
          agent = (await openAgent(source, dictionary, model, { flags: commandOptions, session, json: false, lines: prompt, onEvent: eventPrinter(mode, { streamText: true }) })).agent;
          return agent;
        };
        printNote(model === undefined ? '(offline analyst: no model is configured)' : `(session ${session}; /help for commands)`);
        try {
          for (;;) {
            const input = await prompt.question('iquery> ');
            if (input === undefined) break;
            const line = input.trim();
            if (line === '') continue;
            if (line === '/exit' || line === '/quit') break;
            if (line === '/help') {
              printLine(help);
              continue;
            }
            if (line === '/tables') {
              const tables = await source.listTables();
              printLine(renderTable(['table', 'rows', 'columns'], tables.map((table) => [table.name, String(table.rowCount), String(table.columns.length)])));
              continue;
            }
            if (line === '/reset') {
              await agent?.close();
              agent = undefined;
              session = sessionNameFor(undefined);
              printNote(`(new conversation: session ${session})`);
              continue;
            }
            if (line.startsWith('/')) {
              printNote(`Unknown command ${line.split(' ')[0]}; /help lists them.`);
              continue;
            }
            running = new AbortController();
            try {
              if (offline !== undefined) {
                const result = await offline.ask(line, {});
                printLine(result.answer);
                if (result.status === 'answered' && result.columns.length > 0) printLine(renderTable(result.columns, result.rows.slice(0, 20).map((row) => row.map(formatCell))));
              } else {
                const result = await (await openAgentOnce()).ask(line, running.signal);
                printAgentResult(result, { answerStreamed: true });
              }
            } catch (error) {
              printNote(`error: ${messageOf(error)}`);
            } finally {
              running = undefined;
            }
          }
        } finally {
          process.off('SIGINT', onInterrupt);
          prompt.close();
          await agent?.close();
        }
      });
    });
}
