import { Command, CommanderError } from 'commander';
import { registerConnectionCommands } from './commands/connections-commands.js';
import { registerDataCommands } from './commands/data-commands.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerDictionaryCommands } from './commands/dictionary-commands.js';
import { registerExecCommand } from './commands/exec-command.js';
import { reportError, type GlobalOptions } from './output.js';

function buildProgram(): Command {
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
  registerDataCommands(program, globals);
  registerDictionaryCommands(program, globals);
  registerDemoCommand(program, globals);
  registerExecCommand(program, globals);
  registerConnectionCommands(program, globals);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 the user's error or a refusal, 2 an internal failure. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
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
