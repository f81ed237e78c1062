/**
 * A walker over polyglot's tagged JSON. Every expression is an object with exactly one key, its kind:
 * `{"select": {...}}`, `{"function": {"name": "read_csv", ...}}`. The walker visits every object and
 * array, not only the fields it knows, so a node hidden in an unexpected field is still seen.
 */

/** A node of the tree: its kind (the single key) and its body (that key's value). */
export interface TaggedNode {
  readonly kind: string;
  readonly body: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The named field of a node body, or undefined when the body is not an object. */
export function fieldOf(body: unknown, name: string): unknown {
  return isRecord(body) ? body[name] : undefined;
}

/**
 * Every tagged node under `root`, the root included, depth first in document order. Iterative, so
 * deep trees cannot overflow the stack. Single-key plain objects that are not expressions (rare) are
 * yielded too; the guard only reacts to kinds it lists, so they do no harm.
 */
export function* taggedNodes(root: unknown): Generator<TaggedNode> {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1) pending.push(value[index]);
      continue;
    }
    if (!isRecord(value)) continue;
    const keys = Object.keys(value);
    const onlyKey = keys.length === 1 ? keys[0] : undefined;
    if (onlyKey !== undefined) yield { kind: onlyKey, body: value[onlyKey] };
    for (let index = keys.length - 1; index >= 0; index -= 1) {
      const key = keys[index];
      if (key !== undefined) pending.push(value[key]);
    }
  }
}

/** The node itself as a tagged node, when it is one. */
export function asTaggedNode(value: unknown): TaggedNode | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  const onlyKey = keys.length === 1 ? keys[0] : undefined;
  return onlyKey === undefined ? undefined : { kind: onlyKey, body: value[onlyKey] };
}
