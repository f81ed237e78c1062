import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { IqueryError } from '../errors.js';
import { MemoryStore, maximumNoteLength } from './memory-store.js';

const homes: string[] = [];
after(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'iquery-memory-'));
  homes.push(home);
  return home;
}

function errorWith(code: string, pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof IqueryError, String(error));
    assert.equal(error.code, code);
    assert.match(`${error.message} ${error.hint ?? ''}`, pattern);
    return true;
  };
}

describe('MemoryStore', () => {
  test('creates nothing until a note is written', () => {
    const home = freshHome();
    const store = MemoryStore.open(home);
    assert.deepEqual(store.list({ status: 'all' }), []);
    assert.equal(existsSync(join(home, 'memory')), false);
  });

  test('a proposed note waits for confirmation, then is saved and listed', () => {
    const home = freshHome();
    const store = MemoryStore.open(home);
    const proposed = store.propose({
      note: '活跃用户 means at least one bill in the last 30 days',
      kind: 'definition',
      origin: { by: 'model', session: 's1', question: '活跃用户有多少?', data: 'postgres://analyst:secret@db:5432/sales' },
    });
    assert.match(proposed.id, /^m-[0-9a-f]{6}$/);
    assert.equal(proposed.status, 'pending');
    assert.equal(proposed.kind, 'definition');
    assert.equal(proposed.origin.by, 'model');
    assert.equal(proposed.origin.data, 'postgres://analyst:***@db:5432/sales');
    assert.ok(!Number.isNaN(Date.parse(proposed.origin.at)));
    assert.equal(proposed.confirmedAt, undefined);
    assert.deepEqual(store.list(), []);
    assert.deepEqual(store.list({ status: 'pending' }).map((note) => note.id), [proposed.id]);
    assert.doesNotMatch(readFileSync(store.path, 'utf8'), /secret/);

    const confirmed = store.confirm(proposed.id);
    assert.equal(confirmed.id, proposed.id);
    assert.equal(confirmed.status, 'saved');
    assert.ok(confirmed.confirmedAt !== undefined);
    // Another process (here: another store) sees it.
    assert.deepEqual(MemoryStore.open(home).list(), [confirmed]);
    assert.deepEqual(store.confirm(proposed.id), confirmed);
  });

  test('the same text is one note, whatever its white space', () => {
    const store = MemoryStore.open(freshHome());
    const first = store.propose({ note: 'Answer in Chinese, amounts in CNY', kind: 'preference', origin: { by: 'model' } });
    const again = store.propose({ note: '  Answer in Chinese,\n amounts   in CNY ', origin: { by: 'model' } });
    assert.equal(again.id, first.id);
    assert.equal(store.list({ status: 'all' }).length, 1);
    // The user writing it confirms the pending one instead of adding a second.
    const added = store.add({ note: 'Answer in Chinese, amounts in CNY' });
    assert.equal(added.id, first.id);
    assert.equal(added.status, 'saved');
    assert.equal(store.list().length, 1);
  });

  test("a user's note is saved at once, recorded as the user's", () => {
    const store = MemoryStore.open(freshHome());
    const note = store.add({ note: 'fiscal year starts in April', origin: { data: 'sales.duckdb' } });
    assert.equal(note.status, 'saved');
    assert.equal(note.kind, 'note');
    assert.equal(note.origin.by, 'user');
    assert.equal(note.origin.data, 'sales.duckdb');
    assert.deepEqual(store.list().map((saved) => saved.id), [note.id]);
  });

  test('deletes pending and saved notes; unknown ids say how to list them', () => {
    const store = MemoryStore.open(freshHome());
    const saved = store.add({ note: 'one' });
    const pending = store.propose({ note: 'two', origin: { by: 'model' } });
    assert.equal(store.delete(pending.id).id, pending.id);
    assert.equal(store.delete(saved.id).note, 'one');
    assert.deepEqual(store.list({ status: 'all' }), []);
    assert.throws(() => store.delete(saved.id), errorWith('not_found', /iquery memory list/));
    assert.throws(() => store.confirm('m-000000'), errorWith('not_found', /m-000000/));
  });

  test('refuses empty, overlong notes and unknown kinds with a clear error', () => {
    const store = MemoryStore.open(freshHome());
    assert.throws(() => store.add({ note: '   ' }), errorWith('bad_input', /empty/));
    assert.throws(() => store.add({ note: 'x'.repeat(maximumNoteLength + 1) }), errorWith('bad_input', /at most 2000 characters; this one has 2001/));
    assert.equal(store.add({ note: '长'.repeat(maximumNoteLength) }).note.length, maximumNoteLength);
    assert.throws(() => store.add({ note: 'x', kind: 'secret' as never }), errorWith('usage', /definition, preference, corrected_sql, note/));
  });

  test('keeps the file and its folder private, and leaves no temporary files', () => {
    const home = freshHome();
    const store = MemoryStore.open(home);
    store.add({ note: 'private' });
    store.propose({ note: 'also private', origin: { by: 'model' } });
    assert.equal(statSync(store.path).mode & 0o777, 0o600);
    assert.equal(statSync(join(home, 'memory')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(home, 'memory')), ['notes.json']);
  });

  test('a damaged file is an error with a hint, and is never overwritten', () => {
    for (const content of ['{"version": 1, "notes": [', '{"version": 1, "notes": [{"id": "m-abcdef"}]}', '[]']) {
      const home = freshHome();
      mkdirSync(join(home, 'memory'));
      const path = join(home, 'memory', 'notes.json');
      writeFileSync(path, content);
      assert.throws(() => MemoryStore.open(home), errorWith('bad_input', /notes\.json is damaged.*move it away/s));
      assert.equal(readFileSync(path, 'utf8'), content);
    }
  });

  test('takes over a lock left by a process that died', () => {
    const home = freshHome();
    const store = MemoryStore.open(home);
    store.add({ note: 'first' });
    const lock = `${store.path}.lock`;
    writeFileSync(lock, '999999 dead');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    store.add({ note: 'second' });
    assert.deepEqual(store.list().map((note) => note.note), ['first', 'second']);
    assert.equal(existsSync(lock), false);
  });

  test('processes writing at once lose no note', async () => {
    const home = freshHome();
    const moduleUrl = new URL('./memory-store.js', import.meta.url).href;
    const writers = 4;
    const notesEach = 25;
    const script = `
      const { MemoryStore } = await import(${JSON.stringify(moduleUrl)});
      const store = MemoryStore.open(process.argv[1]);
      for (let index = 0; index < ${notesEach}; index++) {
        if (index % 2 === 0) store.add({ note: 'writer ' + process.argv[2] + ' note ' + index });
        else store.propose({ note: 'writer ' + process.argv[2] + ' note ' + index, origin: { by: 'model' } });
      }`;
    const exits = await Promise.all(
      Array.from({ length: writers }, (_, writer) =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', script, home, String(writer)], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('error', reject);
          child.on('exit', resolve);
        }),
      ),
    );
    assert.deepEqual(exits, Array.from({ length: writers }, () => 0));
    const notes = MemoryStore.open(home).list({ status: 'all' });
    assert.equal(notes.length, writers * notesEach);
    assert.equal(new Set(notes.map((note) => note.id)).size, writers * notesEach);
    assert.deepEqual(readdirSync(join(home, 'memory')), ['notes.json']);
  });
});
