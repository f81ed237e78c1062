import { askThroughService, isAskCommand, serviceEnabled, startAskService } from './ask-service.js';

// A reader that stops early (`iquery sql … | head`) closes the pipe; that is not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const argv = process.argv.slice(2);
const viaService = isAskCommand(argv) && serviceEnabled(argv);
if (viaService) {
  // A running answer service has everything loaded: it answers in a fraction of a cold start.
  const answered = await askThroughService(argv);
  if (answered !== undefined) {
    process.stdout.write(answered.stdout);
    process.stderr.write(answered.stderr);
    process.exitCode = answered.code;
    process.stdout.end(() => process.exit(answered.code));
  }
}
if (process.exitCode === undefined) {
  const { runCli } = await import('./cli.js');
  const code = await runCli(argv);
  // Starting the service is a convenience: a home that cannot hold it (read-only) changes nothing.
  if (viaService) await startAskService().catch(() => undefined);
  // Exit now rather than when background work (compilers, idle pools) winds down; output is flushed first.
  process.exitCode = code;
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit(code);
}
