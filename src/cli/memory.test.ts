/** `iquery memory` as people and scripts meet it: the real `bin/iquery` in a child process. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MemoryStore, type MemoryNote } from '../memory/memory-store.js';
import { runIquery, stackLine, type Run } from './testing/run-iquery.js';

const homes: string[] = [];
after(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function freshHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'iquery-memory-cli-'));
  homes.push(home);
  return home;
}

function json(run: Run): Record<string, unknown> {
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, run.stdout);
  return JSON.parse(lines[0] ?? '') as Record<string, unknown>;
}

describe('iquery memory', () => {
  test('add, list, confirm and delete, as JSON', () => {
    const home = freshHome();
    assert.deepEqual(json(runIquery(home, ['memory', 'list', '--json'])), { status: 'ok', notes: [] });

    const added = json(runIquery(home, ['--data', 'mysql://analyst:secret@db/sales', 'memory', 'add', '--json', '--kind', 'definition', '活跃用户 means at least one bill in the last 30 days']));
    assert.equal(added['status'], 'ok');
    const note = added['note'] as MemoryNote;
    assert.match(note.id, /^m-[0-9a-f]{6}$/);
    assert.equal(note.kind, 'definition');
    assert.equal(note.status, 'saved');
    assert.equal(note.origin.by, 'user');
    assert.equal(note.origin.data, 'mysql://analyst:***@db/sales');

    // The model proposes through the store; the user confirms on the command line.
    const proposed = MemoryStore.open(home).propose({ note: 'Answer in Chinese, amounts in CNY', kind: 'preference', origin: { by: 'model', session: 'monday', question: '各合同类型的收入' } });
    const saved = json(runIquery(home, ['memory', 'list', '--json']))['notes'] as MemoryNote[];
    assert.deepEqual(saved.map((entry) => entry.id), [note.id]);
    const pending = json(runIquery(home, ['memory', 'list', '--pending', '--json']))['notes'] as MemoryNote[];
    assert.deepEqual(pending.map((entry) => entry.id), [proposed.id]);
    assert.equal((json(runIquery(home, ['memory', 'list', '--all', '--json']))['notes'] as MemoryNote[]).length, 2);

    const confirmed = json(runIquery(home, ['memory', 'confirm', proposed.id, '--json']))['note'] as MemoryNote;
    assert.equal(confirmed.status, 'saved');
    assert.equal(confirmed.origin.session, 'monday');
    assert.ok(confirmed.confirmedAt !== undefined);

    const deleted = json(runIquery(home, ['memory', 'delete', note.id, '--json']))['note'] as MemoryNote;
    assert.equal(deleted.id, note.id);
    assert.deepEqual((json(runIquery(home, ['memory', 'list', '--json']))['notes'] as MemoryNote[]).map((entry) => entry.id), [proposed.id]);
  });

  test('people get a table, and a word when there is nothing to show', () => {
    const home = freshHome();
    const empty = runIquery(home, ['memory', 'list']);
    assert.equal(empty.status, 0, empty.stderr);
    assert.match(empty.stdout, /No saved memory notes yet\. Add one with `iquery memory add/);

    const added = runIquery(home, ['memory', 'add', 'fiscal year starts in April']);
    assert.equal(added.status, 0, added.stderr);
    const id = /Saved (m-[0-9a-f]{6}) \(note\)\./.exec(added.stdout)?.[1];
    assert.ok(id !== undefined, added.stdout);
    MemoryStore.open(home).propose({ note: '流失 means Churn = Yes', origin: { by: 'model' } });

    const list = runIquery(home, ['memory', 'list']);
    assert.equal(list.status, 0, list.stderr);
    const [header, rule, row, ...rest] = list.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^id\s+kind\s+date\s+from\s+note$/);
    assert.match(rule ?? '', /^─+/);
    assert.match(row ?? '', new RegExp(`^${id}\\s+note\\s+\\d{4}-\\d\\d-\\d\\d\\s+user\\s+fiscal year starts in April$`));
    assert.deepEqual(rest, ['(1 more waiting for confirmation: `iquery memory list --pending`)']);

    const all = runIquery(home, ['memory', 'list', '--all']);
    assert.match(all.stdout, /status/);
    assert.match(all.stdout, /pending\s+\S+\s+model\s+流失 means Churn = Yes/);

    const deleted = runIquery(home, ['memory', 'delete', id]);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.stdout, `Deleted ${id}.\n`);
  });

  test("the user's mistakes exit 1 with a message and a hint, no stack trace", () => {
    const home = freshHome();
    const cases: [string[], RegExp][] = [
      [['memory', 'confirm', 'm-000000'], /No memory note with the id "m-000000"[\s\S]*hint: See the ids with `iquery memory list --all`/],
      [['memory', 'delete', 'm-000000'], /No memory note/],
      [['memory', 'add', 'x', '--kind', 'secret'], /"secret" is not a kind of memory[\s\S]*definition, preference, corrected_sql, note/],
      [['memory', 'add', '   '], /cannot be empty/],
      [['memory', 'add', 'x'.repeat(2001)], /at most 2000 characters; this one has 2001/],
      [['memory', 'list', '--all', '--pending'], /not both/],
      [['memory', 'confirm'], /missing required argument/],
    ];
    for (const [args, message] of cases) {
      const run = runIquery(home, args);
      assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, /^error: /);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, stackLine);
    }
    const asJson = runIquery(home, ['memory', 'confirm', 'm-000000', '--json']);
    assert.equal(asJson.status, 1);
    const error = JSON.parse(asJson.stdout) as { status: string; error: { code: string; hint: string } };
    assert.equal(error.status, 'error');
    assert.equal(error.error.code, 'not_found');
    assert.match(error.error.hint, /iquery memory list/);
  });

  test('a damaged memory file is reported, not wiped', () => {
    const home = freshHome();
    mkdirSync(join(home, 'memory'));
    writeFileSync(join(home, 'memory', 'notes.json'), '{"version": 1, "notes": [');
    for (const args of [['memory', 'list'], ['memory', 'add', 'hello']]) {
      const run = runIquery(home, args);
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /^error: The memory file .*notes\.json is damaged/);
      assert.match(run.stderr, /hint: Fix it by hand, or move it away/);
      assert.doesNotMatch(run.stderr, stackLine);
    }
  });
});
