/**
 * The agent end to end: the real `bin/iquery`, real DuckDB, the real sandbox, and a scripted
 * OpenAI-compatible server over real HTTP in place of the model (the one test double allowed).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runIqueryAsync, stackLine, type Run } from '../cli/testing/run-iquery.js';
import { writeShopData } from './testing/shop-data.js';
import { ScriptedModelServer, type RecordedRequest, type ScriptedReply } from '../llm/testing/scripted-model-server.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-agent-data-'));
const homes: string[] = [];
const servers: ScriptedModelServer[] = [];
after(async () => {
  for (const server of servers) await server.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

const { data, dictionary } = writeShopData(folder, { dictionaryName: 'shop.dictionary.yaml', churnMetric: true });

const secretKey = 'sk-test-DO-NOT-PRINT-4f9a';

async function scripted(script: ScriptedReply[] | ((request: RecordedRequest, index: number) => ScriptedReply)): Promise<ScriptedModelServer> {
  const server = await ScriptedModelServer.start(script);
  servers.push(server);
  return server;
}

function newHome(config?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'iquery-agent-home-'));
  homes.push(home);
  if (config !== undefined) writeFileSync(join(home, 'config.yaml'), config);
  return home;
}

function ask(home: string, server: ScriptedModelServer, args: readonly string[], environment: Record<string, string> = {}): Promise<Run> {
  return runIqueryAsync(home, ['ask', '--json', '--data', data, '--dict', dictionary, '--llm-base-url', server.baseUrl, '--llm-model', 'scripted-1', ...args], {
    environment: { IQUERY_LLM_API_KEY: secretKey, ...environment },
  });
}

function resultOf(run: Run): Record<string, any> {
  assert.ok(run.stdout.trim() !== '', `no output; stderr: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as Record<string, any>;
}

const call = (name: string, args: Record<string, unknown> | string): ScriptedReply => ({ kind: 'tool_calls', calls: [{ name, arguments: args }] });
const text = (value: string): ScriptedReply => ({ kind: 'text', text: value });

/** Everything the model was sent, as one string, to check what left the machine. */
function sentToModel(server: ScriptedModelServer): string {
  return server.requests.map((request) => JSON.stringify(request.body)).join('\n');
}

/** The tool messages the model received, in order. */
function toolMessages(server: ScriptedModelServer): string[] {
  const last = server.requests.at(-1)?.body as { messages: { role: string; content: string }[] } | undefined;
  return (last?.messages ?? []).filter((message) => message.role === 'tool').map((message) => message.content);
}

