/**
 * Long-term memory: notes that outlive a session (what "活跃用户" means, which currency to answer in,
 * a corrected query). The model may only propose a note; it is used on later questions once the user
 * confirms it. The notes live in IQUERY_HOME/memory/notes.json, readable by its owner only, written
 * whole under a temporary name and renamed, under a lock file so that two processes writing at once
 * both keep their note.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { iqueryHome } from '../config/home.js';
import { IqueryError, messageOf } from '../errors.js';
import { redactUrl } from '../sources/connection-url.js';

/** What a note is about; `note` when nothing more specific fits. */
export const memoryKinds = ['definition', 'preference', 'corrected_sql', 'note'] as const;
export type MemoryKind = (typeof memoryKinds)[number];

/** `pending`: proposed by the model, waiting for the user; `saved`: confirmed or written by the user. */
export const memoryStatuses = ['pending', 'saved'] as const;
export type MemoryStatus = (typeof memoryStatuses)[number];

/** Where a note came from. */
export interface MemoryOrigin {
  by: 'model' | 'user';
  /** The session (conversation) it was proposed in. */
  session?: string;
  /** The question being answered when it was proposed. */
  question?: string;
  /** The data source's label; a password in a URL is replaced by `***` before it is stored. */
  data?: string;
  /** ISO 8601 time it was proposed or added. */
  at: string;
}

export interface MemoryNote {
  /** `m-` and six random hex digits; stable for the note's life. */
  id: string;
  note: string;
  kind: MemoryKind;
  status: MemoryStatus;
  origin: MemoryOrigin;
  /** ISO 8601 time the user confirmed it; absent on pending notes and on notes the user wrote. */
  confirmedAt?: string;
}

/** A note to propose; `kind` defaults to `note`. */
export interface MemoryProposal {
  note: string;
  kind?: MemoryKind;
  origin: Omit<MemoryOrigin, 'at'>;
}

/** A note the user writes: always recorded as `by: 'user'`, so the model cannot skip the confirmation. */
export interface MemoryAddition {
  note: string;
  kind?: MemoryKind;
  origin?: Omit<MemoryOrigin, 'at' | 'by'> & { by?: 'user' };
}

/** Which notes `list` returns; default `saved`. */
export interface MemoryListOptions {
  status?: MemoryStatus | 'all';
}

/** Longest note, in characters (after trimming). */
export const maximumNoteLength = 2000;
/** Longer origin fields (a long question) are cut to this many characters. */
const maximumOriginLength = 500;
/** A lock older than this is left over from a process that died while writing. */
const staleLockMilliseconds = 10_000;
/** How long a writer waits for another one before giving up. */
const lockWaitMilliseconds = 15_000;

const originSchema = z.strictObject({
  by: z.enum(['model', 'user']),
  session: z.string().optional(),
  question: z.string().optional(),
  data: z.string().optional(),
  at: z.string(),
});

const noteSchema = z.strictObject({
  id: z.string().regex(/^m-[0-9a-f]{6,}$/, 'an id looks like m-3fa91c'),
  note: z.string().min(1),
  kind: z.enum(memoryKinds),
  status: z.enum(memoryStatuses),
  origin: originSchema,
  confirmedAt: z.string().optional(),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  notes: z.array(noteSchema),
});

interface MemoryFile {
  version: 1;
  notes: MemoryNote[];
}

