/**
 * The five public tables of the demo database: the four customer tables keep the column names, types and
 * value sets of the IBM Telco Customer Churn data (split the way a real warehouse would keep them), and
 * `user_bills` adds the monthly history that the real data only summarises.
 */

export interface DemoColumn {
  name: string;
  /** DuckDB type as `DESCRIBE` reports it. */
  type: string;
  /** The staging expression that fills it; absent in `user_bills`, which `bill-model.ts` fills. */
  source?: string;
  /** Stored as the column's comment, so a data dictionary can read it from the database. */
  comment: string;
  nullable?: boolean;
}

export interface DemoTable {
  name: string;
  comment: string;
  columns: readonly DemoColumn[];
  primaryKey: readonly string[];
}

const customerId: DemoColumn = {
  name: 'customerID',
  type: 'VARCHAR',
  source: 'customer_id',
  comment: 'Customer identifier, e.g. 7590-VHVEG; the same key in every user_ table.',
};

/** Shorthand for the many Yes/No-style text columns. */
function text(name: string, source: string, comment: string): DemoColumn {
  return { name, type: 'VARCHAR', source, comment };
}

export const demoTableSchemas: readonly DemoTable[] = [
  {
    name: 'user_demographics',
    comment: 'Who each customer is: one row per customer.',
    primaryKey: ['customerID'],
    columns: [
      customerId,
      text('gender', 'gender', "'Male' or 'Female'."),
      { name: 'SeniorCitizen', type: 'INTEGER', source: 'senior_citizen', comment: '1 if the customer is 65 or older, else 0.' },
      text('Partner', 'partner', "'Yes' if the customer has a partner."),
      text('Dependents', 'dependents', "'Yes' if the customer has dependents (children, parents)."),
    ],
  },
  {
    name: 'user_services',
    comment: 'What each customer subscribes to, and for how long: one row per customer.',
    primaryKey: ['customerID'],
    columns: [
      customerId,
      { name: 'tenure', type: 'INTEGER', source: 'tenure', comment: 'Months as a customer up to the snapshot month (0 = joined this month).' },
      text('PhoneService', 'phone_service', "'Yes' if the customer has a phone line."),
      text('MultipleLines', 'multiple_lines', "'Yes', 'No', or 'No phone service' when PhoneService = 'No'."),
      text('InternetService', 'internet_service', "'DSL', 'Fiber optic' or 'No'."),
      text('OnlineSecurity', 'online_security', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
      text('OnlineBackup', 'online_backup', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
      text('DeviceProtection', 'device_protection', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
      text('TechSupport', 'tech_support', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
      text('StreamingTV', 'streaming_tv', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
      text('StreamingMovies', 'streaming_movies', "'Yes', 'No', or 'No internet service' when InternetService = 'No'."),
    ],
  },
  {
    name: 'user_payments',
    comment: 'How each customer is billed and pays: one row per customer.',
    primaryKey: ['customerID'],
    columns: [
      customerId,
      text('Contract', 'contract', "'Month-to-month', 'One year' or 'Two year'."),
      text('PaperlessBilling', 'paperless_billing', "'Yes' if bills are sent electronically."),
      text(
        'PaymentMethod',
        'payment_method',
        "'Electronic check', 'Mailed check', 'Bank transfer (automatic)' or 'Credit card (automatic)'.",
      ),
      {
        name: 'MonthlyCharges',
        type: 'DOUBLE',
        source: 'monthly_cents / 100.0',
        comment: 'Current monthly charge in dollars (the snapshot month bill).',
      },
      {
        name: 'TotalCharges',
        type: 'DOUBLE',
        source: 'total_cents / 100.0',
        comment: 'Sum of all bills in dollars; NULL for customers with tenure 0, who have not been billed yet.',
        nullable: true,
      },
    ],
  },
  {
    name: 'user_churn',
    comment: 'Whether each customer left in the snapshot month: one row per customer.',
    primaryKey: ['customerID'],
    columns: [customerId, text('Churn', "CASE WHEN churned THEN 'Yes' ELSE 'No' END", "'Yes' if the customer left in the snapshot month.")],
  },
  {
    name: 'user_bills',
    comment: 'One bill per customer and month of tenure, the last in the snapshot month.',
    primaryKey: ['customerID', 'bill_month'],
    columns: [
      customerId,
      { name: 'bill_month', type: 'DATE', comment: 'First day of the billed month.' },
      { name: 'amount', type: 'DOUBLE', comment: 'Billed amount in dollars.' },
      { name: 'paid_late', type: 'BOOLEAN', comment: 'true if the bill was paid after its due date.' },
    ],
  },
];

function quoted(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** CREATE TABLE for one table, with its primary key and NOT NULL on every column but TotalCharges. */
export function createTableSql(table: DemoTable): string {
  const columns = table.columns.map(
    (column) => `${quoted(column.name)} ${column.type}${column.nullable === true ? '' : ' NOT NULL'}`,
  );
  columns.push(`PRIMARY KEY (${table.primaryKey.map(quoted).join(', ')})`);
  return `CREATE TABLE ${quoted(table.name)} (\n  ${columns.join(',\n  ')}\n)`;
}

/** COMMENT ON statements for a table and its columns. */
export function commentSql(table: DemoTable): string[] {
  return [
    `COMMENT ON TABLE ${quoted(table.name)} IS ${sqlString(table.comment)}`,
    ...table.columns.map(
      (column) => `COMMENT ON COLUMN ${quoted(table.name)}.${quoted(column.name)} IS ${sqlString(column.comment)}`,
    ),
  ];
}

/** INSERT filling a customer table from `customerSource` (a staging batch), in the source's order. */
export function customerInsertSql(table: DemoTable, customerSource: string): string {
  const expressions = table.columns.map((column) => {
    if (column.source === undefined) throw new Error(`${table.name}.${column.name} has no staging source`);
    return `${column.source} AS ${quoted(column.name)}`;
  });
  return `INSERT INTO ${quoted(table.name)}\nSELECT ${expressions.join(',\n  ')}\nFROM ${customerSource}`;
}
