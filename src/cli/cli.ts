/** Placeholder until the commands land in the next commits. */
export async function runCli(argv: string[]): Promise<number> {
  process.stderr.write(`iquery: no commands yet (${argv.join(' ')})\n`);
  return 1;
}
