/**
 * The fixed analyses `iquery demo` runs on the demo database: the questions a telecom analyst asks
 * first about churn and billing. Each is one read-only SELECT (or WITH … SELECT) over the demo tables,
 * so it passes the SQL guard unchanged; none hard-codes a date, so they hold for any snapshot month.
 */

export interface DemoAnalysis {
  /** Stable kebab-case key, e.g. for `--json` output. */
  id: string;
  /** Chinese, then English, separated by " / ". */
  title: string;
  /** DuckDB SQL. */
  sql: string;
}

/** Customers, churned customers and churn rate (percent, one decimal) for a grouping of the customers. */
function churnRateBy(groupColumn: string, groupAlias: string, joins: string, orderBy = 'churn_rate_pct DESC'): string {
  return `SELECT
  ${groupColumn} AS ${groupAlias},
  count(*) AS customers,
  count(*) FILTER (WHERE c."Churn" = 'Yes') AS churned,
  round(100.0 * count(*) FILTER (WHERE c."Churn" = 'Yes') / count(*), 1) AS churn_rate_pct
FROM user_churn AS c
${joins}
GROUP BY 1
ORDER BY ${orderBy}`;
}

export const demoAnalyses: readonly DemoAnalysis[] = [
  {
    id: 'churn-by-contract',
    title: '按合同类型的流失率 / Churn rate by contract type',
    sql: churnRateBy('p."Contract"', 'contract', 'JOIN user_payments AS p USING ("customerID")'),
  },
  {
    id: 'churn-by-internet-service',
    title: '按宽带类型的流失率 / Churn rate by internet service',
    sql: churnRateBy('s."InternetService"', 'internet_service', 'JOIN user_services AS s USING ("customerID")'),
  },
  {
    id: 'churn-by-payment-method',
    title: '按支付方式的流失率 / Churn rate by payment method',
    sql: churnRateBy('p."PaymentMethod"', 'payment_method', 'JOIN user_payments AS p USING ("customerID")'),
  },
  {
    id: 'churn-by-tenure-band',
    title: '按在网时长（12 个月一档）的流失率 / Churn rate by tenure band (12 months)',
    sql: churnRateBy(
      `CASE
    WHEN s.tenure <= 12 THEN '00-12'
    WHEN s.tenure <= 24 THEN '13-24'
    WHEN s.tenure <= 36 THEN '25-36'
    WHEN s.tenure <= 48 THEN '37-48'
    WHEN s.tenure <= 60 THEN '49-60'
    ELSE '61-72' END`,
      'tenure_months',
      'JOIN user_services AS s USING ("customerID")',
      'tenure_months',
    ),
  },
  {
    id: 'churn-senior-vs-non-senior',
    title: '老年与非老年客户的流失率 / Churn rate of seniors vs non-seniors',
    sql: churnRateBy(
      `CASE WHEN d."SeniorCitizen" = 1 THEN 'senior' ELSE 'non-senior' END`,
      'age_group',
      'JOIN user_demographics AS d USING ("customerID")',
    ),
  },
  {
    id: 'monthly-charge-by-churn',
    title: '流失与留存客户的平均月费 / Average monthly charge of churned vs retained customers',
    sql: `SELECT
  CASE WHEN c."Churn" = 'Yes' THEN 'churned' ELSE 'retained' END AS status,
  count(*) AS customers,
  round(avg(p."MonthlyCharges"), 2) AS avg_monthly_charges,
  round(median(p."MonthlyCharges"), 2) AS median_monthly_charges
FROM user_churn AS c
JOIN user_payments AS p USING ("customerID")
GROUP BY 1
ORDER BY 1`,
  },
  {
    id: 'revenue-last-6-months',
    title: '最近 6 个月的月度账单收入 / Monthly billed revenue, last 6 months',
    sql: `WITH recent AS (
  SELECT *
  FROM user_bills
  WHERE bill_month > (SELECT max(bill_month) FROM user_bills) - INTERVAL 6 MONTH
)
SELECT
  bill_month,
  count(*) AS bills,
  round(sum(amount), 2) AS revenue,
  round(avg(amount), 2) AS avg_bill
FROM recent
GROUP BY bill_month
ORDER BY bill_month`,
  },
  {
    id: 'late-payment-by-method',
    title: '按支付方式的逾期付款率 / Late-payment rate by payment method',
    sql: `SELECT
  p."PaymentMethod" AS payment_method,
  count(*) AS bills,
  count(*) FILTER (WHERE b.paid_late) AS late_bills,
  round(100.0 * count(*) FILTER (WHERE b.paid_late) / count(*), 1) AS late_rate_pct
FROM user_bills AS b
JOIN user_payments AS p USING ("customerID")
GROUP BY 1
ORDER BY late_rate_pct DESC`,
  },
];
