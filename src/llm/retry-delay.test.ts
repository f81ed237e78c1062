import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { maxRetryDelayMs, retryDelayMs } from './retry-delay.js';

describe('retryDelayMs', () => {
  test('doubles from the base, with jitter between half and all of it', () => {
    assert.deepEqual([1, 2, 3].map((retry) => retryDelayMs(retry, undefined, 500, () => 1)), [500, 1000, 2000]);
    assert.deepEqual([1, 2, 3].map((retry) => retryDelayMs(retry, undefined, 500, () => 0)), [250, 500, 1000]);
    assert.equal(retryDelayMs(30, undefined, 500, () => 1), maxRetryDelayMs);
  });

  test('the server decides when it says: retry-after-ms, then retry-after in seconds or as a date', () => {
    assert.equal(retryDelayMs(1, new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), 500), 1500);
    assert.equal(retryDelayMs(1, new Headers({ 'retry-after': '2' }), 500), 2000);
    const soon = new Date(Date.now() + 30_000).toUTCString();
    const delay = retryDelayMs(1, new Headers({ 'retry-after': soon }), 500) ?? -1;
    assert.ok(delay > 0 && delay <= 30_000, String(delay));
  });

  test('no retry when the server asks for a longer wait than iquery accepts', () => {
    assert.equal(retryDelayMs(1, new Headers({ 'retry-after': '3600' }), 500), undefined);
  });
});
