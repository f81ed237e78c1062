import { configPath, readConfig, type LlmConfig } from '../config/config-file.js';
import { iqueryHome } from '../config/home.js';
import { IqueryError, type ErrorCode } from '../errors.js';
import { findPreset, findPresetByBaseUrl, presetNames, type Preset } from './presets.js';
import type { ToolCallingMode } from './tool-calling-mode.js';

/** The `--llm-*` flags as commander names them. Empty strings count as not given. */
export interface LlmFlags {
  llmBaseUrl?: string | undefined;
  llmApiKey?: string | undefined;
  llmModel?: string | undefined;
  /** A preset name. */
  llmProvider?: string | undefined;
}

/** Everything needed to talk to one model server, resolved from flags, environment, config file and preset. */
export interface LlmSettings {
  /** The preset's name, or `custom` for a base URL no preset has. */
  provider: string;
  /** http or https, without a trailing slash and without credentials. */
  baseUrl: string;
  /** Absent for servers that need none (ollama, vLLM, llama.cpp). */
  apiKey?: string;
  /** '' when no layer names one and the preset has no default: the server's only model is used (see `GET /models`). */
  model: string;
  stream: boolean;
  toolCalling: ToolCallingMode;
  /** How long to wait for the server to start answering, and between streamed chunks. */
  timeoutMs: number;
  /** Retries of a 429, a 5xx or a dropped connection; 0 tries once. */
  maxRetries: number;
  /** The first retry's delay before jitter, doubled each retry. Default 500; tests make it tiny. */
  retryBaseDelayMs?: number;
}

/** How a model is named to a person: `ollama · qwen2.5:14b`, or the server's own model until it is known. */
export function modelLabel(model: { provider: string; model: string }): string {
  return `${model.provider} · ${model.model === '' ? "the server's model" : model.model}`;
}

const defaultTimeoutSeconds = 120;
const defaultMaxRetries = 3;

type Source = 'flags' | 'environment' | 'config file';

/** What one layer (flags, environment or config file) says about the server; undefined when silent. */
interface Layer {
  source: Source;
  provider: { value: string; from: string } | undefined;
  baseUrl: { value: string; from: string } | undefined;
  model: string | undefined;
  apiKey: string | undefined;
  /** Why the layer has no key although it tried to give one (an api_key_env naming an unset variable). */
  missingKeyNote: string | undefined;
}

/**
 * The model iquery should use, or undefined when no layer names a provider or a base URL.
 *
 * Each value comes from the first layer that gives it: flags (`--llm-base-url`, `--llm-api-key`,
 * `--llm-model`, `--llm-provider`), then the environment (`IQUERY_LLM_BASE_URL`, `IQUERY_LLM_API_KEY`,
 * `IQUERY_LLM_MODEL`, `IQUERY_LLM_PROVIDER`), then the config file's `llm:` section, then the preset.
 * The vendor's own variable (`DEEPSEEK_API_KEY`, …) is the last resort for the key.
 *
 * One exception keeps layers from mixing two servers: when a layer names a provider, a lower layer that
 * names a different provider or a base URL without that provider is ignored for the base URL, the model
 * and the key (its stream, timeout and retry settings still apply). `--llm-provider qwen` with a config
 * file set up for deepseek thus uses qwen's default model, not deepseek's.
 *
 * @throws IqueryError `llm_not_configured` when the model name or a required key is missing, and
 *   `usage`, `bad_input` or `config_invalid` (after where the value came from) for an unknown provider
 *   or a base URL that is not http(s).
 */
