import type { TypeFamily } from './source.js';

/**
 * Maps an engine's type name (`BIGINT`, `int(11) unsigned`, `character varying`, `DECIMAL(10,2)`,
 * `timestamp with time zone`, `tinyint(1)`) to a broad family. Unknown names map to `other`.
 */
export function familyOfType(typeName: string): TypeFamily {
  const name = typeName.trim().toLowerCase();
  const withoutSize = (name.split('(')[0] ?? name).trim();
  const base = withoutSize.endsWith(' unsigned') ? withoutSize.slice(0, -' unsigned'.length) : withoutSize;
  // MySQL spells booleans as tinyint(1).
  if (name.startsWith('tinyint(1)') || base === 'boolean' || base === 'bool') return 'boolean';
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'hugeint', 'uhugeint', 'utinyint', 'usmallint', 'uinteger', 'ubigint', 'int2', 'int4', 'int8', 'serial', 'bigserial', 'year'].includes(base)) {
    return 'integer';
  }
  if (base === 'decimal' || base === 'numeric' || base === 'dec' || base === 'money') return 'decimal';
  if (['double', 'double precision', 'float', 'float4', 'float8', 'real'].includes(base)) return 'float';
  if (base === 'date') return 'date';
  if (base.startsWith('timestamp') || base === 'datetime' || base === 'timestamptz') return 'timestamp';
  if (base.startsWith('time')) return 'time';
  if (['varchar', 'char', 'character', 'character varying', 'text', 'tinytext', 'mediumtext', 'longtext', 'string', 'bpchar', 'name', 'enum', 'uuid', 'citext'].includes(base)) {
    return 'text';
  }
  if (base.startsWith('enum') || base.startsWith('varchar') || base.startsWith('char')) return 'text';
  return 'other';
}
