/**
 * The sessions of one server, kept in memory (a restarted server starts with none; the folders of
 * earlier sessions stay on disk, under IQUERY_HOME/agent/web-…). Each session is independent: its
 * own agent, kernel, uploads and running message.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { IqueryError } from '../errors.js';
import type { ServeSettings, SessionSummary } from './server.js';
import { ServeSession } from './serve-session.js';

/** `web-YYYYMMDD-` and 12 random hex digits: a valid agent session name no CLI session takes. */
function newSessionId(now: Date = new Date()): string {
  return `web-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(6).toString('hex')}`;
}

export class SessionManager {
  readonly settings: ServeSettings;
  private readonly sessions = new Map<string, ServeSession>();

  constructor(settings: ServeSettings) {
    this.settings = settings;
  }

  /** Who answers messages: the agent when the server has a model, else the offline analyst. */
  get analyst(): 'agent' | 'offline' {
    return this.settings.model === undefined ? 'offline' : 'agent';
  }

  create(): ServeSession {
    const session = new ServeSession(newSessionId(), this.settings);
    this.sessions.set(session.id, session);
    return session;
  }

  /** Oldest first. */
  list(): SessionSummary[] {
    return [...this.sessions.values()].map((session) => session.summary());
  }

  /** Throws `not_found` for an id no session has. */
  get(id: string): ServeSession {
    const session = this.sessions.get(id);
    if (session === undefined) throw new IqueryError('not_found', `No session "${id}".`, { hint: 'GET /api/sessions lists the sessions; POST /api/sessions starts one.' });
    return session;
  }

  /** Stops the session's work, closes it, and removes its folder. */
  async delete(id: string): Promise<void> {
    const session = this.get(id);
    this.sessions.delete(id);
    await session.close();
    rmSync(session.folder, { recursive: true, force: true });
  }

  /** Closes every session (their folders stay): for shutdown. */
  async closeAll(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map((session) => session.close()));
  }
}
