/**
 * EventBridge event patterns, evaluated as EventBridge evaluates them (no npm package on the
 * registry implements them; the semantics are those of AWS's "Content filtering in event
 * patterns" and "Comparison operators" pages). A pattern mirrors the event's structure; each
 * leaf is a list of conditions of which one must hold; fields are ANDed, `$or` ORs
 * sub-patterns; an array in the event matches when any of its elements does.
 */

export class InvalidPatternError extends Error {
  override readonly name = 'InvalidPatternError';
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Scalar = string | number | boolean | null;

/** Parses and checks a pattern; throws `InvalidPatternError` saying what is wrong. */
export function parsePattern(text: string): JsonObject {
  let pattern: unknown;
  try {
    pattern = JSON.parse(text);
  } catch {
    throw new InvalidPatternError('the pattern is not JSON');
  }
  checkPattern(pattern, '');
  return pattern as JsonObject;
}

/** True when `event` (an event as a rule sees it: source, detail-type, detail, …) matches. */
export function matchesPattern(pattern: JsonObject, event: unknown): boolean {
  return matchObject(pattern, event);
}

function matchObject(pattern: JsonObject, value: unknown): boolean {
  if (Array.isArray(value)) return value.some((element) => matchObject(pattern, element));
  for (const [key, sub] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(sub as JsonObject[]).some((branch) => matchObject(branch, value))) return false;
      continue;
    }
    const field = isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
    const present = isObject(value) && Object.hasOwn(value, key);
    const matched = Array.isArray(sub)
      ? matchLeaf(sub as Json[], field, present)
      : matchObject(sub as JsonObject, field);
    if (!matched) return false;
  }
  return true;
}

function matchLeaf(conditions: readonly Json[], value: unknown, present: boolean): boolean {
  if (!present) return conditions.some((condition) => isExists(condition, false));
  const values = Array.isArray(value) ? value : [value];
  return conditions.some((condition) => {
    if (isObject(condition) && 'exists' in condition) return condition.exists === true;
    return values.some((one) => isScalar(one) && matchCondition(condition, one));
  });
}

function matchCondition(condition: Json, value: Scalar): boolean {
  if (!isObject(condition)) return equalScalars(condition as Scalar, value);
  const [operator, operand] = Object.entries(condition)[0] as [string, Json];
  switch (operator) {
    case 'prefix':
      return typeof value === 'string' && affix(operand, value, 'start');
    case 'suffix':
      return typeof value === 'string' && affix(operand, value, 'end');
    case 'equals-ignore-case':
      return typeof value === 'string' && fold(value) === fold(operand as string);
    case 'wildcard':
      return typeof value === 'string' && wildcardRegExp(operand as string).test(value);
    case 'numeric':
      return typeof value === 'number' && numericMatch(operand as Json[], value);
    case 'cidr':
      return typeof value === 'string' && cidrMatch(operand as string, value);
    case 'anything-but':
      return !anythingButExcludes(operand, value);
    default:
      return false;
  }
}

/** True when `value` is one of what `anything-but` names. */
function anythingButExcludes(operand: Json, value: Scalar): boolean {
  if (Array.isArray(operand)) return operand.some((one) => equalScalars(one as Scalar, value));
  if (!isObject(operand)) return equalScalars(operand, value);
  if (typeof value !== 'string') return false;
  const [operator, inner] = Object.entries(operand)[0] as [string, Json];
  const list = (Array.isArray(inner) ? inner : [inner]) as string[];
  switch (operator) {
    case 'prefix':
      return list.some((prefix) => value.startsWith(prefix));
    case 'suffix':
      return list.some((suffix) => value.endsWith(suffix));
    case 'equals-ignore-case':
      return list.some((text) => fold(text) === fold(value));
    case 'wildcard':
      return list.some((wildcard) => wildcardRegExp(wildcard).test(value));
    default:
      return false;
  }
}

function affix(operand: Json, value: string, end: 'start' | 'end'): boolean {
  const ignoreCase = isObject(operand);
  const text = ignoreCase ? (operand['equals-ignore-case'] as string) : (operand as string);
  const [subject, wanted] = ignoreCase ? [fold(value), fold(text)] : [value, text];
  return end === 'start' ? subject.startsWith(wanted) : subject.endsWith(wanted);
}

function fold(text: string): string {
  return text.toLocaleLowerCase('en-US');
}

/** JSON numbers compare by value once parsed (300 and 3.0e2 are one number); the rest by identity. */
function equalScalars(left: Scalar, right: Scalar): boolean {
  return left === right;
}

const NUMERIC_OPERATORS: Record<string, (value: number, bound: number) => boolean> = {
  '<': (value, bound) => value < bound,
  '<=': (value, bound) => value <= bound,
  '=': (value, bound) => value === bound,
  '>': (value, bound) => value > bound,
  '>=': (value, bound) => value >= bound,
};

function numericMatch(terms: readonly Json[], value: number): boolean {
  for (let index = 0; index < terms.length; index += 2) {
    const compare = NUMERIC_OPERATORS[terms[index] as string];
    if (compare === undefined || !compare(value, terms[index + 1] as number)) return false;
  }
  return true;
}

