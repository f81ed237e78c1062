/**
 * Seeded pseudo-random numbers as DuckDB SQL. Every draw is a pure function of (seed, row position,
 * salt), computed with DuckDB's `hash`, so a row's values never depend on which thread produced it or
 * in which order; DuckDB's own `random()` does, which is why it is not used anywhere in the demo.
 */

/** A prime just above 10^9: the hash modulo this prime is close to uniform over [0, 1). */
const uniformModulus = 1_000_000_007;

/** Name of the macro drawing one uniform number in [0, 1) per customer and salt. */
export const customerUniform = 'demo_uniform';

/** Name of the macro drawing one uniform number in [0, 1) per customer, month and salt. */
export const billUniform = 'demo_bill_uniform';

/**
 * Statements creating the two temporary macros for one seed. They live only as long as the connection,
 * so they never end up in the generated file. The seed must already be validated as a safe integer:
 * it is written into the text.
 */
export function randomMacroStatements(seed: number): string[] {
  const seedLiteral = `${seed}::BIGINT`;
  return [
    `CREATE OR REPLACE TEMP MACRO ${customerUniform}(row_key, salt) AS
       (hash(${seedLiteral}, row_key::BIGINT, salt) % ${uniformModulus}) / ${uniformModulus}.0`,
    `CREATE OR REPLACE TEMP MACRO ${billUniform}(row_key, month, salt) AS
       (hash(${seedLiteral}, row_key::BIGINT, month::BIGINT, salt) % ${uniformModulus}) / ${uniformModulus}.0`,
  ];
}

/** SQL for one customer-level draw in [0, 1), keyed by a salt naming what it decides. */
export function drawFor(positionColumn: string, salt: string): string {
  return `${customerUniform}(${positionColumn}, '${salt}')`;
}
