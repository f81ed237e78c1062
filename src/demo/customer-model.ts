import { choiceByKeySql, kumaraswamySql, numberByKeySql } from './choice-sql.js';
import type { KumaraswamyShape, Shares } from './choice-sql.js';
import { customerCodeSql, customerIdFromCodeSql } from './customer-id.js';
import { drawFor } from './random-sql.js';

/**
 * The generative model of one telecom customer, as a single DuckDB `SELECT` over `range(customers)`.
 * Each step draws from the customer's own seeded uniforms (see `random-sql.ts`) and conditions on the
 * steps before it, so the correlations of the IBM Telco Customer Churn data come out
 * of the structure rather than being patched in afterwards:
 *
 * person (gender, senior, partner, dependents) → contract (by household) → internet service (by contract
 * and age) → tenure (by contract and service) → phone and add-ons (by service and tenure) → billing
 * (paperless, payment method) → monthly charge (the real price list plus noise) → churn (logistic).
 *
 * Every share, shape and coefficient below was measured on the public data set (7,043 customers): the
 * conditional tables are its cross-tabulations, the tenure shapes are least-squares fits of its tenure
 * distributions, and the churn coefficients come from a logistic regression on it. No row of the real
 * data is used or shipped.
 */

/** Longest tenure in months, as in the real data. */
export const maximumTenure = 72;

/** Contract mix by household ('single' or 'couple', then ' senior' for people aged 65+). */
const contractByHousehold: Readonly<Record<string, Shares>> = {
  single: { 'Month-to-month': 0.662, 'One year': 0.188, 'Two year': 0.15 },
  'single senior': { 'Month-to-month': 0.81, 'One year': 0.116, 'Two year': 0.074 },
  couple: { 'Month-to-month': 0.366, 'One year': 0.25, 'Two year': 0.385 },
  'couple senior': { 'Month-to-month': 0.604, 'One year': 0.216, 'Two year': 0.18 },
};

/** Internet service by contract and age: seniors mostly take fiber, long contracts more often phone only. */
const internetByContractAndAge: Readonly<Record<string, Shares>> = {
  'Month-to-month': { DSL: 0.347, 'Fiber optic': 0.486, No: 0.167 },
  'Month-to-month senior': { DSL: 0.197, 'Fiber optic': 0.788, No: 0.015 },
  'One year': { DSL: 0.405, 'Fiber optic': 0.323, No: 0.271 },
  'One year senior': { DSL: 0.263, 'Fiber optic': 0.653, No: 0.084 },
  'Two year': { DSL: 0.373, 'Fiber optic': 0.231, No: 0.396 },
  'Two year senior': { DSL: 0.345, 'Fiber optic': 0.49, No: 0.166 },
};

/**
 * Tenure shapes by contract and internet service: tenure = ceil(72 · Kumaraswamy(a, b)), at least 1.
 * Month-to-month piles up near one month (a < 1), two-year near 72 (b < 1); fiber customers stay longest.
 */
const tenureShapes: Readonly<Record<string, KumaraswamyShape>> = {
  'Month-to-month / DSL': { a: 0.54, b: 1.739 },
  'Month-to-month / Fiber optic': { a: 0.603, b: 1.371 },
  'Month-to-month / No': { a: 0.525, b: 2.738 },
  'One year / DSL': { a: 1.675, b: 1.42 },
  'One year / Fiber optic': { a: 2.654, b: 1.054 },
  'One year / No': { a: 1.113, b: 1.685 },
  'Two year / DSL': { a: 2.176, b: 0.407 },
  'Two year / Fiber optic': { a: 3.861, b: 0.357 },
  'Two year / No': { a: 1.191, b: 0.562 },
};

/**
 * Share of customers who signed in the snapshot month (tenure 0, no bill yet, TotalCharges NULL): about
 * 0.16% overall in the real data, nearly all on two-year contracts.
 */
const newSignupShareByContract: Readonly<Record<string, string>> = {
  'Month-to-month': '0',
  'One year': '0.0007',
  'Two year': '0.0065',
};

/** Shares of electronic check, mailed check, bank transfer and credit card, in that order. */
function paymentShares(electronic: number, mailed: number, bank: number, card: number): Shares {
  return {
    'Electronic check': electronic,
    'Mailed check': mailed,
    'Bank transfer (automatic)': bank,
    'Credit card (automatic)': card,
  };
}

/** Payment method by contract and internet service: electronic check goes with fiber, mailed check with phone-only. */
const paymentByContractAndInternet: Readonly<Record<string, Shares>> = {
  'Month-to-month / DSL': paymentShares(0.388, 0.3, 0.161, 0.151),
  'Month-to-month / Fiber optic': paymentShares(0.614, 0.094, 0.154, 0.138),
  'Month-to-month / No': paymentShares(0.132, 0.62, 0.124, 0.124),
  'One year / DSL': paymentShares(0.204, 0.24, 0.254, 0.302),
  'One year / Fiber optic': paymentShares(0.364, 0.067, 0.291, 0.278),
  'One year / No': paymentShares(0.096, 0.451, 0.245, 0.209),
  'Two year / DSL': paymentShares(0.092, 0.174, 0.357, 0.377),
  'Two year / Fiber optic': paymentShares(0.214, 0.049, 0.378, 0.359),
  'Two year / No': paymentShares(0.028, 0.395, 0.279, 0.298),
};

