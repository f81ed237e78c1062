import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { IqueryError } from '../errors.js';
import { presetNames } from '../llm/presets.js';
import { toolCallingModes } from '../llm/tool-calling-mode.js';
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

/**
 * The `llm:` section: which model server to talk to. Defaults are applied by `resolveLlmSettings`, not
 * here, so that writing the config back does not fill the file with them.
 */
const llmSchema = z.strictObject({
  /** A preset name (`openai`, `deepseek`, `qwen`, `glm`, `kimi`, `ollama`, `vllm`, `llamacpp`). */
  provider: z.enum(presetNames).optional(),
  base_url: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  /** Name of an environment variable holding the API key, so the file need not hold it. */
  api_key_env: z.string().min(1).optional(),
  /** The key itself; allowed because the file is readable by its owner only, but api_key_env is better. */
  api_key: z.string().min(1).optional(),
  /** Stream replies as they are written. Default true. */
  stream: z.boolean().optional(),
  /** Default `auto`. */
  tool_calling: z.enum(toolCallingModes).optional(),
  /** Seconds to wait for the server to start answering (and between streamed chunks). Default 120. */
  timeout_seconds: z.number().positive().optional(),
  /** Retries of a rate-limited, failed (5xx) or dropped request. Default 3. */
  max_retries: z.number().int().min(0).max(10).optional(),
});

/** The `agent:` section: how the agent asks before running code, how it shows its work, what data the model may see. */
const agentSchema = z.strictObject({
  /** `ask` (default): approve every statement and cell; `auto-sql`: guarded SQL runs, Python asks; `yes`: nothing asks. */
  approval: z.enum(['ask', 'auto-sql', 'yes']).optional(),
  /** `normal` (default), `expert` (review the plan first) or `developer` (every prompt and raw response). */
  mode: z.enum(['normal', 'expert', 'developer']).optional(),
  /** false: the model sees the schema and aggregates you approve, never data values. Default true. */
  send_values: z.boolean().optional(),
});

const configSchema = z.strictObject({
  connections: z.record(z.string().min(1), connectionSchema).default({}),
  llm: llmSchema.optional(),
  agent: agentSchema.optional(),
});

export type ConnectionEntry = z.infer<typeof connectionSchema>;
export type LlmConfig = z.infer<typeof llmSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
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
    const inLlmSection = issue?.path[0] === 'llm';
    throw new IqueryError('config_invalid', `${path}: ${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`, {
      hint: inLlmSection
        ? `llm: takes provider (${presetNames.join(', ')}), base_url, model, api_key_env, stream, tool_calling (${toolCallingModes.join(', ')}), timeout_seconds and max_retries.`
        : 'Each connection is a string (path or URL) or {data: …, password_env: …}.',
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
