/** A result table, a page at a time (10 rows by default), with previous / next. */
import { useState } from 'react';
import type { TableData } from './api-client';
import { useMessages } from './messages';

/** A cell for reading: numbers with at most 4 decimals and digit grouping, empty for null. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toLocaleString('en-US', { maximumFractionDigits: 4 });
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function DataTable({ table, pageSize = 10 }: { table: TableData; pageSize?: number }) {
  const t = useMessages();
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(table.rows.length / pageSize));
  const current = Math.min(page, pages - 1);
  const from = current * pageSize;
  const shown = table.rows.slice(from, from + pageSize);
  const numeric = table.columns.map((_, index) => table.rows.some((row) => typeof row[index] === 'number'));
  return (
    <div className="data-table">
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              {table.columns.map((column, index) => (
                <th key={index} className={numeric[index] === true ? 'numeric' : undefined}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((row, rowIndex) => (
              <tr key={from + rowIndex}>
                {table.columns.map((_, index) => (
                  <td key={index} className={numeric[index] === true ? 'numeric' : undefined}>
                    {formatValue(row[index])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="table-footer">
        <span className="muted">
          {table.rows.length === 0 ? t('noRows') : t('rowsShown', { from: from + 1, to: from + shown.length, total: table.rows.length })}
          {table.truncated ? ` ${t('truncated')}` : ''}
        </span>
        {pages > 1 && (
          <span className="pager">
            <button type="button" onClick={() => setPage(current - 1)} disabled={current === 0}>
              {t('previous')}
            </button>
            <span className="muted">
              {current + 1} / {pages}
            </span>
            <button type="button" onClick={() => setPage(current + 1)} disabled={current >= pages - 1}>
              {t('next')}
            </button>
          </span>
        )}
      </div>
    </div>
  );
}
