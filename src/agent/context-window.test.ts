import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ChatMessage } from '../llm/llm.js';
import { closeOpenToolCalls, fitContext, splitTurns } from './context-window.js';
import { readPlan } from './prompts.js';

function turn(index: number, size: number): ChatMessage[] {
  return [
    { role: 'user', content: `question ${index}` },
    { role: 'assistant', content: null, toolCalls: [{ id: `c${index}`, name: 'run_sql', arguments: JSON.stringify({ sql: `SELECT ${index}` }) }] },
    { role: 'tool', toolCallId: `c${index}`, name: 'run_sql', content: 'x'.repeat(size) },
    { role: 'assistant', content: `answer ${index}` },
  ];
}

describe('the context window', () => {
  test('short histories go whole', () => {
    const messages = [...turn(1, 10), ...turn(2, 10)];
    assert.deepEqual(fitContext(messages), messages);
  });

  test('older turns are summarised to question, SQL and answer; the latest stay whole', () => {
    const messages = [1, 2, 3, 4, 5].flatMap((index) => turn(index, 20_000));
    const fitted = fitContext(messages, { historyChars: 45_000, recentTurns: 2 });
    const summary = fitted[0];
    assert.equal(summary?.role, 'user');
    assert.match(summary?.content ?? '', /Summary of 3 earlier/);
    assert.match(summary?.content ?? '', /Q: question 1\n {2}SQL: SELECT 1\n {2}A: answer 1/);
    assert.equal(splitTurns(fitted.slice(2)).length, 2);
    assert.equal(fitted.at(-1)?.content, 'answer 5');
  });

  test('the newest turns are kept even when they alone pass the budget', () => {
    const fitted = fitContext([...turn(1, 100_000)], { historyChars: 1000, recentTurns: 1 });
    assert.equal(fitted.length, 4);
  });

  test('tool calls left open are answered as not run, so the next request is well formed', () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'q' }, { role: 'assistant', content: null, toolCalls: [{ id: 'a', name: 'run_sql', arguments: '{}' }, { id: 'b', name: 'run_python', arguments: '{}' }] }, { role: 'tool', toolCallId: 'a', name: 'run_sql', content: 'ok' }];
    const closed = closeOpenToolCalls(messages);
    assert.deepEqual(closed.filter((message) => message.role === 'tool').map((message) => (message.role === 'tool' ? message.toolCallId : '')).sort(), ['a', 'b']);
    assert.equal(closeOpenToolCalls(messages, new Set(['b'])).length, 3);
  });
});

describe('reading the plan', () => {
  test('numbered steps in English and Chinese', () => {
    assert.deepEqual(readPlan('Plan:\n1. Look at tables.\n2. Query churn.\nThen answer.'), ['Look at tables.', 'Query churn.']);
    assert.deepEqual(readPlan('计划：\n1、查看表结构\n2、计算流失率\n3、画图'), ['查看表结构', '计算流失率', '画图']);
  });
  test('one numbered line or none is not a plan', () => {
    assert.deepEqual(readPlan('1. Just one thing.'), []);
    assert.deepEqual(readPlan('The answer is 12.'), []);
  });
});
