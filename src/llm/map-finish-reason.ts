import type { FinishReason } from './llm.js';

/**
 * Our finish reason for the server's `finish_reason`. Some servers say `stop` although the reply
 * calls tools, so tool calls win over what the server said. Null, missing or unknown reasons are `other`.
 */
export function mapFinishReason(reason: string | null | undefined, hasToolCalls: boolean): FinishReason {
  if (hasToolCalls) return 'tool_calls';
  switch (reason) {
    case 'stop':
    case 'length':
    case 'content_filter':
    case 'tool_calls':
      return reason;
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}
