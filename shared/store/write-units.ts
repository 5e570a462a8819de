/**
 * DynamoDB item sizes and write units by AWS's published rules, computed from the items
 * actually written. dynalite's ConsumedCapacity ignores GSIs, so it is no measurement; the
 * worker tests and the benchmark both count with this module.
 *
 * Sizes: a string is its UTF-8 bytes, binary its bytes, a number 1 byte plus 1 per two
 * significant digits, a boolean or null 1 byte, a list or map 3 bytes plus 1 per element
 * (plus each map key's name); a top-level attribute adds its name's bytes.
 */
import { INDEXES, type IndexDefinition, indexKeyAttributes, TABLE } from './table.ts';

/** An item as the document client takes it; typed items (interfaces) are accepted as they are. */
export type Item = object;
type Attributes = Readonly<Record<string, unknown>>;

export const KILOBYTE = 1024;
/** DynamoDB's maximum item size. */
export const MAX_ITEM_BYTES = 400 * KILOBYTE;

export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += utf8Length(name) + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return utf8Length(value);
  if (typeof value === 'number') return numberSize(value);
  if (typeof value === 'bigint') return numberSize(Number(value));
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) {
    return [...value].reduce((sum: number, member) => sum + valueSize(member), 0);
  }
  if (Array.isArray(value)) {
    return value.reduce((sum: number, element) => sum + 1 + valueSize(element), 3);
  }
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, element] of Object.entries(value)) {
      if (element === undefined) continue;
      size += 1 + utf8Length(name) + valueSize(element);
    }
    return size;
  }
  throw new TypeError(`cannot size a ${typeof value} attribute value`);
}

/**
 * DynamoDB stores numbers as base-100 digits: 1 byte of exponent, 1 per digit pair (a pair
 * split by the decimal point costs one more), 1 more when negative. Zero is 1 byte.
 */
function numberSize(value: number): number {
  if (value === 0) return 1;
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '').length;
  const exponent = Number(exponentText);
  const misaligned = digits % 2 === 0 && exponent % 2 === 0 ? 1 : 0;
  return 1 + Math.ceil(digits / 2) + misaligned + (value < 0 ? 1 : 0);
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function kilobytes(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / KILOBYTE));
}

/** The index entry an item produces (index keys, table keys, projected attributes), if any. */
export function indexEntry(item: Item, index: IndexDefinition): Attributes | undefined {
  const attributes = item as Attributes;
  const keys = indexKeyAttributes(index);
  if (keys.some((name) => attributes[name] === undefined)) return undefined;
  if (index.projection === 'ALL') return attributes;
  const names = [TABLE.partitionKey, TABLE.sortKey, ...keys, ...index.projection];
  return Object.fromEntries(
    names.filter((name) => attributes[name] !== undefined).map((name) => [name, attributes[name]]),
  );
}

export interface WriteUnits {
  readonly table: number;
  /** Write units per index name. */
  readonly indexes: Readonly<Record<string, number>>;
  readonly total: number;
}

/** What one Put did: the item sent, the item it replaced, and whether its condition failed. */
export interface ItemWrite {
  readonly item: Item;
  readonly previous?: Item;
  /** A conditional check that failed still costs the table write, but writes no index. */
  readonly conditionFailed?: boolean;
}

/**
 * Write units of one Put: the larger of the new and replaced item, rounded up per KB; plus,
 * per GSI, one write of the entry when it appears, changes or disappears, and two (a delete
 * and a put) when its key moves.
 */
export function writeUnits(write: ItemWrite): WriteUnits {
  const { item, previous } = write;
  const table = kilobytes(
    Math.max(itemSize(item), previous === undefined ? 0 : itemSize(previous)),
  );
  const indexes: Record<string, number> = {};
  for (const index of INDEXES) {
    indexes[index.indexName] = write.conditionFailed ? 0 : indexWriteUnits(index, item, previous);
  }
  const total = table + Object.values(indexes).reduce((sum, units) => sum + units, 0);
  return { table, indexes, total };
}

function indexWriteUnits(index: IndexDefinition, item: Item, previous?: Item): number {
  const after = indexEntry(item, index);
  const before = previous === undefined ? undefined : indexEntry(previous, index);
  if (before === undefined && after === undefined) return 0;
  if (before === undefined) return kilobytes(itemSize(after ?? {}));
  if (after === undefined) return kilobytes(itemSize(before));
  const keyMoved = indexKeyAttributes(index).some((name) => before[name] !== after[name]);
  if (keyMoved) return kilobytes(itemSize(before)) + kilobytes(itemSize(after));
  if (sameValue(before, after)) return 0;
  return kilobytes(Math.max(itemSize(before), itemSize(after)));
}

/** Sum of the write units of several Puts. */
export function totalWriteUnits(writes: readonly ItemWrite[]): number {
  return writes.reduce((sum, write) => sum + writeUnits(write).total, 0);
}

function sameValue(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}
