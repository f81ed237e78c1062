import { DuckDBTypeId, JsonDuckDBValueConverter, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import type { SqlValue, TypeFamily } from '../source.js';

const nestedTypes = new Set<DuckDBTypeId>([
  DuckDBTypeId.INTERVAL,
  DuckDBTypeId.LIST,
  DuckDBTypeId.STRUCT,
  DuckDBTypeId.MAP,
  DuckDBTypeId.ARRAY,
  DuckDBTypeId.UNION,
  DuckDBTypeId.VARIANT,
]);

const wideIntegers = new Set<DuckDBTypeId>([DuckDBTypeId.BIGINT, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT, DuckDBTypeId.UHUGEINT, DuckDBTypeId.BIGNUM]);

/**
 * Converts one DuckDB value to a JSON-safe scalar: wide integers become numbers when they are exact
 * in a double and strings otherwise; decimals become numbers; dates and timestamps ISO-like strings;
 * nested values (lists, structs, maps, intervals) their JSON text.
 */
export function toSqlValue(value: DuckDBValue, type: DuckDBType): SqlValue {
  if (value === null) return null;
  const converted = JsonDuckDBValueConverter(value, type, JsonDuckDBValueConverter);
  if (converted === null) return null;
  if (nestedTypes.has(type.typeId)) return JSON.stringify(converted);
  if (wideIntegers.has(type.typeId) && typeof converted === 'string') {
    const asNumber = Number(converted);
    return Number.isSafeInteger(asNumber) ? asNumber : converted;
  }
  if (type.typeId === DuckDBTypeId.DECIMAL && typeof converted === 'string') return Number(converted);
  if (typeof converted === 'string' || typeof converted === 'number' || typeof converted === 'boolean') return converted;
  return JSON.stringify(converted);
}

export function familyOfDuckdbType(type: DuckDBType): TypeFamily {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return 'integer';
    case DuckDBTypeId.DECIMAL:
      return 'decimal';
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
      return 'float';
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.UUID:
      return 'text';
    case DuckDBTypeId.DATE:
      return 'date';
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return 'timestamp';
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_TZ:
      return 'time';
    default:
      return 'other';
  }
}
