import type { Command } from 'commander';
import { openData } from '../open-data.js';
import { printNote, type GlobalOptions } from '../output.js';

/** Resolves when standard input ends (the client went away) or the process is asked to stop. */
function untilInputEnds(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.stdin.off('end', done).off('close', done);
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve();
    };
    process.stdin.once('end', done).once('close', done);
    process.once('SIGINT', done).once('SIGTERM', done);
  });
}

/**
 * `iquery mcp`: the MCP server over stdio, for clients that start it themselves. It runs until its
 * standard input closes (or SIGINT/SIGTERM), then stops the Python session and closes the source.
 * In Claude Desktop's `claude_desktop_config.json`:
 * `{"mcpServers": {"iquery": {"command": "iquery", "args": ["--data", "/path/to/data", "mcp"]}}}`
 */
export function registerMcpCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('mcp')
    .description('Serve the data to an MCP client (Claude Desktop, Cursor, …) over standard input and output')
    .option('--no-sandbox', 'run Python WITHOUT isolation (a warning is printed every time)')
    .action(async (commandOptions: { sandbox: boolean }) => {
      const options = globals();
      // Standard output carries only protocol messages: every note goes to stderr.
      const source = await openData({ ...options, json: false });
      try {
        const [{ dictionaryFor }, { createIqueryMcpServer }, { StdioServerTransport }] = await Promise.all([
          import('../../analyst/open-analyst.js'),
          import('../../mcp/mcp-server.js'),
          import('@modelcontextprotocol/sdk/server/stdio.js'),
        ]);
        const { dictionary, origin } = await dictionaryFor(source, {
          ...(options.dict === undefined ? {} : { dictPath: options.dict }),
          ...(options.data === undefined ? {} : { dataPath: options.data }),
        });
        const server = createIqueryMcpServer({ source, dictionary, sandbox: commandOptions.sandbox, onNote: printNote });
        const stopped = untilInputEnds();
        await server.connect(new StdioServerTransport());
        printNote(`iquery MCP server on standard input/output: ${source.label} (${source.dialect}), dictionary ${origin === 'drafted' ? 'drafted from the data' : origin}`);
        if (!commandOptions.sandbox) printNote('warning: run_python runs WITHOUT the sandbox (--no-sandbox).');
        await stopped;
        await server.close();
      } finally {
        await source.close();
      }
    });
}
