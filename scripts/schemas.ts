/**
 * `npm run schemas`: writes the JSON Schema of every item type (shared/store/item-schemas.ts)
 * to `schemas/items/<itemType>.schema.json`. Commit the result: a test checks the files equal
 * what the code generates.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { itemJsonSchemas } from '../shared/store/item-schemas.ts';
import { acceptOnlyHelp } from './local/cli.ts';

export const SCHEMA_FOLDER = fileURLToPath(new URL('../schemas/items/', import.meta.url));

/** Each file's name and its text, as written. */
export function schemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(itemJsonSchemas()).map(([itemType, schema]) => [
      `${itemType}.schema.json`,
      `${JSON.stringify(schema, null, 2)}\n`,
    ]),
  );
}

const USAGE = `Usage: npm run schemas

  Writes the JSON Schema of every item type to schemas/items/<itemType>.schema.json,
  removing any file there that is no longer an item type. Takes no arguments.

  -h, --help  this text
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  acceptOnlyHelp(process.argv.slice(2), USAGE, 'npm run schemas: ');
  mkdirSync(SCHEMA_FOLDER, { recursive: true });
  const files = schemaFiles();
  for (const name of readdirSync(SCHEMA_FOLDER)) {
    if (!(name in files)) rmSync(`${SCHEMA_FOLDER}${name}`);
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(`${SCHEMA_FOLDER}${name}`, text);
  console.log(
    `wrote ${Object.keys(files).length} schemas to schemas/items/: ${Object.keys(files).join(', ')}`,
  );
}
