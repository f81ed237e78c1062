import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IqueryError } from '../errors.js';
import { customerIdAt } from './customer-id.js';
import { realTelcoCsv, realTelcoSql, tableHashSql, tableLayoutHashSql, withDatabase } from './demo-test-database.js';
import type { Row } from './demo-test-database.js';
import { demoTables, generateDemoDatabase } from './generate.js';
import type { DemoSummary } from './generate.js';

const folder = mkdtempSync(join(tmpdir(), 'iquery-demo-'));
const mainPath = join(folder, 'telco.duckdb');
let summary: DemoSummary;

before(async () => {
  summary = await generateDemoDatabase({ path: mainPath, scale: 1, seed: 42 });
});

after(() => {
  rmSync(folder, { recursive: true, force: true });
});

function query(sql: string): Promise<Row[]> {
  return withDatabase(mainPath, (run) => run(sql));
}

async function single(sql: string): Promise<Row> {
  const [row] = await query(sql);
  assert.ok(row, `no row from ${sql}`);
  return row;
}

/** Every customer column in one row: the four customer tables joined, like the real CSV. */
const wideCustomers = `(SELECT * FROM user_demographics
  JOIN user_services USING ("customerID")
  JOIN user_payments USING ("customerID")
  JOIN user_churn USING ("customerID"))`;

const expectedColumns: Record<string, [string, string][]> = {
  user_demographics: [
    ['customerID', 'VARCHAR'],
    ['gender', 'VARCHAR'],
    ['SeniorCitizen', 'INTEGER'],
    ['Partner', 'VARCHAR'],
    ['Dependents', 'VARCHAR'],
  ],
  user_services: [
    ['customerID', 'VARCHAR'],
    ['tenure', 'INTEGER'],
    ['PhoneService', 'VARCHAR'],
    ['MultipleLines', 'VARCHAR'],
    ['InternetService', 'VARCHAR'],
    ['OnlineSecurity', 'VARCHAR'],
    ['OnlineBackup', 'VARCHAR'],
    ['DeviceProtection', 'VARCHAR'],
    ['TechSupport', 'VARCHAR'],
    ['StreamingTV', 'VARCHAR'],
    ['StreamingMovies', 'VARCHAR'],
  ],
  user_payments: [
    ['customerID', 'VARCHAR'],
    ['Contract', 'VARCHAR'],
    ['PaperlessBilling', 'VARCHAR'],
    ['PaymentMethod', 'VARCHAR'],
    ['MonthlyCharges', 'DOUBLE'],
    ['TotalCharges', 'DOUBLE'],
  ],
  user_churn: [
    ['customerID', 'VARCHAR'],
    ['Churn', 'VARCHAR'],
  ],
  user_bills: [
    ['customerID', 'VARCHAR'],
    ['bill_month', 'DATE'],
    ['amount', 'DOUBLE'],
    ['paid_late', 'BOOLEAN'],
  ],
};

const primaryKeys: Record<string, string[]> = {
  user_demographics: ['customerID'],
  user_services: ['customerID'],
  user_payments: ['customerID'],
  user_churn: ['customerID'],
  user_bills: ['customerID', 'bill_month'],
};

/** The value sets of the public data set, as documented by IBM; the CSV test below checks them again. */
const yesNo = ['No', 'Yes'];
const internetAddOn = ['No', 'No internet service', 'Yes'];
const expectedValueSets: Record<string, string[]> = {
  gender: ['Female', 'Male'],
  SeniorCitizen: ['0', '1'],
  Partner: yesNo,
  Dependents: yesNo,
  PhoneService: yesNo,
  MultipleLines: ['No', 'No phone service', 'Yes'],
  InternetService: ['DSL', 'Fiber optic', 'No'],
  OnlineSecurity: internetAddOn,
  OnlineBackup: internetAddOn,
  DeviceProtection: internetAddOn,
  TechSupport: internetAddOn,
  StreamingTV: internetAddOn,
  StreamingMovies: internetAddOn,
  Contract: ['Month-to-month', 'One year', 'Two year'],
  PaperlessBilling: yesNo,
  PaymentMethod: ['Bank transfer (automatic)', 'Credit card (automatic)', 'Electronic check', 'Mailed check'],
  Churn: yesNo,
};

