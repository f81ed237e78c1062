/**
 * For the tests: runs Debian's Python (with numpy and pandas) on the kernel's own `frames.py`, outside
 * any sandbox, and returns what the script prints as JSON.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../package-root.js';

export const python = '/usr/bin/python3';

/**
 * Helpers every script gets: `frames`, `pandas`, `numpy`, and `column_values(series)`, a column as
 * JSON-safe values (None for NaN/NaT/NA, ISO text for timestamps, text for integers beyond 2^53).
 */
const prelude = String.raw`
import hashlib, json, math, sys
import numpy, pandas
from iquery_kernel import frames

def json_safe(value):
    if value is None or value is pandas.NA or value is pandas.NaT:
        return None
    if isinstance(value, numpy.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pandas.Timestamp):
        return value.isoformat()
    if isinstance(value, pandas.Timedelta):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value

def column_values(series):
    return [json_safe(value) for value in series.astype(object).tolist()]
`;

/** Runs `script` (after the prelude) and parses its standard output as JSON; throws with stderr on failure. */
export function runPython(script: string, argv: readonly string[] = []): unknown {
  const result = spawnSync(python, ['-c', `${prelude}\n${script}`, ...argv], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: join(packageRoot(), 'python'), PYTHONDONTWRITEBYTECODE: '1' },
    maxBuffer: 256 * 2 ** 20,
  });
  if (result.status !== 0) throw new Error(`python failed (${result.status}):\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

export interface PythonColumn {
  name: string;
  dtype: string;
  values: unknown[];
}

/** Loads a frame with `frames.read_frame` and returns every column's dtype and values. */
export function loadFrameInPython(manifest: string): { rows: number; columns: PythonColumn[] } {
  return runPython(
    String.raw`
frame = frames.read_frame(sys.argv[1])
print(json.dumps({'rows': len(frame), 'columns': [
    {'name': str(name), 'dtype': str(frame.iloc[:, index].dtype), 'values': column_values(frame.iloc[:, index])}
    for index, name in enumerate(frame.columns)]}))
`,
    [manifest],
  ) as { rows: number; columns: PythonColumn[] };
}
