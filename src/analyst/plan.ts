/**
 * The query plan: what the analyst understood, before any SQL. It is shown to the person (`plan` in
 * the JSON), compiled to SQL for the source's dialect, and kept in a session for follow-ups.
 */
import type { ColumnEntry, MetricEntry, TableEntry, ValueEntry } from '../dictionary/dictionary.js';

export type Aggregate = 'count' | 'count_distinct' | 'sum' | 'avg' | 'min' | 'max' | 'median' | 'stddev' | 'variance' | 'percentile';
export type Grain = 'day' | 'week' | 'month' | 'quarter' | 'year';
export type ChartType = 'bar' | 'line' | 'pie' | 'histogram' | 'scatter' | 'table' | 'number';

export interface ColumnRef {
  table: TableEntry;
  column: ColumnEntry;
}

export type Measure =
  | { kind: 'metric'; metric: MetricEntry }
  /** An aggregate of a column, or of the table's rows (`count` without a column). */
  | { kind: 'aggregate'; fn: Aggregate; table: TableEntry; column?: ColumnEntry; percentile?: number }
  /** The fraction of rows meeting `condition` (within each group), or of a column's sum (`weight`). */
  | { kind: 'share'; table: TableEntry; condition: Filter[]; weight?: ColumnRef }
  /** Each group's share of all rows: count / total count. */
  | { kind: 'distribution'; table: TableEntry }
  /** Each group's part of an additive measure's total (revenue share by payment method). */
  | { kind: 'portion'; of: Measure };

export interface Dimension extends ColumnRef {
  /** Numeric bins of this width; the group value is the bin's lower bound. */
  bin?: number;
  /** Date truncation; the group value is the period's first day. */
  grain?: Grain;
  /** Only these values (a comparison of a few values). */
  only?: ValueEntry[];
}

export type Filter =
  | (ColumnRef & { kind: 'values'; values: ValueEntry[]; negate: boolean })
  | (ColumnRef & { kind: 'compare'; op: '>' | '>=' | '<' | '<=' | '='; value: number })
  | (ColumnRef & { kind: 'between'; low: number; high: number })
  | (ColumnRef & { kind: 'null'; negate: boolean })
  /** Rows of another table exist (or not, with `negate`) for this row: `column` is that table's link. */
  | (ColumnRef & { kind: 'exists'; negate: boolean })
  /** from ≤ column < to, as ISO dates. */
  | (ColumnRef & { kind: 'time'; from: string; to: string; label: string });

/** A condition on a measure after grouping (`流失率超过30%的支付方式`). */
export interface Having {
  measure: number;
  op: '>' | '>=' | '<' | '<=';
  value: number;
}

export interface Ordering {
  /** Index into `measures`, or the dimension it orders by. */
  by: { measure: number } | { dimension: number };
  direction: 'asc' | 'desc';
}

export type Plan =
  | {
      intent: 'aggregate';
      measures: Measure[];
      dimensions: Dimension[];
      filters: Filter[];
      having: Having[];
      order?: Ordering;
      limit?: number;
      /** Year-over-year or period-over-period: the measure for a period and the same period before. */
      change?: {
        kind: 'yoy' | 'mom';
        column: ColumnRef;
        period: { from: string; to: string; label: string };
        previous: { from: string; to: string; label: string };
        /** Only the growth rate (the question asks for 增长率 / growth), not both values beside it. */
        growthOnly: boolean;
        /** With growthOnly: the period's value beside its growth (`收入以及同比增长率`). */
        withCurrent?: boolean;
      };
      chart?: ChartType;
    }
  | { intent: 'rows'; table: TableEntry; columns: ColumnRef[]; filters: Filter[]; order?: { column: ColumnRef; direction: 'asc' | 'desc' }; limit: number; chart?: ChartType }
  | { intent: 'histogram'; column: ColumnRef; width: number; filters: Filter[]; chart?: ChartType }
  | { intent: 'correlation'; x: ColumnRef; y: ColumnRef; filters: Filter[]; chart?: ChartType }
  /** Per-column counts of a table: missing values (the default) or distinct values. */
  | { intent: 'missing'; table: TableEntry; columns: ColumnRef[]; stat?: 'missing' | 'distinct' }
  | { intent: 'duplicates'; table: TableEntry; columns: ColumnRef[] }
  | { intent: 'distinct_values'; column: ColumnRef; filters: Filter[] }
  | { intent: 'list_tables' }
  | { intent: 'describe_table'; table: TableEntry }
  | { intent: 'describe_column'; column: ColumnRef };

export type PlanIntent = Plan['intent'];