describe('the agent, driven by a scripted model over HTTP', () => {
  test('a multi-step analysis: plan, SQL, a DataFrame, Python with a figure, a chart, an answer (streamed)', async () => {
    const server = await scripted([
      { kind: 'tool_calls', text: 'Plan:\n1. Look at the tables.\n2. Compute the churn rate by plan.\n3. Plot the monthly fee.', calls: [{ name: 'list_tables', arguments: {} }] },
      call('run_sql', { sql: 'SELECT plan, AVG(churned) AS churn_rate, COUNT(*) AS customers FROM customers GROUP BY plan ORDER BY plan' }),
      call('load_data', { sql: 'SELECT plan, monthly_fee FROM customers', name: 'fees' }),
      call('run_python', { code: 'import matplotlib.pyplot as plt\nfees.groupby("plan")["monthly_fee"].mean().plot(kind="bar")\nprint(round(fees["monthly_fee"].mean(), 3))' }),
      call('show_chart', { spec: { type: 'bar', title: 'Churn rate by plan', x: 'plan', y: 'churn_rate' } }),
      text('The churn rate is 16.7% on basic and 66.7% on premium.'),
    ]);
    const home = newHome();
    const run = await ask(home, server, ['-y', '--session', 'multi', 'What is the churn rate by plan?']);
    assert.equal(run.status, 0, run.stderr);
    const result = resultOf(run);
    assert.equal(result['status'], 'answered');
    assert.equal(result['analyst'], 'agent');
    assert.equal(result['session'], 'multi');
    assert.equal(result['language'], 'en');
    assert.deepEqual(result['plan'].steps, ['Look at the tables.', 'Compute the churn rate by plan.', 'Plot the monthly fee.']);
    assert.deepEqual(result['steps'].map((step: any) => step.tool), ['list_tables', 'run_sql', 'load_data', 'run_python', 'show_chart']);
    assert.ok(result['steps'].every((step: any) => step.status === 'ok'), JSON.stringify(result['steps']));
    assert.deepEqual(result['columns'], ['plan', 'churn_rate', 'customers']);
    assert.deepEqual(result['rows'], [['basic', 1 / 6, 6], ['premium', 4 / 6, 6]]);
    assert.equal(result['chart'].type, 'bar');
    assert.equal(result['answer'], 'The churn rate is 16.7% on basic and 66.7% on premium.');
    assert.ok(result['usage'].turn.totalTokens > 0);
    // The Python step really ran in the sandbox: its printed mean reached the model, its figure was saved.
    const tools = toolMessages(server);
    assert.match(tools[3] ?? '', /55\.208/);
    const figure = result['steps'][3].files[0] as string;
    assert.ok(existsSync(join(result['folder'], figure)), figure);
    assert.equal(readFileSync(join(result['folder'], figure)).subarray(1, 4).toString(), 'PNG');
    // Every request streamed; the session was stored.
    assert.ok(server.requests.every((request) => request.body.stream === true));
    assert.ok(existsSync(join(home, 'agent', 'multi', 'session.json')));
    assert.doesNotMatch(run.stderr + run.stdout, new RegExp(secretKey));
  });

  test('for a person: the steps as they happen on stderr, then the answer and the table', async () => {
    const server = await scripted([call('describe_table', { table: 'customers' }), call('run_sql', { sql: 'SELECT plan, COUNT(*) AS n FROM customers GROUP BY plan ORDER BY plan' }), text('基础版和高级版各6位客户。')]);
    const run = await runIqueryAsync(newHome(), ['ask', '--data', data, '--dict', dictionary, '--llm-base-url', server.baseUrl, '--llm-model', 'scripted-1', '-y', '各套餐有多少客户'], { environment: { IQUERY_LLM_API_KEY: secretKey } });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^基础版和高级版各6位客户。/);
    assert.match(run.stdout, /premium\s+│?\s*6/);
    assert.match(run.stderr, /▸ describe_table: customers: 7 columns, 12 rows/);
    assert.match(run.stderr, /answered by custom · scripted-1; session s-\d{8}-[0-9a-f]{6}/);
    // describe_table gives meanings, values with synonyms and statistics, but no confidential samples.
    const described = toolMessages(server)[0] ?? '';
    assert.match(described, /plan VARCHAR; 套餐 \/ plan; 2 distinct, 0 null; values: basic \(基础版\), premium \(高级版\)/);
    assert.match(described, /full_name VARCHAR; 姓名 \/ name; CONFIDENTIAL/);
    assert.match(described, /national_id .*RESTRICTED/);
    assert.match(described, /churn_rate \(流失率; churn rate\) = AVG\(customers\.churned\)/);
    assert.ok(!described.includes('Alice'), described);
  });

  test('non-streaming, with a follow-up in the same session that sees the earlier turn', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' }),
      text('There are 12 customers.'),
      call('run_sql', { sql: "SELECT COUNT(*) AS n FROM customers WHERE city = 'Beijing'" }),
      text('4 of them are in Beijing.'),
    ]);
    const home = newHome('llm:\n  stream: false\n');
    const first = resultOf(await ask(home, server, ['-y', '--session', 'follow', 'How many customers are there?']));
    assert.equal(first['answer'], 'There are 12 customers.');
    assert.deepEqual(first['rows'], [[12]]);
    const second = resultOf(await ask(home, server, ['-y', '--session', 'follow', 'And in Beijing?']));
    assert.equal(second['status'], 'answered');
    assert.deepEqual(second['rows'], [[4]]);
    assert.ok(server.requests.every((request) => request.body.stream !== true));
    const messages = server.requests.at(-1)?.body.messages as { role: string; content: string }[];
    assert.ok(messages.some((message) => message.role === 'assistant' && message.content === 'There are 12 customers.'), 'the follow-up sees the first answer');
    assert.equal(second['usage'].session.totalTokens > second['usage'].turn.totalTokens, true);
  });

  test('without -y nothing runs: needs_approval with the pending code, then --approve runs it and goes on', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'SELECT city, COUNT(*) AS n FROM customers GROUP BY city ORDER BY city' }),
      text('Beijing 4, Guangzhou 4, Shanghai 4.'),
    ]);
    const home = newHome();
    const paused = resultOf(await ask(home, server, ['--session', 'wait', 'Customers per city?']));
    assert.equal(paused['status'], 'needs_approval');
    assert.equal(paused['pending'][0].language, 'sql');
    assert.match(paused['pending'][0].code, /GROUP BY city/);
    assert.ok(paused['pending'][0].findings.some((finding: any) => finding.kind === 'guard'));
    assert.equal(paused['steps'][0].status, 'pending');
    assert.deepEqual(paused['rows'], []);
    assert.equal(server.requests.length, 1, 'the model waits too');
    const resumed = await ask(home, server, ['--session', 'wait', '--approve']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const result = resultOf(resumed);
    assert.equal(result['status'], 'answered');
    assert.equal(result['steps'][0].approval, 'user');
    assert.deepEqual(result['rows'], [['Beijing', 4], ['Guangzhou', 4], ['Shanghai', 4]]);
  });

  test('--reject skips the code and tells the model', async () => {
    const server = await scripted([call('run_python', { code: 'print(1)' }), text('Skipped, as you wished.')]);
    const home = newHome();
    assert.equal(resultOf(await ask(home, server, ['--session', 'no', 'Run something'])).status, 'needs_approval');
    const result = resultOf(await ask(home, server, ['--session', 'no', '--reject']));
    assert.equal(result['steps'][0].status, 'skipped');
    assert.match(toolMessages(server)[0] ?? '', /chose not to run/);
  });

  test('auto-sql runs guarded SQL without asking but stops at Python', async () => {
    const server = await scripted([call('run_sql', { sql: 'SELECT 1 AS one' }), call('run_python', { code: 'print(2)' })]);
    const result = resultOf(await ask(newHome(), server, ['--approval', 'auto-sql', 'Check']));
    assert.equal(result['status'], 'needs_approval');
    assert.equal(result['steps'][0].approval, 'policy');
    assert.equal(result['pending'][0].language, 'python');
  });

  test('an unknown tool and invalid JSON arguments go back to the model, which repairs', async () => {
    const server = await scripted([
      call('drop_everything', {}),
      call('run_sql', '{"sql": "SELECT COUNT(*) FROM customers"'),
      call('run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' }),
      text('12.'),
    ]);
    const result = resultOf(await ask(newHome(), server, ['-y', 'How many?']));
    assert.equal(result['status'], 'answered');
    assert.deepEqual(result['steps'].map((step: any) => step.status), ['error', 'error', 'ok']);
    const tools = toolMessages(server);
    assert.match(tools[0] ?? '', /There is no tool "drop_everything"/);
    assert.match(tools[1] ?? '', /not valid JSON/);
  });

  test('a refused statement and a query error are data for the model, not a crash', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'DELETE FROM customers' }),
      call('run_sql', { sql: 'SELECT no_such_column FROM customers' }),
      call('run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' }),
      text('12 customers; nothing was deleted.'),
    ]);
    const result = resultOf(await ask(newHome(), server, ['-y', 'Delete them']));
    assert.equal(result['status'], 'answered');
    assert.deepEqual(result['steps'].map((step: any) => step.status), ['refused', 'error', 'ok']);
    assert.match(toolMessages(server)[0] ?? '', /Refused DELETE/);
    assert.deepEqual(result['rows'], [[12]]);
  });

  test('repairs are bounded: after three failures in a row the model must answer without tools', async () => {
    const server = await scripted((request) => (request.body.tool_choice === 'none' ? text('I could not query the data: the column does not exist.') : call('run_sql', { sql: 'SELECT nope FROM customers' })));
    const result = resultOf(await ask(newHome(), server, ['-y', 'Anything']));
    assert.equal(result['status'], 'answered');
    assert.equal(result['steps'].length, 3);
    assert.match(result['answer'], /could not/);
  });

  test('restricted columns never leave the database and confidential ones are masked for the model', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'SELECT national_id FROM customers' }),
      call('run_sql', { sql: 'SELECT * FROM customers' }),
      call('run_sql', { sql: 'SELECT full_name, city FROM customers ORDER BY id LIMIT 3' }),
      call('load_data', { sql: 'SELECT full_name, monthly_fee FROM customers', name: 'people' }),
      call('run_python', { code: 'print(people["full_name"].tolist()[:3])' }),
      call('run_sql', { sql: 'SELECT CAST(full_name AS INTEGER) AS n FROM customers' }),
      call('run_sql', { sql: 'SELECT most_common_vals FROM pg_stats' }),
      call('run_sql', { sql: 'SELECT COUNT(DISTINCT national_id) AS ids FROM customers' }),
      text('Done.'),
    ]);
    const run = await ask(newHome(), server, ['-y', 'Who are the customers?']);
    const result = resultOf(run);
    assert.equal(result['status'], 'answered', run.stderr);
    assert.deepEqual(result['steps'].map((step: any) => step.status), ['refused', 'refused', 'ok', 'ok', 'ok', 'error', 'refused', 'ok']);
    const sent = sentToModel(server);
    for (const secret of ['110101199001011234', 'Alice Zhang', 'Bob Li', 'Carol']) assert.ok(!sent.includes(secret), `${secret} reached the model`);
    assert.match(sent, /‹masked:[0-9a-f]+›/);
    // The user still sees their own data.
    assert.deepEqual(result['rows'], [[12]]);
    const tools = toolMessages(server);
    assert.match(tools[0] ?? '', /national_id/);
    assert.match(tools[4] ?? '', /masked/);
    assert.match(tools[5] ?? '', /Conversion Error/);
    assert.match(tools[6] ?? '', /sample values/);
  });

  test('--schema-only: the model sees the schema and aggregates, never a data value', async () => {
    const server = await scripted([
      call('describe_table', { table: 'customers' }),
      call('run_sql', { sql: 'SELECT city, monthly_fee FROM customers' }),
      call('run_sql', { sql: 'SELECT plan, ROUND(AVG(monthly_fee), 2) AS fee FROM customers GROUP BY plan' }),
      text('Done.'),
    ]);
    const result = resultOf(await ask(newHome(), server, ['-y', '--schema-only', 'Fees?']));
    assert.equal(result['status'], 'answered');
    const tools = toolMessages(server);
    assert.doesNotMatch(tools[0] ?? '', /Beijing|Shanghai/);
    assert.match(tools[1] ?? '', /withheld/);
    assert.doesNotMatch(tools[1] ?? '', /20\.5/);
    assert.match(tools[2] ?? '', /premium\t89\.5/);
    // The user sees the rows of the last query.
    assert.deepEqual(result['rows'].length, 2);
  });

  test('a proposed memory waits for confirmation, then shapes later questions', async () => {
    const server = await scripted([
      call('remember', { note: 'A high-value customer pays more than 80 CNY a month.', kind: 'definition' }),
      text('Noted.'),
      text('Using your definition.'),
    ]);
    const home = newHome();
    const first = resultOf(await ask(home, server, ['-y', 'High-value means a fee over 80. Remember that.']));
    const pending = first['memoriesPending'][0];
    assert.match(pending.id, /^m-/);
    const listed = await runIqueryAsync(home, ['memory', 'list', '--pending', '--json']);
    assert.match(listed.stdout, /high-value/i);
    const confirmed = await runIqueryAsync(home, ['memory', 'confirm', pending.id]);
    assert.equal(confirmed.status, 0, confirmed.stderr);
    await ask(home, server, ['-y', 'How many high-value customers?']);
    const system = (server.requests.at(-1)?.body.messages as { role: string; content: string }[])[0];
    assert.equal(system?.role, 'system');
    assert.match(system?.content ?? '', /high-value customer pays more than 80/);
  });

  test('expert mode: the plan waits for review before anything runs', async () => {
    const server = await scripted([text('1. Count customers by plan.\n2. Compare churn.'), call('run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' }), text('Done.')]);
    const home = newHome();
    const paused = resultOf(await ask(home, server, ['--mode', 'expert', '--session', 'exp', 'Compare plans']));
    assert.equal(paused['status'], 'needs_approval');
    assert.deepEqual(paused['pendingPlan'], ['Count customers by plan.', 'Compare churn.']);
    assert.equal(server.requests[0]?.body.tool_choice, 'none', 'no tool calls while planning');
    const done = resultOf(await ask(home, server, ['--mode', 'expert', '--session', 'exp', '--approve', '-y']));
    assert.equal(done['status'], 'answered');
    assert.match(JSON.stringify(server.requests.at(-2)?.body.messages), /Carry out this plan/);
  });

  test('developer mode returns every request and raw response', async () => {
    const server = await scripted([text('Hello.')]);
    const result = resultOf(await ask(newHome(), server, ['--mode', 'developer', 'Hi']));
    assert.equal(result['trace'].length, 2);
    assert.ok(result['trace'][0].request.messages.length >= 2);
    assert.ok(!JSON.stringify(result).includes(secretKey));
  });

  test('models without tool calling: tools are read from JSON in the text', async () => {
    const server = await scripted([text('```json\n{"tool": "run_sql", "arguments": {"sql": "SELECT COUNT(*) AS n FROM customers"}}\n```'), text('12 customers.')]);
    const result = resultOf(await ask(newHome('llm:\n  tool_calling: text\n'), server, ['-y', 'How many?']));
    assert.equal(result['status'], 'answered');
    assert.deepEqual(result['rows'], [[12]]);
    assert.equal(server.requests[0]?.body.tools, undefined);
  });
});