/** Text compared for "the same note": NFKC, runs of white space as one space. */
function sameText(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

function checkedKind(kind: MemoryKind | undefined): MemoryKind {
  if (kind === undefined) return 'note';
  if (!(memoryKinds as readonly string[]).includes(kind)) {
    throw new IqueryError('usage', `"${String(kind)}" is not a kind of memory.`, { hint: `Use one of: ${memoryKinds.join(', ')}.` });
  }
  return kind;
}

function checkedNote(note: string): string {
  const trimmed = note.trim();
  if (trimmed === '') throw new IqueryError('bad_input', 'A memory note cannot be empty.', { hint: 'Write what should be remembered, e.g. "活跃用户 means at least one bill in the last 30 days".' });
  const length = [...trimmed].length;
  if (length > maximumNoteLength) {
    throw new IqueryError('bad_input', `A memory note holds at most ${maximumNoteLength} characters; this one has ${length}.`, {
      hint: 'Shorten it, or split it into several notes.',
      details: { length, maximum: maximumNoteLength },
    });
  }
  return trimmed;
}

function cut(text: string): string {
  const characters = [...text];
  return characters.length <= maximumOriginLength ? text : `${characters.slice(0, maximumOriginLength - 1).join('')}…`;
}

function originOf(input: Omit<MemoryOrigin, 'at'>, at: string): MemoryOrigin {
  const origin: MemoryOrigin = { by: input.by, at };
  if (input.session !== undefined && input.session !== '') origin.session = cut(input.session);
  if (input.question !== undefined && input.question !== '') origin.question = cut(input.question);
  if (input.data !== undefined && input.data !== '') origin.data = cut(redactUrl(input.data));
  return origin;
}

/** Blocks the thread for a short while: the store's API is synchronous, and waits are rare and brief. */
function sleep(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

/**
 * The memory of one IQUERY_HOME. Every call reads the file afresh (another process may have written
 * it); every change re-reads it under the lock, changes it and writes it back whole.
 */
export class MemoryStore {
  /** The notes file: IQUERY_HOME/memory/notes.json. */
  readonly path: string;
  private readonly folder: string;
  private readonly lockPath: string;
  /** Written into the lock file while this store holds it, so that only its owner removes it. */
  private lockToken: string | undefined;

  private constructor(home: string) {
    this.folder = join(home, 'memory');
    this.path = join(this.folder, 'notes.json');
    this.lockPath = `${this.path}.lock`;
  }

  /**
   * Opens the memory under `home` (default: `iqueryHome()`). Nothing is created until the first note
   * is written. A damaged file is an `IqueryError('bad_input')`; it is never wiped.
   */
  static open(home: string = iqueryHome()): MemoryStore {
    const store = new MemoryStore(home);
    store.read();
    return store;
  }

  /** The notes of a status (default `saved`; `all` for both), oldest first. */
  list(options: MemoryListOptions = {}): MemoryNote[] {
    const status = options.status ?? 'saved';
    return this.read().notes.filter((note) => status === 'all' || note.status === status);
  }

  /**
   * Records a note as `pending` until the user confirms it. A pending or saved note with the same text
   * (ignoring white space differences) is returned as it is instead of adding a second one.
   */
  propose(input: MemoryProposal): MemoryNote {
    const text = checkedNote(input.note);
    const kind = checkedKind(input.kind);
    return this.change((file) => {
      const existing = this.findSame(file, text);
      if (existing !== undefined) return existing;
      const note: MemoryNote = { id: this.newId(file), note: text, kind, status: 'pending', origin: originOf(input.origin, new Date().toISOString()) };
      file.notes.push(note);
      return note;
    });
  }

  /**
   * Saves a note the user wrote, at once, as `by: 'user'`. The same text already saved is returned as
   * it is; the same text pending is confirmed.
   */
  add(input: MemoryAddition): MemoryNote {
    const text = checkedNote(input.note);
    const kind = checkedKind(input.kind);
    return this.change((file) => {
      const existing = this.findSame(file, text);
      if (existing !== undefined) return existing.status === 'saved' ? existing : confirmNote(existing);
      const note: MemoryNote = { id: this.newId(file), note: text, kind, status: 'saved', origin: originOf({ ...input.origin, by: 'user' }, new Date().toISOString()) };
      file.notes.push(note);
      return note;
    });
  }

  /** Saves a pending note; a note already saved is returned unchanged. */
  confirm(id: string): MemoryNote {
    return this.change((file) => {
      const note = this.find(file, id);
      return note.status === 'saved' ? note : confirmNote(note);
    });
  }

  /** Removes a pending or saved note and returns it. */
  delete(id: string): MemoryNote {
    return this.change((file) => {
      const note = this.find(file, id);
      file.notes.splice(file.notes.indexOf(note), 1);
      return note;
    });
  }

  private find(file: MemoryFile, id: string): MemoryNote {
    const note = file.notes.find((candidate) => candidate.id === id.trim());
    if (note === undefined) {
      throw new IqueryError('not_found', `No memory note with the id "${id}".`, { hint: 'See the ids with `iquery memory list --all`.' });
    }
    return note;
  }

  private findSame(file: MemoryFile, text: string): MemoryNote | undefined {
    const wanted = sameText(text);
    return file.notes.find((note) => sameText(note.note) === wanted);
  }

  private newId(file: MemoryFile): string {
    const taken = new Set(file.notes.map((note) => note.id));
    for (;;) {
      const id = `m-${randomBytes(3).toString('hex')}`;
      if (!taken.has(id)) return id;
    }
  }

  private read(): MemoryFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, notes: [] };
      throw new IqueryError('bad_input', `The memory file ${this.path} cannot be read: ${messageOf(error)}`, { hint: 'Check its permissions.', cause: error });
    }
    const damaged = (reason: string, cause?: unknown): IqueryError =>
      new IqueryError('bad_input', `The memory file ${this.path} is damaged: ${reason}`, {
        hint: `Fix it by hand, or move it away (e.g. to ${this.path}.bak) to start with an empty memory; iquery does not overwrite it.`,
        cause,
      });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw damaged(messageOf(error), error);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw damaged(`${issue?.path.join('.') || '(top level)'}: ${issue?.message ?? 'invalid'}`, parsed.error);
    }
    // zod gives optional keys as possibly undefined; the notes are rebuilt without them.
    return { version: 1, notes: parsed.data.notes.map(withoutUndefined) };
  }

  /** Runs a change on a fresh read of the file under the lock, and writes the file if it changed. */
  private change<Result>(apply: (file: MemoryFile) => Result): Result {
    this.lock();
    try {
      const file = this.read();
      const before = JSON.stringify(file);
      const result = apply(file);
      if (JSON.stringify(file) !== before) this.write(file);
      return result;
    } finally {
      this.unlock();
    }
  }

  private write(file: MemoryFile): void {
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.writing`;
    try {
      writeFileSync(temporary, `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600 });
      chmodSync(temporary, 0o600);
      renameSync(temporary, this.path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new IqueryError('internal', `Could not write the memory file ${this.path}: ${messageOf(error)}`, { hint: 'Check that IQUERY_HOME is writable.', cause: error });
    }
  }

  private lock(): void {
    try {
      mkdirSync(this.folder, { recursive: true, mode: 0o700 });
      chmodSync(this.folder, 0o700);
    } catch (error) {
      throw new IqueryError('bad_input', `Cannot create the memory folder ${this.folder}: ${messageOf(error)}`, { hint: 'Check that IQUERY_HOME is writable.', cause: error });
    }
    const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + lockWaitMilliseconds;
    for (let attempt = 0; ; attempt++) {
      try {
        const descriptor = openSync(this.lockPath, 'wx', 0o600);
        try {
          writeSync(descriptor, token);
        } finally {
          closeSync(descriptor);
        }
        this.lockToken = token;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new IqueryError('bad_input', `Cannot lock the memory file ${this.path}: ${messageOf(error)}`, { hint: 'Check that IQUERY_HOME is writable.', cause: error });
        }
      }
      this.removeStaleLock();
      if (Date.now() > deadline) {
        throw new IqueryError('internal', `Another iquery has been writing the memory for over ${lockWaitMilliseconds / 1000} s.`, {
          hint: `If no other iquery is running, delete ${this.lockPath}.`,
        });
      }
      sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 5);
    }
  }

  /**
   * Removes a lock left by a process that died while writing. Two processes finding the same stale
   * lock at the same moment could both remove it; that needs a crash first, and costs at most one
   * overlapping write.
   */
  private removeStaleLock(): void {
    try {
      if (Date.now() - statSync(this.lockPath).mtimeMs > staleLockMilliseconds) unlinkSync(this.lockPath);
    } catch {
      // The lock went away meanwhile: the next attempt takes it.
    }
  }

  private unlock(): void {
    const token = this.lockToken;
    this.lockToken = undefined;
    try {
      if (token !== undefined && existsSync(this.lockPath) && readFileSync(this.lockPath, 'utf8') === token) unlinkSync(this.lockPath);
    } catch {
      // Already gone (taken as stale by another process after a very long write): nothing to release.
    }
  }
}

function confirmNote(note: MemoryNote): MemoryNote {
  note.status = 'saved';
  note.confirmedAt = new Date().toISOString();
  return note;
}

function withoutUndefined(parsed: z.infer<typeof noteSchema>): MemoryNote {
  const origin: MemoryOrigin = { by: parsed.origin.by, at: parsed.origin.at };
  if (parsed.origin.session !== undefined) origin.session = parsed.origin.session;
  if (parsed.origin.question !== undefined) origin.question = parsed.origin.question;
  if (parsed.origin.data !== undefined) origin.data = parsed.origin.data;
  const note: MemoryNote = { id: parsed.id, note: parsed.note, kind: parsed.kind, status: parsed.status, origin };
  if (parsed.confirmedAt !== undefined) note.confirmedAt = parsed.confirmedAt;
  return note;
}
