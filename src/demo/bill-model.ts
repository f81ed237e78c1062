import { billUniform } from './random-sql.js';

/**
 * The monthly bills of every customer: one row per month of tenure, the last one in the snapshot month.
 * Bills come from unnesting `range(tenure)` over a customer table, so the work stays inside DuckDB's
 * parallel pipeline, and the same SQL both writes the bills and sums them into TotalCharges.
 */

/** The month every customer's history ends in: the "current" month of the demo, fixed so runs repeat. */
export const snapshotMonth = '2026-10-01';

/** The month of a bill row: 0 is the snapshot month, 1 the month before, and so on. */
const monthsBefore = 'customer.months_before_snapshot';

/**
 * One row per customer of `customerSource` and month of tenure, oldest month first. `unnest` in the
 * select list keeps each customer's months together and in source order on any number of threads
 * (a lateral `range()` join does not), so even unordered scans of `user_bills` repeat exactly.
 */
function customerMonths(customerSource: string): string {
  return `(SELECT source.*, unnest(range(source.tenure - 1, -1, -1)) AS months_before_snapshot
  FROM ${customerSource} AS source) AS customer`;
}

function billDraw(salt: string): string {
  return `${billUniform}(customer.customer_index, ${monthsBefore}, '${salt}')`;
}

/**
 * A bill in cents. The snapshot month's bill is exactly MonthlyCharges (the current price, as in the
 * real data where a one-month customer's TotalCharges equals MonthlyCharges); earlier bills vary by a
 * triangular ±35% around it, standing for plan changes, one-off fees and credits. That spread makes
 * TotalCharges / (tenure × MonthlyCharges) scatter about as in the real data (roughly ±10% at six
 * months, ±3% at five years).
 */
const billCents = `CASE WHEN ${monthsBefore} = 0 THEN customer.monthly_cents
  ELSE round(customer.monthly_cents * (1 + 0.35 * (${billDraw('amount_a')} + ${billDraw('amount_b')} - 1)))::BIGINT END`;

/**
 * Chance that a bill is paid late: by payment method (manual payments are late far more often than
 * automatic ones), higher for customers who churned and highest in their last six months.
 */
const lateProbability = `CASE customer.payment_method
    WHEN 'Electronic check' THEN 0.16 WHEN 'Mailed check' THEN 0.09
    WHEN 'Bank transfer (automatic)' THEN 0.03 ELSE 0.025 END
  * CASE WHEN NOT customer.churned THEN 1.0 WHEN ${monthsBefore} < 6 THEN 2.5 ELSE 1.6 END`;

/**
 * Query of each customer's billed total in cents (no row for tenure-0 customers). Integer sums are
 * exact, so the total does not depend on the order in which threads add them up.
 */
export function billTotalsSql(customerSource: string): string {
  return `SELECT customer.customer_index, sum(${billCents})::BIGINT AS total_cents
FROM ${customerMonths(customerSource)}
GROUP BY customer.customer_index`;
}

/**
 * Statement inserting the bills of the customers in `customerSource` (a table name or a parenthesised
 * query) into `user_bills`, in the source's order and then month by month.
 */
export function billInsertSql(customerSource: string): string {
  return `INSERT INTO user_bills
SELECT
  customer.customer_id,
  (DATE '${snapshotMonth}' - to_months(${monthsBefore}::INTEGER))::DATE,
  (${billCents}) / 100.0,
  ${billDraw('late')} < ${lateProbability}
FROM ${customerMonths(customerSource)}`;
}
