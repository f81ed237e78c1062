/**
 * For the tests: the demo's schema filled with the real IBM Telco data (the shared CSV), without the
 * bills table (the real data has none): the same questions must be answered on real data as well.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { realTelcoCsv } from '../../demo/demo-test-database.js';

/** Builds `<folder>/real-telco.duckdb`; undefined when the CSV is not available. */
export async function buildRealTelcoDatabase(folder: string): Promise<string | undefined> {
  const csv = realTelcoCsv();
  if (csv === undefined) return undefined;
  const path = join(folder, 'real-telco.duckdb');
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    const source = `read_csv('${csv.replaceAll("'", "''")}', header = true, nullstr = [' ', ''], types = {'TotalCharges': 'DOUBLE', 'SeniorCitizen': 'INTEGER', 'tenure': 'INTEGER'})`;
    await connection.run(`CREATE TABLE raw AS SELECT * FROM ${source}`);
    await connection.run('CREATE TABLE user_demographics AS SELECT customerID, gender, SeniorCitizen, Partner, Dependents FROM raw');
    await connection.run(
      'CREATE TABLE user_services AS SELECT customerID, tenure, PhoneService, MultipleLines, InternetService, OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport, StreamingTV, StreamingMovies FROM raw',
    );
    await connection.run('CREATE TABLE user_payments AS SELECT customerID, Contract, PaperlessBilling, PaymentMethod, MonthlyCharges, TotalCharges FROM raw');
    await connection.run('CREATE TABLE user_churn AS SELECT customerID, Churn FROM raw');
    await connection.run('DROP TABLE raw');
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return path;
}
