import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { IqueryError } from '../errors.js';
import { iqueryHome } from './home.js';

const connectionSchema = z.union([
  z.string().min(1),
  z.strictObject({
    /** A path, folder, .duckdb file or server URL. */
    data: z.string().min(1),
    /** Name of an environment variable holding the password, so the file need not hold it. */
    password_env: z.string().min(1).optional(),
  }),
]);

const configSchema = z.strictObject({
  connections: z.record(z.string().min(1), connectionSchema).default({}),
});

export type ConnectionEntry = z.infer<typeof connectionSchema>;
export type IqueryConfig = z.infer<typeof configSchema>;

export function configPath(home: string = iqueryHome()): string {
  return join(home, 'config.yaml');
}

/** Reads the config file; a missing file is an empty config. */
export function readConfig(home: string = iqueryHome()): IqueryConfig {
  const path = configPath(home);
  if (!existsSync(path)) return { connections: {} };
  const document = parseDocument(readFileSync(path, 'utf8'));
  if (document.errors.length > 0) {
    throw new IqueryError('config_invalid', `${path}: ${document.errors[0]?.message ?? 'invalid YAML'}`, {
      hint: 'Fix the YAML syntax, or remove the file to start over.',
    });
  }
  const parsed = configSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IqueryError('config_invalid', `${path}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`, {
      hint: 'Each connection is a string (path or URL) or {data: …, password_env: …}.',
    });
  }
  return parsed.data;
}

/** Writes the config file atomically and readable only by its owner, since it may hold passwords. */
export function writeConfig(config: IqueryConfig, home: string = iqueryHome()): void {
  const path = configPath(home);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, stringify(config), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