describe('the agent across processes and limits', () => {
  test('a resumed session loads its DataFrames again in the new process', async () => {
    const server = await scripted([
      call('load_data', { sql: 'SELECT plan, monthly_fee FROM customers', name: 'fees' }),
      text('Loaded.'),
      call('run_python', { code: 'print(len(fees), round(fees.monthly_fee.sum(), 1))' }),
      text('12 rows.'),
    ]);
    const home = newHome();
    assert.equal(resultOf(await ask(home, server, ['-y', '--session', 'frames', 'Load the fees'])).status, 'answered');
    const second = resultOf(await ask(home, server, ['-y', '--session', 'frames', 'How many rows do the fees have?']));
    assert.equal(second['steps'][0].status, 'ok', JSON.stringify(second['steps']));
    const python = toolMessages(server).at(-1) ?? '';
    assert.match(python, /12 662\.5/);
    assert.match(python, /loaded again from earlier in the session: fees/);
    const stored = JSON.parse(readFileSync(join(home, 'agent', 'frames', 'session.json'), 'utf8'));
    assert.equal(stored.turns.length, 2);
  });

  test('the step limit: after --max-steps model calls the model must answer without tools', async () => {
    const server = await scripted((request) => (request.body.tool_choice === 'none' ? text('Out of steps; 1 table.') : call('list_tables', {})));
    const result = resultOf(await ask(newHome(), server, ['-y', '--max-steps', '2', 'Keep looking']));
    assert.equal(result['status'], 'answered');
    assert.equal(result['steps'].length, 2);
    assert.equal(server.requests.length, 3);
    assert.match(JSON.stringify(server.requests[2]?.body.messages), /used the 2 steps/);
  });

  test('a context overflow is retried once with the history summarised', async () => {
    const server = await scripted([{ kind: 'http_error', status: 400, code: 'context_length_exceeded', message: "This model's maximum context length is 8192 tokens." }, text('Short answer.')]);
    const result = resultOf(await ask(newHome(), server, ['Hi']));
    assert.equal(result['status'], 'answered');
    assert.equal(server.requests.length, 2);
  });

  test('reasoning content is passed through', async () => {
    const server = await scripted([{ kind: 'text', text: 'Twelve.', reasoning: 'Count the rows first.' }]);
    const result = resultOf(await ask(newHome(), server, ['How many?']));
    assert.equal(result['reasoning'], 'Count the rows first.');
  });

  test('Python waiting for approval comes with the sandbox review of what it does', async () => {
    const server = await scripted([call('run_python', { code: 'import subprocess\nsubprocess.run(["ls"])' })]);
    const result = resultOf(await ask(newHome(), server, ['List files']));
    assert.equal(result['status'], 'needs_approval');
    assert.ok(result['pending'][0].findings.some((finding: any) => finding.kind === 'subprocess'), JSON.stringify(result['pending']));
  });
});

