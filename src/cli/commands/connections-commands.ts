import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readConfig, writeConfig } from '../../config/config-file.js';
import { iqueryHome } from '../../config/home.js';
import { IqueryError } from '../../errors.js';
import { isServerUrl, parseServerUrl, redactUrl } from '../../sources/connection-url.js';
import { printJson, printLine, type GlobalOptions } from '../output.js';
import { renderTable } from '../render-table.js';

const namePattern = /^[A-Za-z][A-Za-z0-9_-]*$/;

export function registerConnectionCommands(program: Command, globals: () => GlobalOptions): void {
  const connections = program.command('connections').description('Named data connections, kept in IQUERY_HOME/config.yaml');

  connections
    .command('list')
    .description('List named connections (passwords are never shown)')
    .action(() => {
      const options = globals();
      const entries = Object.entries(readConfig().connections).map(([name, entry]) =>
        typeof entry === 'string'
          ? { name, data: redactUrl(entry) }
          : { name, data: redactUrl(entry.data), password_env: entry.password_env ?? null },
      );
      if (options.json) {
        printJson({ connections: entries });
        return;
      }
      if (entries.length === 0) {
        printLine('No named connections yet. Add one with `iquery connections add NAME TARGET`.');
        return;
      }
      printLine(renderTable(['name', 'data', 'password from'], entries.map((entry) => [entry.name, entry.data, 'password_env' in entry ? `$${entry.password_env}` : ''])));
    });

  connections
    .command('add')
    .description('Add or replace a named connection: a path, folder, .duckdb file or mysql:// / postgres:// URL')
    .argument('<name>', 'the name to use with --data')
    .argument('<target>', 'what the name stands for')
    .option('--password-env <variable>', 'take the password from this environment variable instead of the URL')
    .action((name: string, target: string, commandOptions: { passwordEnv?: string }) => {
      const options = globals();
      if (!namePattern.test(name)) {
        throw new IqueryError('usage', `"${name}" is not a usable connection name.`, { hint: 'Use letters, digits, - and _, starting with a letter.' });
      }
      let data = target;
      if (isServerUrl(target)) parseServerUrl(target);
      else if (existsSync(target)) data = resolve(target);
      else throw new IqueryError('not_found', `No file or folder at ${target}.`, { hint: 'Give an existing path or a mysql:// / postgres:// URL.' });
      const config = readConfig();
      config.connections[name] = commandOptions.passwordEnv === undefined ? data : { data, password_env: commandOptions.passwordEnv };
      writeConfig(config);
      if (options.json) printJson({ status: 'ok', name, data: redactUrl(data) });
      else printLine(`Saved connection "${name}" → ${redactUrl(data)} in ${iqueryHome()}/config.yaml`);
    });

  connections
    .command('remove')
    .description('Remove a named connection')
    .argument('<name>')
    .action((name: string) => {
      const options = globals();
      const config = readConfig();
      if (!(name in config.connections)) {
        throw new IqueryError('not_found', `No connection named "${name}".`, { hint: 'See `iquery connections list`.' });
      }
      delete config.connections[name];
      writeConfig(config);
      if (options.json) printJson({ status: 'ok', removed: name });
      else printLine(`Removed connection "${name}".`);
    });
}
