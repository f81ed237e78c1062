import { runCli } from './cli.js';

// A reader that stops early (`iquery sql … | head`) closes the pipe; that is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await runCli(process.argv.slice(2));
// Exit now rather than when background work (compilers, idle pools) winds down; output is flushed first.
process.exitCode = code;
if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