describe('iquery chat, answered at the prompt', () => {
  function chat(home: string, server: ScriptedModelServer, input: string, environment: Record<string, string> = {}): Promise<Run> {
    return runIqueryAsync(home, ['chat', '--data', data, '--dict', dictionary, '--llm-base-url', server.baseUrl, '--llm-model', 'scripted-1', '--session', 'talk'], {
      environment: { IQUERY_LLM_API_KEY: secretKey, ...environment },
      input,
    });
  }

  test('run, skip and a remembered note, each answered at the prompt', async () => {
    const server = await scripted([
      call('run_sql', { sql: 'SELECT COUNT(*) AS n FROM customers' }),
      text('There are 12 customers.'),
      call('run_python', { code: 'print("should not run")' }),
      text('Skipped.'),
      call('remember', { note: 'Fees are in CNY.', kind: 'preference' }),
      text('Saved.'),
    ]);
    const home = newHome();
    const run = await chat(home, server, 'How many customers?\nr\n/report\nRun some Python\ns\nRemember fees are CNY\ny\n/exit\n');
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /There are 12 customers\./);
    // /report wrote the report of the turn it followed: its SQL, its answer, its numbers checked.
    const reports = join(home, 'agent', 'talk', 'reports');
    const [written] = readdirSync(reports);
    const report = JSON.parse(readFileSync(join(reports, written ?? '', 'report.json'), 'utf8'));
    assert.equal(report.question, 'How many customers?');
    assert.equal(report.answer, 'There are 12 customers.');
    assert.equal(report.steps[0].code, 'SELECT COUNT(*) AS n FROM customers');
    assert.deepEqual(report.numbers, { checked: 1, unsupported: [] });
    assert.ok(existsSync(join(reports, written ?? '', 'report.html')));
    assert.match(run.stderr, /Run it\?/);
    assert.doesNotMatch(run.stdout + run.stderr, /should not run\n/);
    const tools = toolMessages(server);
    assert.match(tools[0] ?? '', /^n\n12$/m);
    assert.match(tools[1] ?? '', /chose not to run/);
    const saved = await runIqueryAsync(home, ['memory', 'list', '--json']);
    assert.match(saved.stdout, /Fees are in CNY/);
  });

  test('edit: the edited SQL runs, and is checked by the guard again', async () => {
    const editor = join(folder, 'edit.sh');
    writeFileSync(editor, `#!/bin/sh\nprintf '%s' "$IQUERY_TEST_EDIT" > "$1"\n`, { mode: 0o755 });
    const server = await scripted([call('run_sql', { sql: 'SELECT 1 AS one' }), text('Edited.'), call('run_sql', { sql: 'SELECT 2 AS two' }), text('Refused.')]);
    const home = newHome();
    const edited = await chat(home, server, 'Count them\ne\n/exit\n', { EDITOR: editor, VISUAL: editor, IQUERY_TEST_EDIT: "SELECT COUNT(*) AS n FROM customers WHERE city = 'Beijing'" });
    assert.equal(edited.status, 0, edited.stderr);
    assert.match(toolMessages(server)[0] ?? '', /^n\n4$/m);
    const hostile = await chat(home, server, 'Again\ne\n/exit\n', { EDITOR: editor, VISUAL: editor, IQUERY_TEST_EDIT: 'DELETE FROM customers' });
    assert.equal(hostile.status, 0, hostile.stderr);
    assert.match(toolMessages(server).at(-1) ?? '', /Refused DELETE/);
  });

  test('without a model the offline analyst answers at the prompt', async () => {
    const run = await runIqueryAsync(newHome(), ['chat', '--data', data, '--dict', dictionary], { input: '有多少客户\n/exit\n' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /offline analyst/);
    assert.match(run.stdout, /12/);
  });
});

