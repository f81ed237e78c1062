/**
 * The OpenAI-compatible servers iquery knows by name. A preset only fills in defaults: a base URL,
 * a model name and where the key usually lives; every field can be overridden by flags, the
 * environment or the config file.
 */
export const presets = [
  {
    name: 'openai',
    baseUrl: 'https://api.openai.com/v1',
    defaultModel: 'gpt-4o-mini',
    requiresKey: true,
    keyEnvironmentVariable: 'OPENAI_API_KEY',
  },
  {
    name: 'deepseek',
    baseUrl: 'https://api.deepseek.com/v1',
    defaultModel: 'deepseek-chat',
    requiresKey: true,
    keyEnvironmentVariable: 'DEEPSEEK_API_KEY',
  },
  {
    // Alibaba Cloud DashScope in its OpenAI-compatible mode.
    name: 'qwen',
    baseUrl: 'https://dashscope.aliyuncs.com/compatible-mode/v1',
    defaultModel: 'qwen-plus',
    requiresKey: true,
    keyEnvironmentVariable: 'DASHSCOPE_API_KEY',
  },
  {
    // Zhipu's open platform.
    name: 'glm',
    baseUrl: 'https://open.bigmodel.cn/api/paas/v4',
    defaultModel: 'glm-4-plus',
    requiresKey: true,
    keyEnvironmentVariable: 'ZHIPUAI_API_KEY',
  },
  {
    // Moonshot renames its models often; kimi-k2.5 is a current model with native tool calling.
    name: 'kimi',
    baseUrl: 'https://api.moonshot.cn/v1',
    defaultModel: 'kimi-k2.5',
    requiresKey: true,
    keyEnvironmentVariable: 'MOONSHOT_API_KEY',
  },
  // Local servers serve whatever model was pulled or loaded, so they have no default model.
  { name: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1', defaultModel: null, requiresKey: false, keyEnvironmentVariable: null },
  { name: 'vllm', baseUrl: 'http://127.0.0.1:8000/v1', defaultModel: null, requiresKey: false, keyEnvironmentVariable: null },
  { name: 'llamacpp', baseUrl: 'http://127.0.0.1:8080/v1', defaultModel: null, requiresKey: false, keyEnvironmentVariable: null },
] as const;

export type Preset = (typeof presets)[number];
export type PresetName = Preset['name'];

export const presetNames: readonly PresetName[] = presets.map((preset) => preset.name);

/** The preset of that name, or undefined for any other string. */
export function findPreset(name: string): Preset | undefined {
  return presets.find((preset) => preset.name === name);
}

/** The preset whose base URL is exactly this one (ignoring a trailing slash), or undefined. */
export function findPresetByBaseUrl(baseUrl: string): Preset | undefined {
  const normalized = baseUrl.replace(/\/+$/, '');
  return presets.find((preset) => preset.baseUrl === normalized);
}
