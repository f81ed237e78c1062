/**
 * Approval at the terminal: the code with what the checks found, then run / edit / skip / all.
 * Edit opens $VISUAL or $EDITOR (vi when neither is set) on a temporary file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApprovalDecision, Approver, PendingCode } from '../agent/approval.js';
import { IqueryError } from '../errors.js';
import { highlightPython, highlightSql } from './highlight.js';
import type { LineReader } from './line-reader.js';

const colour = (code: number, text: string): string => (process.stderr.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);

/** The code as shown before approval, on stderr (stdout stays for answers). */
export function showPendingCode(pending: PendingCode): void {
  const title = pending.tool === 'load_data' ? `load_data → DataFrame ${pending.name ?? ''}` : pending.tool;
  process.stderr.write(`\n${colour(1, `── ${title} (${pending.language}) ──`)}\n`);
  const code = process.stderr.isTTY ? (pending.language === 'sql' ? highlightSql(pending.code, 'duckdb') : highlightPython(pending.code)) : pending.code;
  for (const line of code.split('\n')) process.stderr.write(`  ${line}\n`);
  for (const finding of pending.findings) {
    const mark = finding.severity === 'danger' ? colour(31, '✖') : finding.severity === 'warning' ? colour(33, '!') : colour(32, '✓');
    process.stderr.write(`  ${mark} ${finding.line === undefined ? '' : `line ${finding.line}: `}${finding.message}\n`);
  }
}

function editInEditor(code: string, extension: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'iquery-edit-'));
  const file = join(folder, `code.${extension}`);
  try {
    writeFileSync(file, code);
    const editor = process.env['VISUAL'] ?? process.env['EDITOR'] ?? 'vi';
    spawnSync(editor, [file], { stdio: 'inherit', shell: process.platform === 'win32' });
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

export class TerminalApprover implements Approver {
  private readonly lines: LineReader;
  private readonly showCode: boolean;

  /** `showCode: false` when the code was already shown as it was written (chat, expert and developer modes). */
  constructor(lines: LineReader, options: { showCode?: boolean } = {}) {
    this.lines = lines;
    this.showCode = options.showCode ?? true;
  }

  /** The first letter of the answer when it is one of `choices`; Enter takes the first choice. Ended input stops the turn. */
  private async choose(question: string, choices: string): Promise<string> {
    for (;;) {
      const answer = await this.lines.question(`${question} [${choices}] `);
      if (answer === undefined) throw new IqueryError('usage', 'Standard input ended while a question waited for an answer.', { hint: 'Answer the prompt, or run with -y or --json.' });
      const trimmed = answer.trim().toLowerCase();
      const first = trimmed === '' ? choices[0] ?? '' : trimmed[0] ?? '';
      if (choices.toLowerCase().includes(first)) return first;
    }
  }

  async approveCode(pending: PendingCode): Promise<ApprovalDecision> {
    if (this.showCode) showPendingCode(pending);
    const choice = await this.choose('Run it? r = run, e = edit, s = skip, a = run all', 'resa');
    if (choice === 's') return { action: 'skip' };
    if (choice === 'a') return { action: 'run_all' };
    if (choice === 'e') return { action: 'edit', code: editInEditor(pending.code, pending.language === 'python' ? 'py' : 'sql') };
    return { action: 'run' };
  }

  async reviewPlan(plan: readonly string[]): Promise<string[] | null> {
    process.stderr.write(`\n${colour(1, '── plan ──')}\n${plan.map((step, index) => `  ${index + 1}. ${step}`).join('\n')}\n`);
    const choice = await this.choose('Go ahead? y = yes, e = edit, n = stop', 'yen');
    if (choice === 'n') return null;
    if (choice === 'y') return [...plan];
    const edited = editInEditor(plan.map((step, index) => `${index + 1}. ${step}`).join('\n') + '\n', 'txt');
    return edited.split('\n').map((line) => line.replace(/^\s*\d+\s*[.)、]\s*/, '').trim()).filter((line) => line !== '');
  }

  async confirmMemory(note: string): Promise<boolean> {
    process.stderr.write(`\nThe model asks to remember:\n  ${note}\n`);
    return (await this.choose('Save it for later questions? y/n', 'ny')) === 'y';
  }

  async approveSharing(summary: { columns: readonly string[]; rows: number; preview: string }): Promise<boolean> {
    process.stderr.write(`\nThe model asks to see this aggregate result (${summary.rows} rows):\n${summary.preview}\n`);
    return (await this.choose('Send it to the model? y/n', 'ny')) === 'y';
  }
}