/**
 * Log-odds of churn per driver, from a logistic regression on the real data; the intercept and the
 * payment and dependents terms were then nudged (by at most 0.25) so that the generated churn rates per
 * contract, service, payment method and age land within a point or two of the real ones at scale 100.
 * Contract, internet service and tenure carry most of the effect; the tenure term multiplies
 * ln(tenure), which makes the first year far riskier than the fifth.
 */
const churnLogOdds = {
  intercept: -2.32,
  monthToMonth: 1.508,
  oneYear: 0.792,
  fiberOptic: 1.752,
  dsl: 0.805,
  electronicCheck: 0.45,
  /** Automatic payers stay longer than their tenure and contract alone suggest. */
  automaticPayment: -0.22,
  senior: 0.224,
  paperless: 0.353,
  logTenure: -0.633,
  /** Customers who have been there since the start of the records almost never leave. */
  maximumTenure: -1.241,
  onlineSecurity: -0.309,
  techSupport: -0.28,
  perStreamingService: 0.318,
  dependents: -0.3,
  multipleLines: 0.373,
  noPhoneService: 0.551,
} as const;

/** A Yes/No column from a boolean expression. */
function yesNo(condition: string): string {
  return `CASE WHEN ${condition} THEN 'Yes' ELSE 'No' END`;
}

function draw(salt: string): string {
  return drawFor('customer_index', salt);
}

/**
 * An internet add-on: 'No internet service' exactly when there is no internet, otherwise 'Yes' with a
 * share that depends on the kind of line and grows with tenure (long-standing customers buy more:
 * about +45 points between the first and the sixth year in the real data).
 */
function addOn(salt: string, fiberShare: number, dslShare: number, bundleShift = '0'): string {
  const share = `CASE internet_service WHEN 'Fiber optic' THEN ${fiberShare} ELSE ${dslShare} END + 0.5 * loyalty + ${bundleShift}`;
  return `CASE WHEN internet_service = 'No' THEN 'No internet service'
      WHEN ${draw(salt)} < ${share} THEN 'Yes' ELSE 'No' END`;
}

function isYes(column: string): string {
  return `(${column} = 'Yes')::INTEGER`;
}

/**
 * The query producing `customers` rows for `seed`, one per customer, keyed by `customer_index` (the
 * generation position, which every later draw is keyed on). Columns use snake_case and internal types
 * (booleans, cents); the public tables are projections of it.
 */
