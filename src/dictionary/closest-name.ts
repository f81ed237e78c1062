/**
 * Matching a name someone wrote against the names that exist: exactly, ignoring case, or not at all
 * with the closest existing name as a suggestion.
 */

export type NameMatch =
  | { kind: 'exact'; name: string }
  | { kind: 'case'; name: string }
  | { kind: 'missing'; suggestion: string | undefined };

/** Levenshtein distance between two strings, compared as written. */
export function editDistance(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row];
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] ?? 0) + (left[row - 1] === right[column - 1] ? 0 : 1);
      current.push(Math.min((previous[column] ?? 0) + 1, (current[column - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}

/**
 * The candidate closest to `name` ignoring case, when it is close enough to be a plausible typo
 * (at most a third of the longer name's length, and at least 2 edits allowed); undefined otherwise.
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(2, Math.floor(Math.max(name.length, best.length) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/** How `name` matches one of `candidates`: exactly, only ignoring case, or not at all. */
export function matchName(name: string, candidates: readonly string[]): NameMatch {
  if (candidates.includes(name)) return { kind: 'exact', name };
  const lower = name.toLowerCase();
  const caseMatch = candidates.find((candidate) => candidate.toLowerCase() === lower);
  if (caseMatch !== undefined) return { kind: 'case', name: caseMatch };
  return { kind: 'missing', suggestion: closestName(name, candidates) };
}

/** ` Did you mean "x"?`, or nothing when there is no close name. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? '' : ` Did you mean "${suggestion}"?`;
}
