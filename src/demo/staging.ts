import { billTotalsSql } from './bill-model.js';
import { customerModelSql } from './customer-model.js';

/**
 * The temporary customer table every public table is projected from. It is sorted by customer ID and
 * numbered in that order (`id_rank`), so the tables can be filled in batches of consecutive IDs: each
 * batch then extends the primary-key index at its end instead of all over it, and a committed batch
 * lets DuckDB write its part of the index out, which keeps memory flat however large the scale.
 */

/** Name of the temporary table holding one row per generated customer. */
export const customerStagingTable = 'demo_customer';

const draftTable = 'demo_customer_draft';

/** Statements creating {@link customerStagingTable}: the model, then totals and the ID order. */
export function stagingStatements(seed: number, customers: number): string[] {
  return [
    `CREATE OR REPLACE TEMP TABLE ${draftTable} AS\n${customerModelSql(seed, customers)}`,
    `CREATE OR REPLACE TEMP TABLE ${customerStagingTable} AS
SELECT draft.*, totals.total_cents, row_number() OVER (ORDER BY draft.customer_id) - 1 AS id_rank
FROM ${draftTable} AS draft
LEFT JOIN (${billTotalsSql(draftTable)}) AS totals USING (customer_index)
ORDER BY draft.customer_id`,
    `DROP TABLE ${draftTable}`,
  ];
}

/** A run of consecutive customers in ID order: `first` included, `end` excluded. */
export interface CustomerBatch {
  first: number;
  end: number;
}

/** About 8M bills per batch (customers average 32 months): big enough to be fast, small enough to stay in memory. */
export const customersPerBatch = 250_000;

/** The batches covering `customers`, in ID order; at least one, even for a single customer. */
export function customerBatches(customers: number): CustomerBatch[] {
  const batches: CustomerBatch[] = [];
  for (let first = 0; first < customers; first += customersPerBatch) {
    batches.push({ first, end: Math.min(customers, first + customersPerBatch) });
  }
  return batches;
}

/** The staging rows of one batch, as a parenthesised query usable in FROM. */
export function stagingBatchSql(batch: CustomerBatch): string {
  return `(SELECT * FROM ${customerStagingTable} WHERE id_rank >= ${batch.first} AND id_rank < ${batch.end} ORDER BY id_rank)`;
}
