/**
 * Identifiers in polyglot's tree: `{name, quoted, span, …}` objects (or, in a few places, plain
 * strings), with the quotes already taken off.
 */
import { fieldOf } from '../guard/walk.js';

export interface Identifier {
  /** The name without its quotes, as written. */
  readonly text: string;
  /** True when it was written in quotes (`"Name"`, `` `Name` ``). */
  readonly quoted: boolean;
}

/** The identifier a value holds, or undefined when it holds none. */
export function identifierOf(value: unknown): Identifier | undefined {
  if (typeof value === 'string') return { text: value, quoted: false };
  const name = fieldOf(value, 'name');
  if (typeof name !== 'string') return undefined;
  return { text: name, quoted: fieldOf(value, 'quoted') === true };
}

/** The names of a list of identifiers (a USING list, column aliases); entries that are not identifiers are skipped. */
export function identifierNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const names: string[] = [];
  for (const entry of value) {
    const identifier = identifierOf(entry);
    if (identifier !== undefined) names.push(identifier.text);
  }
  return names;
}
