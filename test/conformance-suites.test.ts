import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DYNAMODB_SUITES } from '../vitest.conformance.config.ts';

const TEST_FOLDER = fileURLToPath(new URL('./', import.meta.url));

/** The suites that import what starts a DynamoDB (the test DynamoDB, a local stack, its jar). */
function suitesImporting(names: readonly string[]): string[] {
  return readdirSync(TEST_FOLDER)
    .filter((name) => name.endsWith('.test.ts'))
    .filter((name) => {
      const source = readFileSync(`${TEST_FOLDER}${name}`, 'utf8');
      const imports = [...source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'[^']+'/g)];
      return imports.some(([, list = '']) =>
        list.split(',').some((entry) => names.includes(entry.trim())),
      );
    })
    .map((name) => `test/${name}`);
}

describe('the conformance run (npm run test:conformance)', () => {
  it('runs every suite that starts a DynamoDB, however it starts it, against DynamoDB Local', () => {
    const starting = suitesImporting([
      'startLocalDynamoDb',
      'startStackProcess',
      'dynamoDbLocalJar',
    ]);
    expect(starting.length).toBeGreaterThan(30);
    expect(DYNAMODB_SUITES).toEqual(expect.arrayContaining(starting));
  });
});
