import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { ChatMessage, ToolDefinition } from './llm.js';

/**
 * Our messages as OpenAI chat-completions messages, for servers with native tool calling: assistant
 * tool calls become `tool_calls` of type `function`, tool results `tool` messages with `tool_call_id`.
 *
 * An assistant message's reasoning is sent back as `reasoning_content` only beside tool calls: thinking
 * models (DeepSeek, Kimi) require it there within a turn, and it is nowhere else worth its tokens.
 */
export function convertToOpenAiMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  return messages.map((message): ChatCompletionMessageParam => {
    switch (message.role) {
      case 'system':
      case 'user':
        return { role: message.role, content: message.content };
      case 'assistant': {
        const toolCalls = message.toolCalls ?? [];
        if (toolCalls.length === 0) return { role: 'assistant', content: message.content ?? '' };
        const reasoning = message.reasoning !== undefined && message.reasoning !== '' ? { reasoning_content: message.reasoning } : {};
        return {
          role: 'assistant',
          content: message.content,
          tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
          ...reasoning,
        };
      }
      case 'tool':
        return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    }
  });
}

/** Our tool definitions as the `tools` field of a chat-completions request. */
export function convertToOpenAiTools(tools: readonly ToolDefinition[]): ChatCompletionFunctionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  }));
}
