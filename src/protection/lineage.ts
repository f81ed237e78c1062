/**
 * Where a value comes from, in terms of the sensitive base columns behind it. Shared by the catalog
 * of base tables (`sensitivity-catalog.ts`) and the query tracer (`query-lineage.ts`).
 */

/** The sensitive base columns behind a value, each as `table.column`, spelled as the dictionary spells it. */
export interface Lineage {
  /** Restricted columns whose raw values this value is: a plain reference to one, renamed at most. */
  readonly restricted: ReadonlySet<string>;
  /** Confidential columns the value was computed from, or is. */
  readonly confidential: ReadonlySet<string>;
}

/** A value with no sensitive column behind it. */
export const noLineage: Lineage = { restricted: new Set(), confidential: new Set() };

/** How a column came out of a star, for telling a person what to select instead. */
export interface StarOrigin {
  /** The star as written: `*` or `u.*`. */
  readonly text: string;
  /** Names of the columns it expands to that are not restricted, in order, without repeats. */
  readonly selectable: readonly string[];
}

/**
 * One output column of a query or a table, or a run of columns whose number and names are unknown
 * (`name` undefined): a star over a table iquery has no column list for, or a table function.
 */
export interface TracedColumn {
  readonly name: string | undefined;
  readonly lineage: Lineage;
  /** Set when the column came from expanding a star. */
  readonly star?: StarOrigin;
}

/** A run of columns of unknown number and names, each of which may carry `lineage`. */
export function unknownColumns(lineage: Lineage): TracedColumn {
  return { name: undefined, lineage };
}

/** Everything behind any of the values. Returns `noLineage` when none carries anything. */
export function mergeLineages(lineages: Iterable<Lineage>): Lineage {
  let restricted: Set<string> | undefined;
  let confidential: Set<string> | undefined;
  for (const lineage of lineages) {
    for (const column of lineage.restricted) (restricted ??= new Set()).add(column);
    for (const column of lineage.confidential) (confidential ??= new Set()).add(column);
  }
  if (restricted === undefined && confidential === undefined) return noLineage;
  return { restricted: restricted ?? new Set(), confidential: confidential ?? new Set() };
}

/** The lineage of several columns together. */
export function lineageOf(columns: Iterable<TracedColumn>): Lineage {
  const lineages: Lineage[] = [];
  for (const column of columns) lineages.push(column.lineage);
  return mergeLineages(lineages);
}

/** The same lineage once its restricted columns have been dealt with (reported or consumed). */
export function withoutRestricted(lineage: Lineage): Lineage {
  if (lineage.restricted.size === 0) return lineage;
  return lineage.confidential.size === 0 ? noLineage : { restricted: new Set(), confidential: lineage.confidential };
}

/** SQL names compared the conservative way: ignoring case, even when quoted. */
export function sameName(left: string, right: string): boolean {
  return left.toLowerCase() === right.toLowerCase();
}
