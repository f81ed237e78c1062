import type { Command } from 'commander';
import { IqueryError } from '../../errors.js';
import { MemoryStore, memoryKinds, type MemoryKind, type MemoryNote } from '../../memory/memory-store.js';
import { printJson, printLine, type GlobalOptions } from '../output.js';
import { renderTable } from '../render-table.js';

function kindOf(text: string | undefined): MemoryKind | undefined {
  if (text === undefined) return undefined;
  const kind = memoryKinds.find((candidate) => candidate === text.trim().toLowerCase().replaceAll('-', '_'));
  if (kind === undefined) throw new IqueryError('usage', `"${text}" is not a kind of memory.`, { hint: `Use --kind with one of: ${memoryKinds.join(', ')}.` });
  return kind;
}

/** "model, session s1, on postgres://…" — where a note came from, for a person. */
function originText(note: MemoryNote): string {
  const parts: string[] = [note.origin.by];
  if (note.origin.session !== undefined) parts.push(`session ${note.origin.session}`);
  if (note.origin.data !== undefined) parts.push(`on ${note.origin.data}`);
  return parts.join(', ');
}

/** The note goes last, so that it gets the width the short columns leave. */
function printNotes(notes: readonly MemoryNote[], withStatus: boolean): void {
  const headers = ['id', 'kind', ...(withStatus ? ['status'] : []), 'date', 'from', 'note'];
  const rows = notes.map((note) => [
    note.id,
    note.kind,
    ...(withStatus ? [note.status] : []),
    (note.confirmedAt ?? note.origin.at).slice(0, 10),
    originText(note),
    note.note.replace(/\s+/g, ' '),
  ]);
  printLine(renderTable(headers, rows));
}

export function registerMemoryCommands(program: Command, globals: () => GlobalOptions): void {
  const memory = program
    .command('memory')
    .description('Long-term memory: definitions, preferences and corrected SQL used on later questions, kept in IQUERY_HOME/memory');

  memory
    .command('list')
    .description('List saved notes (--pending: the ones waiting for confirmation; --all: both)')
    .option('--all', 'saved and pending notes')
    .option('--pending', 'only the notes waiting for confirmation')
    .action((commandOptions: { all?: boolean; pending?: boolean }) => {
      const options = globals();
      if (commandOptions.all === true && commandOptions.pending === true) {
        throw new IqueryError('usage', 'Give --all or --pending, not both.', { hint: '--all already includes the pending notes.' });
      }
      const status = commandOptions.all === true ? 'all' : commandOptions.pending === true ? 'pending' : 'saved';
      const notes = MemoryStore.open().list({ status });
      if (options.json) {
        printJson({ status: 'ok', notes });
        return;
      }
      if (notes.length === 0) {
        const what = status === 'pending' ? 'No notes are waiting for confirmation.' : status === 'all' ? 'No memory notes yet.' : 'No saved memory notes yet.';
        printLine(`${what} Add one with \`iquery memory add "…"\`.`);
        return;
      }
      printNotes(notes, status === 'all');
      if (status === 'saved') {
        const pending = MemoryStore.open().list({ status: 'pending' }).length;
        if (pending > 0) printLine(`(${pending} more waiting for confirmation: \`iquery memory list --pending\`)`);
      }
    });

  memory
    .command('add')
    .description('Save a note of your own, used on later questions')
    .argument('<note>', 'what to remember, e.g. "活跃用户 means at least one bill in the last 30 days"')
    .option('--kind <kind>', `one of ${memoryKinds.join(', ')} (default: note)`)
    .action((text: string, commandOptions: { kind?: string }) => {
      const options = globals();
      const kind = kindOf(commandOptions.kind);
      const note = MemoryStore.open().add({ note: text, ...(kind === undefined ? {} : { kind }), origin: options.data === undefined ? {} : { data: options.data } });
      if (options.json) printJson({ status: 'ok', note });
      else printLine(`Saved ${note.id} (${note.kind}).`);
    });

  memory
    .command('confirm')
    .description('Save a note the model proposed')
    .argument('<id>', 'the note, e.g. m-3fa91c (see `iquery memory list --pending`)')
    .action((id: string) => {
      const options = globals();
      const note = MemoryStore.open().confirm(id);
      if (options.json) printJson({ status: 'ok', note });
      else printLine(`Saved ${note.id} (${note.kind}): ${note.note.replace(/\s+/g, ' ')}`);
    });

  memory
    .command('delete')
    .description('Delete a saved or pending note')
    .argument('<id>', 'the note, e.g. m-3fa91c (see `iquery memory list --all`)')
    .action((id: string) => {
      const options = globals();
      const note = MemoryStore.open().delete(id);
      if (options.json) printJson({ status: 'ok', note });
      else printLine(`Deleted ${note.id}.`);
    });
}