export function customerModelSql(seed: number, customers: number): string {
  const odds = churnLogOdds;
  const contractAndInternet = `contract || ' / ' || internet_service`;
  const tenureShape = (parameter: 'a' | 'b'): string =>
    numberByKeySql(contractAndInternet, Object.fromEntries(Object.entries(tenureShapes).map(([key, shape]) => [key, String(shape[parameter])])));
  return `WITH person AS (
  SELECT
    range AS customer_index,
    ${customerCodeSql(seed, 'range')} AS customer_code,
    ${drawFor('range', 'gender')} < 0.505 AS is_male,
    ${drawFor('range', 'senior')} < 0.162 AS is_senior,
    ${drawFor('range', 'partner')} < 0.483 AS has_partner
  FROM range(${customers})
),
household AS (
  SELECT *,
    ${draw('dependents')} < CASE WHEN has_partner THEN 0.589 ELSE 0.115 END * CASE WHEN is_senior THEN 0.2 ELSE 1.0 END
      AS has_dependents,
    ${choiceByKeySql(
      `CASE WHEN has_partner THEN 'couple' ELSE 'single' END || CASE WHEN is_senior THEN ' senior' ELSE '' END`,
      draw('contract'),
      contractByHousehold,
    )} AS contract
  FROM person
),
connected AS (
  SELECT *,
    ${choiceByKeySql(`contract || CASE WHEN is_senior THEN ' senior' ELSE '' END`, draw('internet'), internetByContractAndAge)}
      AS internet_service
  FROM household
),
tenured AS (
  SELECT *,
    CASE WHEN ${draw('new_signup')} < ${numberByKeySql('contract', newSignupShareByContract)} THEN 0
      ELSE greatest(1, ceil(${maximumTenure} * ${kumaraswamySql(draw('tenure'), tenureShape('a'), tenureShape('b'))}))
    END::INTEGER AS tenure
  FROM connected
),
protected AS (
  SELECT *,
    tenure / ${maximumTenure}.0 - 0.45 AS loyalty,
    -- Every fiber and phone-only customer has a phone line; about 28% of DSL customers do not.
    internet_service <> 'DSL' OR ${draw('phone')} < 0.718 AS has_phone
  FROM tenured
),
serviced AS (
  SELECT *,
    CASE WHEN NOT has_phone THEN 'No phone service'
      WHEN ${draw('multiple_lines')} < (CASE internet_service WHEN 'Fiber optic' THEN 0.626 WHEN 'DSL' THEN 0.397 ELSE 0.224 END)
        + 0.5 * loyalty THEN 'Yes'
      ELSE 'No' END AS multiple_lines,
    ${addOn('online_security', 0.271, 0.487)} AS online_security,
    ${addOn('online_backup', 0.434, 0.449)} AS online_backup,
    ${addOn('device_protection', 0.438, 0.44)} AS device_protection,
    ${addOn('streaming_tv', 0.565, 0.395)} AS streaming_tv
  FROM protected
),
bundled AS (
  SELECT *,
    -- Support goes with security, movies with TV: people buy these in bundles.
    ${addOn('tech_support', 0.28, 0.487, "CASE WHEN online_security = 'Yes' THEN 0.12 ELSE -0.06 END")} AS tech_support,
    ${addOn('streaming_movies', 0.566, 0.405, "CASE WHEN streaming_tv = 'Yes' THEN 0.22 ELSE -0.22 END")} AS streaming_movies,
    ${draw('paperless')} < CASE internet_service WHEN 'Fiber optic' THEN 0.774 WHEN 'DSL' THEN 0.549 ELSE 0.292 END AS paperless,
    ${choiceByKeySql(contractAndInternet, draw('payment'), paymentByContractAndInternet)} AS payment_method
  FROM serviced
),
priced AS (
  SELECT *,
    -- The real price list is linear: phone $20, extra lines $5, DSL $25, fiber $50, each protection add-on $5,
    -- each streaming service $10, plus a triangular deviation of up to ±$2.45 in 5-cent steps.
    2000 * has_phone::INTEGER
      + 500 * ${isYes('multiple_lines')}
      + CASE internet_service WHEN 'DSL' THEN 2500 WHEN 'Fiber optic' THEN 5000 ELSE 0 END
      + 500 * (${isYes('online_security')} + ${isYes('online_backup')} + ${isYes('device_protection')} + ${isYes('tech_support')})
      + 1000 * (${isYes('streaming_tv')} + ${isYes('streaming_movies')})
      + 5 * round(49 * (${draw('price_a')} + ${draw('price_b')} - 1))::INTEGER AS monthly_cents,
    ${odds.intercept}
      + ${numberByKeySql('contract', { 'Month-to-month': String(odds.monthToMonth), 'One year': String(odds.oneYear), 'Two year': '0' })}
      + ${numberByKeySql('internet_service', { 'Fiber optic': String(odds.fiberOptic), DSL: String(odds.dsl), No: '0' })}
      + CASE WHEN payment_method = 'Electronic check' THEN ${odds.electronicCheck}
          WHEN payment_method LIKE '%(automatic)' THEN ${odds.automaticPayment} ELSE 0 END
      + CASE WHEN is_senior THEN ${odds.senior} ELSE 0 END
      + CASE WHEN paperless THEN ${odds.paperless} ELSE 0 END
      + ${odds.logTenure} * ln(greatest(tenure, 1))
      + CASE WHEN tenure = ${maximumTenure} THEN ${odds.maximumTenure} ELSE 0 END
      + CASE WHEN has_phone THEN 0 ELSE ${odds.noPhoneService} END
      + ${odds.onlineSecurity} * ${isYes('online_security')}
      + ${odds.techSupport} * ${isYes('tech_support')}
      + ${odds.perStreamingService} * (${isYes('streaming_tv')} + ${isYes('streaming_movies')})
      + CASE WHEN has_dependents THEN ${odds.dependents} ELSE 0 END
      + ${odds.multipleLines} * ${isYes('multiple_lines')}
      AS churn_log_odds
  FROM bundled
)
SELECT
  customer_index,
  ${customerIdFromCodeSql('customer_code')} AS customer_id,
  CASE WHEN is_male THEN 'Male' ELSE 'Female' END AS gender,
  is_senior::INTEGER AS senior_citizen,
  ${yesNo('has_partner')} AS partner,
  ${yesNo('has_dependents')} AS dependents,
  tenure,
  ${yesNo('has_phone')} AS phone_service,
  multiple_lines,
  internet_service,
  online_security,
  online_backup,
  device_protection,
  tech_support,
  streaming_tv,
  streaming_movies,
  contract,
  ${yesNo('paperless')} AS paperless_billing,
  payment_method,
  monthly_cents,
  -- A customer who signed this month cannot have left yet.
  tenure > 0 AND ${draw('churn')} < 1 / (1 + exp(-churn_log_odds)) AS churned
FROM priced`;
}