describe('model failures: clear errors, nothing lost', () => {
  test('401: a clear error without the key, exit 1, and the question kept in the session', async () => {
    const server = await scripted([{ kind: 'http_error', status: 401, message: `Incorrect API key provided: ${secretKey}` }]);
    const home = newHome();
    const run = await ask(home, server, ['--session', 'auth', 'How many?']);
    assert.equal(run.status, 1);
    const result = resultOf(run);
    assert.equal(result['status'], 'error');
    assert.equal(result['error'].code, 'llm_auth');
    assert.ok(!(run.stdout + run.stderr).includes(secretKey));
    assert.doesNotMatch(run.stderr, stackLine);
    const stored = JSON.parse(readFileSync(join(home, 'agent', 'auth', 'session.json'), 'utf8'));
    assert.equal(stored.messages[0].content, 'How many?');
  });

  test('429 is retried with backoff and then succeeds', async () => {
    const server = await scripted([{ kind: 'http_error', status: 429, message: 'slow down', headers: { 'retry-after-ms': '10' } }, text('Fine.')]);
    const result = resultOf(await ask(newHome(), server, ['Hi']));
    assert.equal(result['status'], 'answered');
    assert.equal(server.requests.length, 2);
  });

  test('500 that persists ends as llm_failed after retries', async () => {
    const server = await scripted(() => ({ kind: 'http_error', status: 500, message: 'boom', headers: { 'retry-after-ms': '5' } }));
    const run = await ask(newHome('llm:\n  max_retries: 2\n'), server, ['Hi']);
    assert.equal(run.status, 1);
    assert.equal(resultOf(run)['error'].code, 'llm_failed');
    assert.equal(server.requests.length, 3);
  });

  test('a slow server ends as llm_timeout', async () => {
    const server = await scripted(() => ({ kind: 'delay', ms: 4000, then: text('late') }));
    const run = await ask(newHome('llm:\n  timeout_seconds: 1\n  max_retries: 0\n'), server, ['Hi']);
    assert.equal(run.status, 1);
    assert.equal(resultOf(run)['error'].code, 'llm_timeout');
  });

  test('an unreachable model: the offline analyst answers and says so', async () => {
    const server = await scripted([]);
    const url = server.baseUrl;
    await server.close();
    servers.splice(servers.indexOf(server), 1);
    const run = await runIqueryAsync(newHome(), ['ask', '--json', '--data', data, '--dict', dictionary, '--llm-base-url', url, '--llm-model', 'm', '有多少客户']);
    assert.equal(run.status, 0, run.stderr);
    const result = resultOf(run);
    assert.equal(result['analyst'], 'offline');
    assert.match(result['fallback'].reason, /reach|connect/i);
    assert.equal(result['status'], 'answered');
    assert.deepEqual(result['rows'], [[12]]);
  });

  test('no model name: a local server serving one model is asked for it; one serving several is a clear error', async () => {
    const single = await ScriptedModelServer.start([text('Twelve customers.')], { models: ['qwen2.5:7b'] });
    servers.push(single);
    const home = newHome();
    const run = await runIqueryAsync(home, ['ask', '--json', '--data', data, '--dict', dictionary, '--llm-base-url', single.baseUrl, '--session', 'nameless', 'How many customers?']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(resultOf(run)['model'], 'custom · qwen2.5:7b');
    assert.equal(single.requests[0]?.body.model, 'qwen2.5:7b');
    assert.equal(JSON.parse(readFileSync(join(home, 'agent', 'nameless', 'session.json'), 'utf8')).model, 'custom · qwen2.5:7b');
    const several = await ScriptedModelServer.start([text('never')], { models: ['qwen2.5:7b', 'llama3.1:8b'] });
    servers.push(several);
    const refused = await runIqueryAsync(newHome(), ['ask', '--data', data, '--dict', dictionary, '--llm-base-url', several.baseUrl, 'How many customers?']);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stdout, /serves several: qwen2\.5:7b, llama3\.1:8b/);
    assert.match(refused.stderr, /hint: Name the model with --llm-model/);
    assert.doesNotMatch(refused.stdout + refused.stderr, stackLine);
    assert.equal(several.requests.length, 0);
  });

  test('a session in use by another process is refused; one left by a dead process is taken over', async () => {
    const server = await scripted([text('Hello again.')]);
    const home = newHome();
    mkdirSync(join(home, 'agent', 'busy'), { recursive: true });
    writeFileSync(join(home, 'agent', 'busy', 'in-use.pid'), String(process.pid));
    const refused = await ask(home, server, ['--session', 'busy', 'Hi']);
    assert.equal(refused.status, 1);
    assert.match(resultOf(refused)['error'].message, /in use by another iquery process/);
    writeFileSync(join(home, 'agent', 'busy', 'in-use.pid'), '2147483646');
    const taken = await ask(home, server, ['--session', 'busy', 'Hi']);
    assert.equal(resultOf(taken)['status'], 'answered');
    assert.ok(!existsSync(join(home, 'agent', 'busy', 'in-use.pid')), 'released when done');
  });

  test('no model configured: the offline analyst answers', async () => {
    const run = await runIqueryAsync(newHome(), ['ask', '--json', '--data', data, '--dict', dictionary, '流失率是多少']);
    assert.equal(run.status, 0, run.stderr);
    const result = resultOf(run);
    assert.equal(result['analyst'], 'offline');
    assert.equal(result['status'], 'answered');
  });
});
