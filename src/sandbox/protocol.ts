/**
 * The kernel protocol: how the host talks to the Python kernel in the sandbox. The Python side is
 * `python/iquery_kernel/`; both follow this file.
 *
 * Channels (file descriptors of the kernel process):
 *  - fd 0 (stdin): requests, one JSON object per line, from the host.
 *  - fd 3: replies, one JSON object per line, to the host. A private descriptor, so that stray
 *    C-level writes to fd 1/2 (from a library or the user's code) can never corrupt the stream.
 *  - fd 4: control, one line at a time from the host: `interrupt <request id>` stops that request if
 *    it is running (a KeyboardInterrupt in the cell, state kept); a bare `interrupt` stops whatever runs.
 *  - fd 1 and 2: whatever escapes Python's sys.stdout/sys.stderr (C extensions, subprocesses); the
 *    host reads them and reports them as `stream` messages of the cell that is running.
 *
 * Replies are shaped like Jupyter messages so that notebook export is direct: every reply carries the
 * `id` of the request it belongs to, a `msg_type` and a `content`.
 */

export const kernelProtocolVersion = 1;

/** The MIME type of a DataFrame preview: `{columns, dtypes, rows, row_count, truncated}`. */
export const tableMimeType = 'application/vnd.iquery.table+json';

export type MimeBundle = Partial<Record<'text/plain' | 'text/html' | 'image/png' | 'image/svg+xml' | typeof tableMimeType, unknown>>;

export interface TablePreview {
  columns: string[];
  dtypes: string[];
  /** At most the preview cap (default 50) rows, values made JSON-safe (NaN → null, dates as ISO text). */
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
}

export type KernelRequest =
  /** Runs one cell. `svg` asks for figures as SVG too (PNG always). */
  | { id: string; type: 'execute'; code: string; svg?: boolean }
  /** Reads a frame the host wrote under the workspace (`manifest` is a path inside the sandbox) into variable `name`. */
  | { id: string; type: 'load_frame'; name: string; manifest: string }
  /** Writes DataFrame `name` as a frame under `directory` (inside the workspace); replies with the manifest path. */
  | { id: string; type: 'save_frame'; name: string; directory: string }
  /** Looks at code without running it (an AST pass); replies with `findings`. */
  | { id: string; type: 'review'; code: string }
  /** Memory in use by the kernel process (resident set size, bytes). */
  | { id: string; type: 'memory' }
  | { id: string; type: 'shutdown' };

export type ErrorContent = { ename: string; evalue: string; traceback: string[] };

export type KernelReply =
  /** Sent once at start-up, after pandas, numpy and matplotlib are imported. */
  | { id: null; msg_type: 'ready'; content: { protocol: number; python: string; pid: number; confinement: string[] } }
  | { id: string; msg_type: 'stream'; content: { name: 'stdout' | 'stderr'; text: string } }
  | { id: string; msg_type: 'execute_result'; content: { execution_count: number; data: MimeBundle } }
  | { id: string; msg_type: 'display_data'; content: { data: MimeBundle } }
  | { id: string; msg_type: 'error'; content: ErrorContent }
  /** The last message of every request: whether it succeeded, plus request-specific fields. */
  | {
      id: string;
      msg_type: 'reply';
      content: {
        status: 'ok' | 'error' | 'aborted';
        execution_count?: number;
        manifest?: string;
        rows?: number;
        rss_bytes?: number;
        findings?: ReviewFinding[];
      };
    };

/** Something in the code that deserves a second look before it runs; the sandbox stays the barrier. */
export interface ReviewFinding {
  /** e.g. 'subprocess', 'os-system', 'socket', 'open-outside-workspace', 'ctypes', 'dynamic-import', 'eval-exec', 'syntax-error' */
  kind: string;
  /** 1-based line of the code. */
  line: number;
  message: string;
  severity: 'warning' | 'danger';
}

/** A message the host reports for a cell: the Jupyter-shaped outputs, in order. */
export type CellOutput =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'execute_result'; execution_count: number; data: MimeBundle }
  | { output_type: 'display_data'; data: MimeBundle }
  | ({ output_type: 'error' } & ErrorContent);
