/**
 * The manifest of a frame: a folder of little-endian column files plus `manifest.json` naming them.
 * The layout is specified in FORMAT.md beside this file; `python/iquery_kernel/frames.py` reads and
 * writes the same thing. A frame written by the sandbox is untrusted: `parseManifest` checks it.
 */
import { z } from 'zod';
import { IqueryError, messageOf } from '../../errors.js';
import type { TypeFamily } from '../../sources/source.js';

export const frameFormatName = 'iquery-frame';
export const frameFormatVersion = 1;
export const manifestFileName = 'manifest.json';

export const timeUnits = ['s', 'ms', 'us', 'ns'] as const;
export type TimeUnit = (typeof timeUnits)[number];

export const integerKinds = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'int128'] as const;
export type IntegerKind = (typeof integerKinds)[number];

export const decimalStorages = ['int16', 'int32', 'int64', 'int128', 'float64'] as const;
export type DecimalStorage = (typeof decimalStorages)[number];

/** Bytes per value of each fixed-width storage. */
export const storageWidths: Record<IntegerKind | DecimalStorage | 'float32' | 'float64' | 'bool' | 'date32', number> = {
  bool: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  int128: 16,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  float32: 4,
  float64: 8,
  date32: 4,
};

/**
 * A file name inside the frame folder: no separators, no `..`, nothing hidden. Checked on every name
 * a manifest gives, so that a manifest cannot point outside its folder.
 */
const fileName = z
  .string()
  .min(1)
  .max(200)
  .refine((name) => !name.startsWith('.') && !name.includes('/') && !name.includes('\\') && !name.includes('\0'), 'a plain file name');

const common = {
  name: z.string(),
  /** The engine's or pandas' own type name, for people. */
  native_type: z.string().optional(),
  /** Null rows; 0 when there is no validity file. */
  nulls: z.number().int().nonnegative(),
};
const withValidity = { ...common, validity: fileName.optional() };

const columnSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...withValidity, kind: z.enum(['bool', ...integerKinds, 'float32', 'float64', 'date32']), data: fileName }),
  z.strictObject({ ...withValidity, kind: z.literal('timestamp'), unit: z.enum(timeUnits), timezone: z.string().min(1).optional(), data: fileName }),
  z.strictObject({ ...withValidity, kind: z.literal('duration'), unit: z.enum(timeUnits), data: fileName }),
  z.strictObject({
    ...withValidity,
    kind: z.literal('decimal'),
    storage: z.enum(decimalStorages),
    /** Digits after the point: value = stored integer / 10^scale. Absent (ignored) for float64 storage. */
    scale: z.number().int().min(0).max(76).optional(),
    data: fileName,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('category'),
    /** int32 per row, -1 = null. */
    codes: fileName,
    /** Number of categories. */
    categories: z.number().int().nonnegative(),
    /** int64 × (categories + 1) byte offsets into `dictionary`. */
    dictionary_offsets: fileName,
    /** The categories' UTF-8 bytes, back to back. */
    dictionary: fileName,
  }),
  z.strictObject({ ...withValidity, kind: z.literal('string'), offsets: fileName, data: fileName }),
]);

export type FrameColumn = z.infer<typeof columnSchema>;
export type FrameColumnKind = FrameColumn['kind'];

const manifestSchema = z.strictObject({
  format: z.literal(frameFormatName),
  version: z.literal(frameFormatVersion),
  rows: z.number().int().nonnegative(),
  columns: z.array(columnSchema),
});

export type FrameManifest = z.infer<typeof manifestSchema>;

/** Parses and checks a manifest's text; throws `bad_input` naming what is wrong. */
export function parseManifest(text: string, where: string): FrameManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IqueryError('bad_input', `The frame manifest ${where} is not JSON: ${messageOf(error)}`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join('.') ?? '';
    throw new IqueryError('bad_input', `The frame manifest ${where} is malformed${path === '' ? '' : ` at ${path}`}: ${issue?.message ?? 'unknown problem'}.`, {
      hint: 'Frames are written by writeQueryFrame or frames.write_frame; see src/sandbox/frames/FORMAT.md.',
    });
  }
  return parsed.data;
}

/** The broad type family of a frame column. */
export function familyOfColumn(column: FrameColumn): TypeFamily {
  switch (column.kind) {
    case 'bool':
      return 'boolean';
    case 'float32':
    case 'float64':
      return 'float';
    case 'decimal':
      return 'decimal';
    case 'date32':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    case 'category':
    case 'string':
      return 'text';
    case 'duration':
      return 'other';
    default:
      return 'integer';
  }
}

/** A short description of a column's kind, e.g. `timestamp[us, UTC]`, `decimal(int64, 2)`. */
export function describeKind(column: FrameColumn): string {
  switch (column.kind) {
    case 'timestamp':
      return `timestamp[${column.unit}${column.timezone === undefined ? '' : `, ${column.timezone}`}]`;
    case 'duration':
      return `duration[${column.unit}]`;
    case 'decimal':
      return column.scale === undefined ? `decimal(${column.storage})` : `decimal(${column.storage}, ${column.scale})`;
    default:
      return column.kind;
  }
}
