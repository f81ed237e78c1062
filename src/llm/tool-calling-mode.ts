/**
 * How tools reach the model:
 * - `native`: the `tools` field of the chat-completions request; the model answers with `tool_calls`.
 * - `text`: for models without tool calling: the tools are described in the system message and the
 *   model answers with a fenced JSON block, which iquery reads back into tool calls.
 * - `auto`: `native`, switching to `text` for good once the server says it does not support tools.
 */
export const toolCallingModes = ['auto', 'native', 'text'] as const;

export type ToolCallingMode = (typeof toolCallingModes)[number];