async function valueSet(source: string, column: string, run: (sql: string) => Promise<Row[]>): Promise<string[]> {
  const rows = await run(`SELECT DISTINCT CAST("${column}" AS VARCHAR) AS value FROM ${source} ORDER BY value`);
  return rows.map((row) => String(row['value']));
}

describe('generateDemoDatabase: schema', () => {
  it('reports the five tables, 7,043 customers at scale 1 and the fixed snapshot month', async () => {
    assert.deepEqual([...demoTables], Object.keys(expectedColumns));
    assert.equal(summary.customers, 7_043);
    assert.equal(summary.snapshotMonth, '2026-10-01');
    assert.equal(summary.path, mainPath);
    for (const table of demoTables.slice(0, 4)) assert.equal(summary.tables[table], 7_043, table);
    const bills = await single('SELECT (SELECT count(*) FROM user_bills) AS bills, (SELECT sum(tenure) FROM user_services) AS months');
    assert.equal(bills['bills'], bills['months']);
    assert.equal(summary.tables['user_bills'], bills['bills']);
  });

  it('has exactly the expected columns and types, in order', async () => {
    const rows = await query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() ORDER BY table_name, ordinal_position`,
    );
    const actual: Record<string, [string, string][]> = {};
    for (const row of rows) (actual[String(row['table_name'])] ??= []).push([String(row['column_name']), String(row['data_type'])]);
    assert.deepEqual(actual, Object.fromEntries(Object.keys(expectedColumns).sort().map((table) => [table, expectedColumns[table]])));
  });

  it('declares the primary keys', async () => {
    const rows = await query(
      `SELECT table_name, array_to_string(constraint_column_names, ',') AS columns FROM duckdb_constraints() WHERE database_name = current_database() AND constraint_type = 'PRIMARY KEY' ORDER BY table_name`,
    );
    const actual = Object.fromEntries(rows.map((row) => [String(row['table_name']), row['columns']]));
    assert.deepEqual(actual, Object.fromEntries(Object.keys(primaryKeys).sort().map((table) => [table, primaryKeys[table]?.join(',')])));
  });

  it('gives every table and column a comment for the data dictionary', async () => {
    const missing = await query(
      `SELECT table_name, column_name FROM duckdb_columns()
       WHERE database_name = current_database() AND NOT internal AND (comment IS NULL OR comment = '')
       UNION ALL SELECT table_name, NULL FROM duckdb_tables()
       WHERE database_name = current_database() AND NOT internal AND (comment IS NULL OR comment = '')`,
    );
    assert.deepEqual(missing, []);
  });

  it('uses unique customer IDs shaped like 7590-VHVEG, the same in every table', async () => {
    const row = await single(`SELECT count(*) AS customers, count(DISTINCT "customerID") AS distinct_ids,
      count(*) FILTER (WHERE NOT regexp_full_match("customerID", '[0-9]{4}-[A-Z]{5}')) AS malformed,
      (SELECT count(*) FROM ${wideCustomers}) AS joined,
      (SELECT count(*) FROM user_bills WHERE "customerID" NOT IN (SELECT "customerID" FROM user_demographics)) AS orphan_bills
      FROM user_demographics`);
    assert.deepEqual(row, { customers: 7_043, distinct_ids: 7_043, malformed: 0, joined: 7_043, orphan_bills: 0 });
  });

  it('computes the same IDs in SQL as customerIdAt in TypeScript', async () => {
    const rows = await query('SELECT "customerID" AS id FROM user_demographics ORDER BY id');
    const expected = Array.from({ length: 7_043 }, (_, position) => customerIdAt(42, position)).sort();
    assert.deepEqual(
      rows.map((row) => row['id']),
      expected,
    );
  });
});

describe('generateDemoDatabase: value sets', () => {
  it('uses exactly the value sets of the public data set', async () => {
    await withDatabase(mainPath, async (run) => {
      for (const [column, expected] of Object.entries(expectedValueSets)) {
        assert.deepEqual(await valueSet(wideCustomers, column, run), expected, column);
      }
    });
  });

  it('matches the value sets read from the real CSV', async (context) => {
    const csv = realTelcoCsv();
    if (csv === undefined) {
      context.skip('real Telco CSV not found: set IQUERY_TELCO_CSV to WA_Fn-UseC_-Telco-Customer-Churn.csv');
      return;
    }
    const real: Record<string, string[]> = {};
    await withDatabase(':memory:', async (run) => {
      for (const column of Object.keys(expectedValueSets)) real[column] = await valueSet(realTelcoSql(csv), column, run);
    });
    await withDatabase(mainPath, async (run) => {
      for (const column of Object.keys(expectedValueSets)) {
        assert.deepEqual(await valueSet(wideCustomers, column, run), real[column], column);
      }
    });
  });
});

describe('generateDemoDatabase: consistency', () => {
  it("says 'No internet service' in every add-on exactly when InternetService is 'No'", async () => {
    const addOns = ['OnlineSecurity', 'OnlineBackup', 'DeviceProtection', 'TechSupport', 'StreamingTV', 'StreamingMovies'];
    const conditions = addOns.map((column) => `(("InternetService" = 'No') <> ("${column}" = 'No internet service'))`);
    const row = await single(`SELECT count(*) FILTER (WHERE ${conditions.join(' OR ')}) AS broken FROM user_services`);
    assert.equal(row['broken'], 0);
  });

  it("says 'No phone service' exactly when PhoneService is 'No'", async () => {
    const row = await single(
      `SELECT count(*) FILTER (WHERE ("PhoneService" = 'No') <> ("MultipleLines" = 'No phone service')) AS broken FROM user_services`,
    );
    assert.equal(row['broken'], 0);
  });

  it('leaves TotalCharges NULL exactly for tenure 0, who have not churned', async () => {
    const row = await single(`SELECT
      count(*) FILTER (WHERE ("TotalCharges" IS NULL) <> (tenure = 0)) AS broken,
      count(*) FILTER (WHERE tenure = 0 AND "Churn" = 'Yes') AS churned_newcomers,
      count(*) FILTER (WHERE tenure = 0) AS newcomers,
      count(*) FILTER (WHERE tenure NOT BETWEEN 0 AND 72) AS out_of_range
      FROM ${wideCustomers}`);
    assert.equal(row['broken'], 0);
    assert.equal(row['churned_newcomers'], 0);
    assert.equal(row['out_of_range'], 0);
    assert.ok(Number(row['newcomers']) > 0, 'scale 1 should have a few tenure-0 customers');
  });

  it('has one bill per month of tenure, ending in the snapshot month', async () => {
    const row = await single(`WITH per_customer AS (
        SELECT s."customerID", s.tenure, count(b.bill_month) AS bills, min(b.bill_month) AS first_month, max(b.bill_month) AS last_month,
          count(DISTINCT b.bill_month) AS distinct_months
        FROM user_services AS s LEFT JOIN user_bills AS b USING ("customerID")
        GROUP BY ALL)
      SELECT
        count(*) FILTER (WHERE bills <> tenure OR distinct_months <> tenure) AS wrong_count,
        count(*) FILTER (WHERE tenure > 0 AND last_month <> DATE '2026-10-01') AS wrong_last,
        count(*) FILTER (WHERE tenure > 0 AND first_month <> DATE '2026-10-01' - to_months(tenure - 1)) AS wrong_first,
        (SELECT count(*) FROM user_bills WHERE day(bill_month) <> 1) AS not_first_day
      FROM per_customer`);
    assert.deepEqual(row, { wrong_count: 0, wrong_last: 0, wrong_first: 0, not_first_day: 0 });
  });

  it('makes TotalCharges the sum of the bills and MonthlyCharges the last bill, in whole cents', async () => {
    const row = await single(`WITH billed AS (
        SELECT "customerID", sum(amount) AS billed, max_by(amount, bill_month) AS last_bill FROM user_bills GROUP BY 1)
      SELECT
        count(*) FILTER (WHERE abs(p."TotalCharges" - b.billed) > 0.005) AS wrong_total,
        count(*) FILTER (WHERE abs(p."MonthlyCharges" - b.last_bill) > 0.005) AS wrong_last_bill,
        count(*) FILTER (WHERE round(p."MonthlyCharges", 2) <> p."MonthlyCharges" OR round(p."TotalCharges", 2) <> p."TotalCharges") AS not_cents,
        (SELECT count(*) FROM user_bills WHERE round(amount, 2) <> amount OR amount <= 0) AS bad_amounts
      FROM user_payments AS p JOIN billed AS b USING ("customerID")`);
    assert.deepEqual(row, { wrong_total: 0, wrong_last_bill: 0, not_cents: 0, bad_amounts: 0 });
  });

  it('prices by service like the real data: phone-only about $18–26, fiber $70–120', async () => {
    const rows = await query(`SELECT "InternetService" AS service, min("MonthlyCharges") AS low, max("MonthlyCharges") AS high
      FROM user_services JOIN user_payments USING ("customerID") GROUP BY 1 ORDER BY 1`);
    const ranges = Object.fromEntries(rows.map((row) => [row['service'], [Number(row['low']), Number(row['high'])]]));
    const within = (service: string, low: number, high: number): void => {
      const [actualLow = Number.NaN, actualHigh = Number.NaN] = ranges[service] ?? [];
      assert.ok(actualLow >= low && actualHigh <= high, `${service}: ${actualLow}–${actualHigh} outside ${low}–${high}`);
    };
    within('No', 17, 28);
    within('DSL', 22, 96);
    within('Fiber optic', 67, 122);
  });
});

interface ChurnFigures {
  overall: number;
  blankShare: number;
  byContract: Record<string, number>;
  byInternet: Record<string, number>;
  byPayment: Record<string, number>;
  shortTenure: number;
  longTenure: number;
  senior: number;
  nonSenior: number;
}

/** The figures the realism tests compare, from any source with the real CSV's columns. */
async function churnFigures(source: string, run: (sql: string) => Promise<Row[]>): Promise<ChurnFigures> {
  const rate = `avg(CASE WHEN "Churn" = 'Yes' THEN 1.0 ELSE 0.0 END)`;
  const byColumn = async (column: string): Promise<Record<string, number>> => {
    const rows = await run(`SELECT "${column}" AS value, ${rate} AS rate FROM ${source} GROUP BY 1`);
    return Object.fromEntries(rows.map((row) => [String(row['value']), Number(row['rate'])]));
  };
  const [totals] = await run(`SELECT ${rate} AS overall,
      avg(CASE WHEN TRY_CAST("TotalCharges" AS DOUBLE) IS NULL THEN 1.0 ELSE 0.0 END) AS blank_share,
      ${rate} FILTER (WHERE CAST(tenure AS INTEGER) <= 12) AS short_tenure,
      ${rate} FILTER (WHERE CAST(tenure AS INTEGER) > 48) AS long_tenure,
      ${rate} FILTER (WHERE CAST("SeniorCitizen" AS INTEGER) = 1) AS senior,
      ${rate} FILTER (WHERE CAST("SeniorCitizen" AS INTEGER) = 0) AS non_senior
    FROM ${source}`);
  assert.ok(totals);
  return {
    overall: Number(totals['overall']),
    blankShare: Number(totals['blank_share']),
    shortTenure: Number(totals['short_tenure']),
    longTenure: Number(totals['long_tenure']),
    senior: Number(totals['senior']),
    nonSenior: Number(totals['non_senior']),
    byContract: await byColumn('Contract'),
    byInternet: await byColumn('InternetService'),
    byPayment: await byColumn('PaymentMethod'),
  };
}

function at(rates: Record<string, number>, key: string): number {
  const value = rates[key];
  assert.ok(value !== undefined, `no rate for ${key}`);
  return value;
}

describe('generateDemoDatabase: realism', () => {
  let generated: ChurnFigures;
  before(async () => {
    generated = await withDatabase(mainPath, (run) => churnFigures(wideCustomers, run));
  });

  it('orders churn by contract, internet service, payment method, tenure and age as the real data does', () => {
    assert.ok(at(generated.byContract, 'Month-to-month') > at(generated.byContract, 'One year'));
    assert.ok(at(generated.byContract, 'One year') > at(generated.byContract, 'Two year'));
    assert.ok(at(generated.byInternet, 'Fiber optic') > at(generated.byInternet, 'DSL'));
    assert.ok(at(generated.byInternet, 'DSL') > at(generated.byInternet, 'No'));
    const electronic = at(generated.byPayment, 'Electronic check');
    for (const [method, rate] of Object.entries(generated.byPayment)) {
      if (method !== 'Electronic check') assert.ok(electronic > rate + 0.15, `Electronic check ${electronic} vs ${method} ${rate}`);
    }
    assert.ok(generated.shortTenure > generated.longTenure + 0.25, `tenure ≤ 12: ${generated.shortTenure}, > 48: ${generated.longTenure}`);
    assert.ok(generated.senior > generated.nonSenior + 0.1, `seniors ${generated.senior}, others ${generated.nonSenior}`);
  });

  it('keeps overall churn and the blank TotalCharges share in the real ranges', () => {
    assert.ok(generated.overall >= 0.22 && generated.overall <= 0.31, `overall churn ${generated.overall}`);
    assert.ok(generated.blankShare >= 0.0005 && generated.blankShare <= 0.006, `blank share ${generated.blankShare}`);
  });

  it('stays close to the figures of the real CSV', async (context) => {
    const csv = realTelcoCsv();
    if (csv === undefined) {
      context.skip('real Telco CSV not found: set IQUERY_TELCO_CSV to WA_Fn-UseC_-Telco-Customer-Churn.csv');
      return;
    }
    const real = await withDatabase(':memory:', (run) => churnFigures(realTelcoSql(csv), run));
    // At 7,043 customers a rate's sampling error is about 1 point; 5 points leaves room for the model.
    const close = (name: string, actual: number, expected: number, tolerance = 0.05): void => {
      assert.ok(Math.abs(actual - expected) <= tolerance, `${name}: generated ${actual.toFixed(3)}, real ${expected.toFixed(3)}`);
    };
    close('overall', generated.overall, real.overall, 0.03);
    close('tenure ≤ 12', generated.shortTenure, real.shortTenure);
    close('tenure > 48', generated.longTenure, real.longTenure);
    close('seniors', generated.senior, real.senior);
    close('non-seniors', generated.nonSenior, real.nonSenior);
    for (const [label, generatedRates, realRates] of [
      ['Contract', generated.byContract, real.byContract],
      ['InternetService', generated.byInternet, real.byInternet],
      ['PaymentMethod', generated.byPayment, real.byPayment],
    ] as const) {
      assert.deepEqual(Object.keys(generatedRates).sort(), Object.keys(realRates).sort(), label);
      for (const [value, rate] of Object.entries(realRates)) close(`${label} ${value}`, at(generatedRates, value), rate);
    }
    // Blank TotalCharges is rare (11 of 7,043 in the real data): compare within a factor of three.
    assert.ok(generated.blankShare <= real.blankShare * 3 && generated.blankShare >= real.blankShare / 3, `blank share ${generated.blankShare} vs ${real.blankShare}`);
  });

  it('makes manual payments and churners pay late more often', async () => {
    const rows = await query(`SELECT p."PaymentMethod" AS method, c."Churn" AS churn, avg(CASE WHEN paid_late THEN 1.0 ELSE 0.0 END) AS late
      FROM user_bills JOIN user_payments AS p USING ("customerID") JOIN user_churn AS c USING ("customerID") GROUP BY ALL`);
    const late = (method: string, churn: string): number =>
      Number(rows.find((row) => row['method'] === method && row['churn'] === churn)?.['late'] ?? Number.NaN);
    assert.ok(late('Electronic check', 'No') > late('Credit card (automatic)', 'No') * 2);
    assert.ok(late('Electronic check', 'Yes') > late('Electronic check', 'No'));
  });
});

async function tableHashes(path: string): Promise<Record<string, string>> {
  return withDatabase(path, async (run) => {
    const hashes: Record<string, string> = {};
    for (const table of demoTables) {
      const [content] = await run(tableHashSql(table, primaryKeys[table] ?? []));
      const [layout] = await run(tableLayoutHashSql(table));
      hashes[table] = `${String(content?.['hash'])} ${String(layout?.['hash'])}`;
    }
    return hashes;
  });
}

describe('generateDemoDatabase: determinism and scale', () => {
  it('gives identical content and row order for the same seed, different content for another seed', async () => {
    const again = join(folder, 'again.duckdb');
    const other = join(folder, 'other.duckdb');
    await generateDemoDatabase({ path: again, scale: 1, seed: 42 });
    await generateDemoDatabase({ path: other, scale: 1, seed: 43 });
    const first = await tableHashes(mainPath);
    assert.deepEqual(await tableHashes(again), first);
    const different = await tableHashes(other);
    for (const table of demoTables) assert.notEqual(different[table], first[table], table);
  });

  it('scales the customer count: scale 0.5 gives round(0.5 × 7,043) customers', async () => {
    const path = join(folder, 'half.duckdb');
    const half = await generateDemoDatabase({ path, scale: 0.5 });
    assert.equal(half.customers, Math.round(0.5 * 7_043));
    const row = await withDatabase(path, async (run) => (await run('SELECT count(*) AS customers FROM user_churn'))[0]);
    assert.equal(row?.['customers'], 3_522);
  });

  it('replaces an existing file and leaves no work files behind', async () => {
    const folderForReplace = join(folder, 'replace');
    mkdirSync(folderForReplace);
    const path = join(folderForReplace, 'demo.duckdb');
    writeFileSync(path, 'not a database');
    writeFileSync(`${path}.wal`, 'stale log of the old file');
    const messages: string[] = [];
    await generateDemoDatabase({ path, scale: 0.1, seed: 1, onProgress: (message) => messages.push(message) });
    assert.deepEqual(readdirSync(folderForReplace), ['demo.duckdb']);
    const row = await withDatabase(path, async (run) => (await run('SELECT count(*) AS customers FROM user_demographics'))[0]);
    assert.equal(row?.['customers'], 704);
    assert.ok(messages.some((message) => /^user_bills: [\d,]+ rows$/.test(message)), messages.join('\n'));
  });
});

describe('generateDemoDatabase: bad input', () => {
  const rejects = (options: Parameters<typeof generateDemoDatabase>[0], pattern: RegExp) =>
    assert.rejects(generateDemoDatabase(options), (error: unknown) => {
      assert.ok(error instanceof IqueryError, String(error));
      assert.equal(error.code, 'bad_input');
      assert.match(error.message, pattern);
      assert.ok(error.hint !== undefined && error.hint.length > 0);
      return true;
    });

  it('rejects a scale that is not a positive finite number', async () => {
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e9]) {
      await rejects({ path: join(folder, 'bad.duckdb'), scale }, /scale/);
    }
    await rejects({ path: join(folder, 'bad.duckdb'), scale: 0.00001 }, /no customers/);
  });

  it('rejects a seed that is not a whole number', async () => {
    await rejects({ path: join(folder, 'bad.duckdb'), seed: 1.5 }, /seed/);
    await rejects({ path: join(folder, 'bad.duckdb'), seed: Number.NaN }, /seed/);
  });

  it('rejects a path that cannot be written', async () => {
    await rejects({ path: folder }, /folder/);
    const file = join(folder, 'plain-file');
    writeFileSync(file, '');
    await rejects({ path: join(file, 'inside', 'demo.duckdb') }, /Cannot write/);
    await rejects({ path: '' }, /path/);
  });
});
