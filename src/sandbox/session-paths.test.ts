import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { mountableCopy, reachableByOthers } from './session-paths.js';

const privateFolder = mkdtempSync(join(tmpdir(), 'iquery-private-'));
const home = mkdtempSync(join(tmpdir(), 'iquery-paths-home-'));
chmodSync(home, 0o711);
after(() => {
  rmSync(privateFolder, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('folders the sandbox mounts', () => {
  test('a folder out of the sandbox user\'s reach is copied, by content, where it can reach it', (context) => {
    if (process.getuid?.() !== 0) return context.skip('only root runs the sandbox as another uid; other users mount their folders as they are');
    const package_ = join(privateFolder, 'python', 'iquery_kernel');
    mkdirSync(package_, { recursive: true });
    writeFileSync(join(package_, '__init__.py'), 'VERSION = 1\n');
    assert.equal(reachableByOthers(join(privateFolder, 'python')), false);
    const copy = mountableCopy(join(privateFolder, 'python'), home);
    assert.notEqual(copy, join(privateFolder, 'python'));
    assert.ok(reachableByOthers(copy), copy);
    assert.equal(readFileSync(join(copy, 'iquery_kernel', '__init__.py'), 'utf8'), 'VERSION = 1\n');
    assert.equal(mountableCopy(join(privateFolder, 'python'), home), copy, 'the same content is copied once');
    writeFileSync(join(package_, '__init__.py'), 'VERSION = 22\n');
    const changed = mountableCopy(join(privateFolder, 'python'), home);
    assert.notEqual(changed, copy);
    assert.equal(readFileSync(join(changed, 'iquery_kernel', '__init__.py'), 'utf8'), 'VERSION = 22\n');
    // A copy of another version unused for more than a week goes when a new one is staged; a recent one stays.
    const weekAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(copy, weekAgo, weekAgo);
    writeFileSync(join(package_, '__init__.py'), 'VERSION = 333\n');
    const third = mountableCopy(join(privateFolder, 'python'), home);
    assert.equal(existsSync(copy), false, 'the stale copy is pruned');
    assert.equal(existsSync(changed), true, 'the recent copy stays');
    assert.equal(readFileSync(join(third, 'iquery_kernel', '__init__.py'), 'utf8'), 'VERSION = 333\n');
  });

  test('a reachable folder is mounted as it is', () => {
    const open = join(home, 'open');
    mkdirSync(open, { mode: 0o755 });
    assert.equal(mountableCopy(open, home), open);
  });
});
