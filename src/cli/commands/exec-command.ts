import type { Command } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IqueryError } from '../../errors.js';
import { tableMimeType, type CellOutput, type TablePreview } from '../../sandbox/protocol.js';
import type { CellStatus, KernelSession } from '../../sandbox/kernel-session.js';
import { numberFlag } from '../number-flag.js';
import { printJson, printNote, type GlobalOptions } from '../output.js';
import { formatCell, renderTable } from '../render-table.js';

interface Cell {
  file: string;
  code: string;
}

interface CellReport {
  file: string;
  status: CellStatus | 'skipped';
  execution_count: number | null;
  outputs: CellOutput[];
}

function readCells(files: readonly string[]): Cell[] {
  return files.map((file) => {
    if (file === '-') return { file: '<stdin>', code: readFileSync(0, 'utf8') };
    if (!existsSync(file)) throw new IqueryError('not_found', `No file ${file}.`, { hint: 'Give Python files to run, or - for standard input.' });
    return { file, code: readFileSync(file, 'utf8') };
  });
}

/** Prints an output for a person as it arrives; figures are saved into the workspace. */
function showOutput(output: CellOutput, workspace: string, figureNumber: () => number): void {
  switch (output.output_type) {
    case 'stream':
      (output.name === 'stdout' ? process.stdout : process.stderr).write(output.text);
      return;
    case 'error':
      process.stderr.write(output.traceback.join('\n') + '\n');
      return;
    case 'execute_result':
    case 'display_data': {
      const data = output.data;
      const png = data['image/png'];
      if (typeof png === 'string') {
        const path = join(workspace, `figure-${figureNumber()}.png`);
        writeFileSync(path, Buffer.from(png, 'base64'));
        process.stdout.write(`[figure saved to ${path}]\n`);
        return;
      }
      const table = data[tableMimeType] as TablePreview | undefined;
      if (table !== undefined) {
        process.stdout.write(renderTable(table.columns, table.rows.map((row) => row.map((value) => formatCell(value as never)))) + '\n');
        process.stdout.write(table.truncated ? `(${table.rows.length} of ${table.row_count} rows shown)\n` : `(${table.row_count} rows)\n`);
        return;
      }
      const text = data['text/plain'];
      if (typeof text === 'string') process.stdout.write(text + '\n');
    }
  }
}

export function registerExecCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('exec')
    .description('Run Python files as consecutive cells of one fresh, sandboxed session (- reads standard input)')
    .argument('<files...>', 'Python files, run in order; later ones see earlier ones\' variables')
    .option('--timeout <seconds>', 'time limit per cell', numberFlag('--timeout', 'number above 0', 'a number of seconds above 0'))
    .option('--svg', 'capture figures as SVG as well as PNG')
    .option('--no-sandbox', 'run WITHOUT isolation (a warning is printed every time)')
    .action(async (files: string[], commandOptions: { timeout?: number; svg?: boolean; sandbox: boolean }) => {
      const options = globals();
      const cells = readCells(files);
      const { KernelSession } = await import('../../sandbox/kernel-session.js');
      const session: KernelSession = await KernelSession.create({ sandbox: commandOptions.sandbox });
      // Printed every time Python runs without bubblewrap (--no-sandbox).
      for (const warning of session.confinement.warnings) printNote(`warning: ${warning}`);
      let figures = 0;
      const reports: CellReport[] = [];
      const interrupt = (): void => session.interrupt();
      process.on('SIGINT', interrupt);
      try {
        for (const cell of cells) {
          if (reports.some((report) => report.status !== 'ok')) {
            reports.push({ file: cell.file, status: 'skipped', execution_count: null, outputs: [] });
            continue;
          }
          const result = await session.execute(cell.code, {
            ...(commandOptions.timeout === undefined ? {} : { timeoutMs: commandOptions.timeout * 1000 }),
            svg: commandOptions.svg === true,
            ...(options.json ? {} : { onOutput: (output: CellOutput) => showOutput(output, session.workspace, () => ++figures) }),
          });
          reports.push({ file: cell.file, status: result.status, execution_count: result.executionCount, outputs: result.outputs });
        }
      } finally {
        process.off('SIGINT', interrupt);
        await session.close();
      }
      const failed = reports.find((report) => report.status !== 'ok' && report.status !== 'skipped');
      if (options.json) {
        printJson({
          status: failed === undefined ? 'ok' : 'error',
          workspace: session.workspace,
          sandbox: commandOptions.sandbox,
          warnings: session.confinement.warnings,
          cells: reports,
        });
      } else {
        printNote(`workspace: ${session.workspace}`);
        if (failed !== undefined) printNote(`error: ${failed.file} ended with status ${failed.status}.`);
      }
      if (failed !== undefined) process.exitCode = 1;
    });
}