export function resolveLlmSettings(
  flags: LlmFlags,
  environment: NodeJS.ProcessEnv = process.env,
  config: { llm?: LlmConfig | undefined } = readConfig(iqueryHome(environment)),
): LlmSettings | undefined {
  const file = config.llm ?? {};
  const fileName = configPath(iqueryHome(environment));
  const layers = layersInEffect([
    {
      source: 'flags',
      provider: given(flags.llmProvider, '--llm-provider'),
      baseUrl: given(flags.llmBaseUrl, '--llm-base-url'),
      model: nonEmpty(flags.llmModel),
      apiKey: nonEmpty(flags.llmApiKey),
      missingKeyNote: undefined,
    },
    {
      source: 'environment',
      provider: given(environment['IQUERY_LLM_PROVIDER'], 'IQUERY_LLM_PROVIDER'),
      baseUrl: given(environment['IQUERY_LLM_BASE_URL'], 'IQUERY_LLM_BASE_URL'),
      model: nonEmpty(environment['IQUERY_LLM_MODEL']),
      apiKey: nonEmpty(environment['IQUERY_LLM_API_KEY']),
      missingKeyNote: undefined,
    },
    fileLayer(file, environment, fileName),
  ]);

  const providerGiven = layers.find((layer) => layer.provider !== undefined);
  const baseUrlGiven = layers.find((layer) => layer.baseUrl !== undefined);
  if (providerGiven === undefined && baseUrlGiven === undefined) return undefined;

  let preset: Preset | undefined;
  if (providerGiven?.provider !== undefined) {
    const { value, from } = providerGiven.provider;
    preset = findPreset(value);
    if (preset === undefined) {
      throw valueError(providerGiven.source, `Unknown model provider '${value}' in ${from}; the known ones are ${presetNames.join(', ')}.`, {
        hint: 'For any other OpenAI-compatible server, give its base URL with --llm-base-url or IQUERY_LLM_BASE_URL instead.',
      });
    }
  }
  const baseUrl = baseUrlGiven?.baseUrl === undefined ? preset?.baseUrl : validateBaseUrl(baseUrlGiven.baseUrl.value, baseUrlGiven.baseUrl.from, baseUrlGiven.source);
  if (baseUrl === undefined) throw new IqueryError('internal', 'a model server without a base URL');
  preset ??= findPresetByBaseUrl(baseUrl);
  const provider = preset?.name ?? 'custom';

  // Without a name, the model is asked of the server at the first call (a local server often serves one).
  const model = layers.find((layer) => layer.model !== undefined)?.model ?? preset?.defaultModel ?? '';

  const vendorVariable = preset?.keyEnvironmentVariable ?? undefined;
  const apiKey = layers.find((layer) => layer.apiKey !== undefined)?.apiKey ?? (vendorVariable === undefined ? undefined : nonEmpty(environment[vendorVariable]));
  if (apiKey === undefined && preset?.requiresKey === true) {
    const note = layers.find((layer) => layer.missingKeyNote !== undefined)?.missingKeyNote;
    throw new IqueryError('llm_not_configured', `The ${provider} server needs an API key and none is set${note === undefined ? '' : ` (${note})`}.`, {
      hint:
        `Set IQUERY_LLM_API_KEY${vendorVariable === undefined ? '' : ` or ${vendorVariable}`}, pass --llm-api-key, ` +
        `or name the variable that holds it with api_key_env: under llm: in ${fileName}.`,
    });
  }

  return {
    provider,
    baseUrl,
    ...(apiKey === undefined ? {} : { apiKey }),
    model,
    stream: file.stream ?? true,
    toolCalling: file.tool_calling ?? 'auto',
    timeoutMs: (file.timeout_seconds ?? defaultTimeoutSeconds) * 1000,
    maxRetries: file.max_retries ?? defaultMaxRetries,
  };
}

/** The model for people: `deepseek · deepseek-chat at https://api.deepseek.com/v1`. Never shows the key. */
export function describeLlm(settings: Pick<LlmSettings, 'provider' | 'model' | 'baseUrl'>): string {
  return `${modelLabel(settings)} at ${settings.baseUrl}`;
}

function fileLayer(file: LlmConfig, environment: NodeJS.ProcessEnv, fileName: string): Layer {
  const keyVariable = file.api_key_env;
  const keyFromVariable = keyVariable === undefined ? undefined : nonEmpty(environment[keyVariable]);
  return {
    source: 'config file',
    provider: given(file.provider, `llm.provider in ${fileName}`),
    baseUrl: given(file.base_url, `llm.base_url in ${fileName}`),
    model: nonEmpty(file.model),
    apiKey: keyFromVariable ?? nonEmpty(file.api_key),
    missingKeyNote: keyVariable !== undefined && keyFromVariable === undefined ? `llm.api_key_env names ${keyVariable}, which is not set` : undefined,
  };
}

/** Drops the layers that describe another server than a higher layer's provider (see resolveLlmSettings). */
function layersInEffect(layers: readonly Layer[]): Layer[] {
  const kept: Layer[] = [];
  let provider: string | undefined;
  for (const layer of layers) {
    const namesServer = layer.provider !== undefined || layer.baseUrl !== undefined;
    if (provider !== undefined && namesServer && layer.provider?.value !== provider) continue;
    kept.push(layer);
    provider ??= layer.provider?.value;
  }
  return kept;
}

function validateBaseUrl(value: string, from: string, source: Source): string {
  const hint = 'Give the full address of the OpenAI-compatible API, such as http://127.0.0.1:11434/v1 or https://api.deepseek.com/v1.';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw valueError(source, `The model server address '${value}' in ${from} is not a URL.`, { hint });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw valueError(source, `The model server address in ${from} must start with http:// or https://, not ${url.protocol}//.`, { hint });
  }
  if (url.username !== '' || url.password !== '') {
    throw valueError(source, `The model server address in ${from} holds credentials; iquery does not send those.`, {
      hint: 'Remove them from the address and give the key with IQUERY_LLM_API_KEY or --llm-api-key.',
    });
  }
  return url.href.replace(/\/+$/, '');
}

function valueError(source: Source, message: string, options: { hint: string }): IqueryError {
  const codes: Record<Source, ErrorCode> = { flags: 'usage', environment: 'bad_input', 'config file': 'config_invalid' };
  return new IqueryError(codes[source], message, options);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function given(value: string | undefined, from: string): { value: string; from: string } | undefined {
  const present = nonEmpty(value);
  return present === undefined ? undefined : { value: present, from };
}
