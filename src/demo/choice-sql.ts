/**
 * Small SQL builders for drawing from measured distributions: a categorical choice from a table of
 * shares, optionally looked up by a key column, and a Kumaraswamy variate (a Beta look-alike whose
 * inverse CDF is closed-form, so one uniform draw yields one value without any iteration).
 */

/** Shares of each label; they are normalised, so they need not add up to exactly 1. */
export type Shares = Readonly<Record<string, number>>;

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** A CASE picking one label of `shares` with a uniform draw in [0, 1). */
export function choiceSql(draw: string, shares: Shares): string {
  const entries = Object.entries(shares);
  const total = entries.reduce((sum, [, share]) => sum + share, 0);
  let cumulative = 0;
  const branches = entries.slice(0, -1).map(([label, share]) => {
    cumulative += share / total;
    return `WHEN ${draw} < ${cumulative.toFixed(6)} THEN ${sqlString(label)}`;
  });
  const last = entries.at(-1);
  if (last === undefined) throw new Error('a choice needs at least one label');
  return `CASE ${branches.join(' ')} ELSE ${sqlString(last[0])} END`;
}

/** A CASE picking from the share table of the row's key; keys not in the table fall to the last one. */
export function choiceByKeySql(keySql: string, draw: string, table: Readonly<Record<string, Shares>>): string {
  const entries = Object.entries(table);
  const last = entries.at(-1);
  if (last === undefined) throw new Error('a keyed choice needs at least one key');
  const branches = entries
    .slice(0, -1)
    .map(([key, shares]) => `WHEN ${sqlString(key)} THEN ${choiceSql(draw, shares)}`);
  return `CASE ${keySql} ${branches.join('\n      ')}\n      ELSE ${choiceSql(draw, last[1])} END`;
}

/** Shape parameters of a Kumaraswamy(a, b) distribution on [0, 1]. */
export interface KumaraswamyShape {
  a: number;
  b: number;
}

/**
 * A Kumaraswamy(a, b) variate from a uniform draw: x = (1 − (1 − u)^(1/b))^(1/a). With a < 1 it piles up
 * near 0, with b < 1 near 1, which is what tenure needs (new month-to-month customers, loyal two-year ones).
 * `a` and `b` are SQL expressions, so the shape can vary per row.
 */
export function kumaraswamySql(draw: string, a: string, b: string): string {
  return `pow(1 - pow(1 - ${draw}, 1.0 / (${b})), 1.0 / (${a}))`;
}

/** A CASE choosing a number by the row's key; keys not in the table take the last one. */
export function numberByKeySql(keySql: string, table: Readonly<Record<string, string>>): string {
  const entries = Object.entries(table);
  const last = entries.at(-1);
  if (last === undefined) throw new Error('a keyed number needs at least one key');
  const branches = entries.slice(0, -1).map(([key, value]) => `WHEN ${sqlString(key)} THEN ${value}`);
  return `CASE ${keySql} ${branches.join(' ')} ELSE ${last[1]} END`;
}