/** `*` stands for any run of characters; `\*` is a literal star and `\\` a backslash. */
function wildcardRegExp(wildcard: string): RegExp {
  let source = '';
  for (let index = 0; index < wildcard.length; index++) {
    const character = wildcard[index] as string;
    if (character === '\\' && index + 1 < wildcard.length) {
      source += escapeRegExp(wildcard[index + 1] as string);
      index += 1;
    } else if (character === '*') {
      source += '.*';
    } else {
      source += escapeRegExp(character);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** IPv4 only: `10.0.0.0/24` holds `10.0.0.1`. */
function cidrMatch(block: string, address: string): boolean {
  const [network, bitsText] = block.split('/');
  const networkValue = ipv4(network ?? '');
  const addressValue = ipv4(address);
  const bits = Number(bitsText);
  if (networkValue === undefined || addressValue === undefined) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (networkValue & mask) >>> 0 === (addressValue & mask) >>> 0;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    const octet = Number(part);
    if (!/^\d{1,3}$/.test(part) || octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function isExists(condition: Json, wanted: boolean): boolean {
  return isObject(condition) && condition.exists === wanted;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

// ---- validation: a malformed pattern is refused up front, as PutRule refuses it.

const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'numeric',
  'cidr',
  'anything-but',
  'exists',
];

/** Deeper than any event this product publishes: beyond it a pattern can only be a mistake. */
const MAX_PATTERN_DEPTH = 64;

function checkPattern(pattern: unknown, path: string, depth = 0): void {
  if (depth > MAX_PATTERN_DEPTH) {
    throw new InvalidPatternError(`the pattern nests deeper than ${MAX_PATTERN_DEPTH} levels`);
  }
  if (!isObject(pattern)) {
    throw new InvalidPatternError(`${path || 'the pattern'} must be a JSON object`);
  }
  for (const [key, sub] of Object.entries(pattern)) {
    const where = path === '' ? key : `${path}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2) {
        throw new InvalidPatternError(`${where} must be an array of at least two patterns`);
      }
      for (const branch of sub) checkPattern(branch, where, depth + 1);
    } else if (Array.isArray(sub)) {
      if (sub.length === 0) throw new InvalidPatternError(`${where} must not be an empty array`);
      for (const condition of sub) checkCondition(condition, where);
    } else if (isObject(sub)) {
      checkPattern(sub, where, depth + 1);
    } else {
      throw new InvalidPatternError(
        `${where} must be an array of values or conditions, e.g. ["value"], or a nested object`,
      );
    }
  }
}

function checkCondition(condition: Json, where: string): void {
  if (!isObject(condition)) {
    if (Array.isArray(condition)) throw new InvalidPatternError(`${where}: arrays cannot nest`);
    return;
  }
  const entries = Object.entries(condition);
  const [operator, operand] = entries[0] ?? [];
  if (entries.length !== 1 || operator === undefined || !OPERATORS.includes(operator)) {
    throw new InvalidPatternError(
      `${where}: a condition is one of ${OPERATORS.join(', ')}, e.g. {"prefix": "abc"}`,
    );
  }
  const fail = (expected: string): never => {
    throw new InvalidPatternError(`${where}: "${operator}" takes ${expected}`);
  };
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand !== 'string' && !isIgnoreCase(operand)) {
        fail('a string or {"equals-ignore-case": string}');
      }
      break;
    case 'equals-ignore-case':
    case 'wildcard':
    case 'cidr':
      if (typeof operand !== 'string') fail('a string');
      break;
    case 'exists':
      if (typeof operand !== 'boolean') fail('true or false');
      break;
    case 'numeric':
      if (!isNumericRange(operand)) fail('["<op>", number] or ["<op>", number, "<op>", number]');
      break;
    case 'anything-but':
      if (!isAnythingBut(operand)) {
        fail('a value, a list of values, or {prefix|suffix|equals-ignore-case|wildcard: …}');
      }
      break;
  }
}

function isIgnoreCase(operand: Json | undefined): boolean {
  return (
    isObject(operand) &&
    Object.keys(operand).length === 1 &&
    typeof operand['equals-ignore-case'] === 'string'
  );
}

function isNumericRange(operand: Json | undefined): boolean {
  if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) return false;
  for (let index = 0; index < operand.length; index += 2) {
    if (!((operand[index] as string) in NUMERIC_OPERATORS)) return false;
    if (typeof operand[index + 1] !== 'number') return false;
  }
  if (operand.length === 4) {
    // A range: a lower bound, then an upper one.
    return ['>', '>='].includes(operand[0] as string) && ['<', '<='].includes(operand[2] as string);
  }
  return true;
}

function isAnythingBut(operand: Json | undefined): boolean {
  if (operand === undefined) return false;
  if (Array.isArray(operand)) return operand.length > 0 && operand.every(isScalar);
  if (!isObject(operand)) return true;
  const entries = Object.entries(operand);
  if (entries.length !== 1) return false;
  const [operator, inner] = entries[0] as [string, Json];
  if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(operator)) return false;
  const list = Array.isArray(inner) ? inner : [inner];
  return list.length > 0 && list.every((one) => typeof one === 'string');
}
