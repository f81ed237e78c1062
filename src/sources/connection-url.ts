import { IqueryError } from '../errors.js';

export interface ServerConnection {
  engine: 'mysql' | 'postgres';
  /** The URL as given, with credentials: only ever handed to the driver. */
  url: string;
  host: string;
  port: number;
  user: string;
  /** Empty when the URL has none. Never printed, logged or sent anywhere but the driver. */
  password: string;
  database: string;
  /** The URL with the password replaced by `***`, for people and logs. */
  label: string;
}

const schemes: Record<string, { engine: 'mysql' | 'postgres'; port: number }> = {
  'mysql:': { engine: 'mysql', port: 3306 },
  'mariadb:': { engine: 'mysql', port: 3306 },
  'postgres:': { engine: 'postgres', port: 5432 },
  'postgresql:': { engine: 'postgres', port: 5432 },
};

/** True when the text looks like a server URL iquery understands (`mysql://`, `postgres://`, …). */
export function isServerUrl(text: string): boolean {
  const colon = text.indexOf('://');
  return colon > 0 && `${text.slice(0, colon).toLowerCase()}:` in schemes;
}

/** True when a `--data` value is a URL of any scheme (`mysql://…`, `s3://…`), not a path or a connection name. */
export function hasUrlScheme(spec: string): boolean {
  const separator = spec.indexOf('://');
  return separator > 0 && /^[a-z][a-z0-9+.-]*$/i.test(spec.slice(0, separator));
}

/** Parses `mysql://user:pw@host:port/db` or `postgres://user:pw@host:port/db`. */
export function parseServerUrl(text: string): ServerConnection {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new IqueryError('bad_input', `"${redactUrl(text)}" is not a valid connection URL.`, {
      hint: 'Use the form mysql://user:password@host:3306/database or postgres://user:password@host:5432/database.',
    });
  }
  const scheme = schemes[url.protocol.toLowerCase()];
  if (scheme === undefined) {
    throw new IqueryError('bad_input', `Unknown database scheme "${url.protocol}".`, { hint: 'Use mysql:// or postgres://.' });
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '') {
    throw new IqueryError('bad_input', `The URL ${redactUrl(text)} names no database.`, {
      hint: 'Add it after the host, e.g. mysql://user@host:3306/sales.',
    });
  }
  return {
    engine: scheme.engine,
    url: text,
    host: url.hostname || 'localhost',
    port: url.port === '' ? scheme.port : Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
    label: redactUrl(text),
  };
}

/** The URL with any password replaced by `***`; text that is not a URL is returned unchanged. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

/** Removes every occurrence of the given secrets (and their URL-encoded forms) from a message. */
export function redactSecrets(message: string, secrets: readonly string[]): string {
  let clean = message;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) clean = clean.replaceAll(form, '***');
  }
  return clean;
}
