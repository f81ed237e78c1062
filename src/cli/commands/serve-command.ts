import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { iqueryHome } from '../../config/home.js';
import { demoDatabasePath } from '../../demo/demo-paths.js';
import { IqueryError } from '../../errors.js';
import { packageRoot } from '../../package-root.js';
import { isLoopbackHost } from '../../server/auth-middleware.js';
import { createApp } from '../../server/create-app.js';
import { DictionaryStore } from '../../server/dictionary-store.js';
import { SessionManager } from '../../server/session-manager.js';
import { startServer } from '../../server/start-server.js';
import { addAgentOptions, agentChoices, chosenModel, type AgentFlags } from '../agent-runner.js';
import { withData } from '../open-data.js';
import { printNote, type GlobalOptions } from '../output.js';
import { modelLabel } from '../../llm/llm-settings.js';

interface ServeOptions extends AgentFlags {
  port: number;
  host: string;
  token?: string;
}

const defaultPort = 8765;

function portFlag(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new IqueryError('usage', `--port takes a port number from 0 to 65535 (0 picks a free one), got "${text}".`);
  }
  return value;
}

/**
 * The token: --token, else IQUERY_SERVE_TOKEN, else one generated when the host is reachable from
 * other machines. Undefined on a loopback host with neither: no token then.
 */
function chooseToken(given: string | undefined, host: string): { token: string | undefined; generated: boolean } {
  const configured = given ?? process.env['IQUERY_SERVE_TOKEN'];
  if (configured !== undefined && configured.trim() !== '') return { token: configured.trim(), generated: false };
  if (isLoopbackHost(host)) return { token: undefined, generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      resolve(signal);
    };
    const onInterrupt = (): void => stop('SIGINT');
    const onTerminate = (): void => stop('SIGTERM');
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onTerminate);
  });
}

/**
 * `iquery serve`: the web app and the HTTP API (src/server/API.md) over `--data`, until SIGINT or
 * SIGTERM; then every session (agent, Python kernel, uploads) and the data are closed.
 */
export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  const command = program
    .command('serve')
    .description('Serve the web app and the HTTP API on this machine (or the network, with a token)')
    .option('--port <n>', 'the port; 0 picks a free one', portFlag, defaultPort)
    .option('--host <address>', '127.0.0.1 for this machine only; 0.0.0.0 for every network (a token is then required)', '127.0.0.1')
    .option('--token <token>', 'the bearer token clients must send (better: IQUERY_SERVE_TOKEN); generated when the host is not loopback');
  addAgentOptions(command).action(async (commandOptions: ServeOptions) => {
    const options = globals();
    const choices = agentChoices(commandOptions);
    const model = chosenModel(commandOptions);
    const { token, generated } = chooseToken(commandOptions.token, commandOptions.host);
    const home = iqueryHome();
    const dataPath = options.data ?? (existsSync(demoDatabasePath(home)) ? demoDatabasePath(home) : undefined);
    const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    await withData(options, async (source) => {
      const dictionary = await DictionaryStore.open(source, { home, ...(options.dict === undefined ? {} : { dictPath: options.dict }), ...(dataPath === undefined ? {} : { dataPath }) });
      const sessions = new SessionManager({
        home,
        source,
        ...(dataPath === undefined ? {} : { dataSpec: dataPath }),
        dictionary,
        ...(model === undefined ? {} : { model }),
        agent: { ...choices, sandbox: commandOptions.sandbox, ...(commandOptions.maxSteps === undefined ? {} : { maxSteps: commandOptions.maxSteps }) },
      });
      // The MCP hook: the MCP server (src/mcp) over streamable HTTP at /mcp, behind the same token. It
      // reads the dictionary the server started with (an edit in the web reaches it on restart).
      const { createMcpHttpHandler } = await import('../../mcp/mcp-http-handler.js');
      const mcp = createMcpHttpHandler({ source, dictionary: dictionary.dictionary, sandbox: commandOptions.sandbox, onNote: printNote });
      const app = createApp({
        sessions,
        dictionary,
        version,
        webRoot: join(packageRoot(), 'dist', 'web'),
        ...(token === undefined ? {} : { token }),
        mcp: (request) => mcp.handle(request),
      });
      const server = await startServer(app, { host: commandOptions.host, port: commandOptions.port }).catch(async (error: unknown) => {
        await mcp.close();
        throw error;
      });
      printNote(`iquery serves ${source.label} (${model === undefined ? 'offline analyst: no model is configured' : `agent: ${modelLabel(model)}`}; dictionary: ${dictionary.origin})`);
      if (generated) printNote(`Open ${server.url}/#token=${token ?? ''}\n(the token is printed only now; clients send it as Authorization: Bearer <token>)`);
      else printNote(`Open ${server.url}/${token === undefined ? '' : ' (send the token given with --token or IQUERY_SERVE_TOKEN: add #token=… to the URL once)'}`);
      if (!commandOptions.sandbox) printNote('warning: Python runs WITHOUT the sandbox (--no-sandbox).');
      printNote('Ctrl-C stops the server.');
      const signal = await waitForStopSignal();
      printNote(`(${signal}: closing the sessions)`);
      await server.close();
      await Promise.all([sessions.closeAll(), mcp.close()]);
    });
  });
}
