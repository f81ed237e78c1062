/**
 * iquery as an MCP server: Claude Desktop, Cursor and other MCP clients get the same guarded data
 * access and Python sandbox as iquery's own agent, under the same data protection rules. The tool
 * names and arguments are a contract: list_tables {}, describe_table {table}, run_sql {sql},
 * run_python {code}, ask {question}.
 *
 * A tool that fails (a refused statement, a query error, a Python exception, bad arguments) answers
 * with `isError: true` and the message, for the model to repair; an unknown tool is a protocol error
 * (JSON-RPC -32602), and so is a failure inside iquery itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { CallToolRequestSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Dictionary } from '../dictionary/dictionary.js';
import { IqueryError, messageOf } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { DataSource } from '../sources/source.js';
import { McpTools, mcpMaxRows } from './mcp-tools.js';

export const mcpToolNames = ['list_tables', 'describe_table', 'run_sql', 'run_python', 'ask'] as const;
export type McpToolName = (typeof mcpToolNames)[number];

/** What an MCP server serves. The server does not own the source: whoever opened it closes it. */
export interface IqueryMcpContext {
  source: DataSource;
  /** The data and metric dictionary (`dictionaryFor`: --dict, the sidecar file, or a draft): meanings and sensitivity. */
  dictionary: Dictionary;
  /** false runs Python without bubblewrap (the user's explicit --no-sandbox). Default true. */
  sandbox?: boolean;
  /** Notes for a person, such as sandbox warnings. Under stdio they must not go to stdout. Default: dropped. */
  onNote?: (text: string) => void;
}

const sqlValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const sqlOutput = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(sqlValue)),
  truncated: z.boolean().describe('true when the result had more rows than were returned'),
});

/** The analyst's AskResult: the fields a client can rely on; the others (plan, chart, formats…) pass through. */
const askOutput = z.looseObject({
  status: z.enum(['answered', 'abstained', 'error']),
  question: z.string(),
  answer: z.string(),
  sql: z.string().nullable(),
  columns: z.array(z.string()),
  rows: z.array(z.array(sqlValue)),
  truncated: z.boolean(),
});

interface ToolSpec {
  title: string;
  description: string;
  input: z.ZodObject;
  output?: z.ZodObject;
  readOnly: boolean;
  run: (tools: McpTools, args: Record<string, unknown>, signal: AbortSignal) => Promise<CallToolResult>;
}

const toolSpecs: Record<McpToolName, ToolSpec> = {
  list_tables: {
    title: 'List tables',
    description: 'List the tables of the database with their row and column counts and what they hold, and the governed metrics of the data dictionary.',
    input: z.object({}),
    readOnly: true,
    run: (tools) => tools.listTables(),
  },
  describe_table: {
    title: 'Describe a table',
    description:
      'Describe one table: its columns with types, keys, meanings, units and sensitivity, distinct and null counts, and the values of categorical columns. '
      + 'Restricted columns may only be counted; confidential ones are masked in results.',
    input: z.object({ table: z.string().min(1).describe('the table name, as list_tables gives it') }),
    readOnly: true,
    run: (tools, args) => tools.describeTable(String(args['table'])),
  },
  run_sql: {
    title: 'Run SQL',
    description:
      `Run one read-only SQL query (SELECT, WITH … SELECT or VALUES) in the database's dialect and get the result, at most ${mcpMaxRows} rows. `
      + 'Anything that would change data is refused. Aggregate in SQL where you can.',
    input: z.object({ sql: z.string().min(1).describe('one read-only query') }),
    output: sqlOutput,
    readOnly: true,
    run: (tools, args, signal) => tools.runSql(String(args['sql']), signal),
  },
  run_python: {
    title: 'Run Python',
    description:
      'Run Python in a stateful sandbox (pandas, numpy, scipy, scikit-learn, statsmodels, matplotlib, seaborn; no network, no database access, no files outside its workspace). '
      + 'Variables persist between calls. Printed output and the last expression are returned, and matplotlib figures come back as PNG images.',
    input: z.object({ code: z.string().min(1).describe('Python code, run as one notebook cell') }),
    readOnly: false,
    run: (tools, args, signal) => tools.runPython(String(args['code']), signal),
  },
  ask: {
    title: 'Ask the offline analyst',
    description:
      'Answer a question about the data in Chinese or English with iquery\'s offline analyst (no language model): it maps the question onto the data dictionary, '
      + 'writes and runs the SQL, and returns a short answer, the SQL and the result table. It says so when it is not sure.',
    input: z.object({ question: z.string().min(1).describe('a question about the data, e.g. "churn rate by contract"') }),
    output: askOutput,
    readOnly: true,
    run: (tools, args, signal) => tools.ask(String(args['question']), signal),
  },
};

const instructions = [
  'iquery gives read-only, guarded access to one database and a sandboxed Python session.',
  'Start with list_tables and describe_table; query with run_sql (one read-only query at a time); use run_python for statistics and charts; ask answers simple questions without SQL.',
  'Columns the data dictionary marks restricted may only be counted (COUNT, COUNT DISTINCT, IS NULL); confidential ones come back masked.',
].join(' ');

let version: string | undefined;

function packageVersion(): string {
  version ??= String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0');
  return version;
}

/** An McpServer whose `close()` also stops its Python session (which a transport closing by itself stops too). */
class IqueryMcpServer extends McpServer {
  private readonly tools: McpTools;

  constructor(tools: McpTools) {
    super({ name: 'iquery', version: packageVersion() }, { instructions });
    this.tools = tools;
    this.server.onclose = () => void tools.close();
  }

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.tools.close();
    }
  }
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Creates the MCP server with the five tools, ready to `connect` to a transport. It has one Python
 * session, started by the first run_python and kept across calls, and one random salt for masking
 * confidential values. `close()` closes the transport and stops the Python session; the source stays
 * open.
 */
export function createIqueryMcpServer(context: IqueryMcpContext): McpServer {
  const tools = new McpTools({
    source: context.source,
    dictionary: context.dictionary,
    ...(context.sandbox === undefined ? {} : { sandbox: context.sandbox }),
    ...(context.onNote === undefined ? {} : { onNote: context.onNote }),
  });
  const server = new IqueryMcpServer(tools);
  for (const name of mcpToolNames) {
    const spec = toolSpecs[name];
    server.registerTool(
      name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: spec.input,
        ...(spec.output === undefined ? {} : { outputSchema: spec.output }),
        annotations: { readOnlyHint: spec.readOnly, destructiveHint: false, openWorldHint: false },
      },
      (args, extra) => spec.run(tools, args, extra.signal),
    );
  }
  // The SDK's own tools/call handler answers an unknown tool with a tool result; the MCP
  // specification and iquery make it a protocol error, so this handler takes its place.
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const spec = (mcpToolNames as readonly string[]).includes(name) ? toolSpecs[name as McpToolName] : undefined;
    if (spec === undefined) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}. The tools are ${mcpToolNames.join(', ')}.`);
    const parsed = spec.input.safeParse(request.params.arguments ?? {});
    if (!parsed.success) return toolError(`Invalid arguments for ${name}: ${z.prettifyError(parsed.error)}`);
    try {
      return await spec.run(tools, parsed.data, extra.signal);
    } catch (error) {
      if (error instanceof IqueryError) return toolError(`${error.code}: ${error.message}${error.hint === undefined ? '' : `\nhint: ${error.hint}`}`);
      throw new McpError(ErrorCode.InternalError, `internal error in ${name}: ${messageOf(error)}`);
    }
  });
  return server;
}
