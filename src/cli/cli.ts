import { Command, CommanderError } from 'commander';
import { reportError, type GlobalOptions } from './output.js';

type Register = (program: Command, globals: () => GlobalOptions) => void;

/**
 * Each command's module, loaded only when that command runs (or for the full help): a question
 * should not pay for loading the MySQL driver, the sandbox or the dictionary drafter.
 */
const commandModules: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['tables', 'describe', 'sql'], load: async () => (await import('./commands/data-commands.js')).registerDataCommands },
  { names: ['dict'], load: async () => (await import('./commands/dictionary-commands.js')).registerDictionaryCommands },
  { names: ['demo'], load: async () => (await import('./commands/demo-command.js')).registerDemoCommand },
  { names: ['exec'], load: async () => (await import('./commands/exec-command.js')).registerExecCommand },
  { names: ['connections'], load: async () => (await import('./commands/connections-commands.js')).registerConnectionCommands },
  { names: ['ask'], load: async () => (await import('./commands/ask-command.js')).registerAskCommand },
  { names: ['eval'], load: async () => (await import('./commands/eval-command.js')).registerEvalCommand },
  { names: ['chat'], load: async () => (await import('./commands/chat-command.js')).registerChatCommand },
  { names: ['memory'], load: async () => (await import('./commands/memory-commands.js')).registerMemoryCommands },
  { names: ['mcp'], load: async () => (await import('./commands/mcp-command.js')).registerMcpCommand },
  { names: ['serve'], load: async () => (await import('./commands/serve-command.js')).registerServeCommand },
  { names: ['rerun', 'export'], load: async () => (await import('./commands/report-commands.js')).registerReportCommands },
];

/** The command word in argv: the first argument that is not a global option or its value. */
function commandWord(argv: readonly string[]): string | undefined {
  const takesValue = new Set(['--data', '--dict']);
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    if (takesValue.has(argument)) {
      index++;
      continue;
    }
    if (!argument.startsWith('-')) return argument;
  }
  return undefined;
}

async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('iquery')
    .description('A self-hosted AI data analyst: guarded SQL over your data, in Chinese and English.')
    .version('0.1.0')
    .option('--data <source>', 'a data file, folder, .duckdb file, mysql:// or postgres:// URL, or connection name')
    .option('--dict <file>', 'a data and metric dictionary (YAML)')
    .option('--json', 'print one JSON object for machines')
    .option('--debug', 'show stack traces on errors')
    .showHelpAfterError('(run iquery --help for usage)')
    .exitOverride();
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const word = commandWord(argv);
  const wanted = commandModules.filter((module) => word !== undefined && module.names.includes(word));
  for (const module of wanted.length > 0 ? wanted : commandModules) (await module.load())(program, globals);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 the user's error or a refusal, 2 an internal failure. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    // A command that finished but found problems (dict check) sets the exit code itself.
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message; help and version are not failures.
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 1;
    }
    return reportError(error, program.opts<GlobalOptions>());
  }
}
