/** `npm run tail`: follows the local bus's events file and prints what a pattern matches. */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let folder: string;
let file: string;
const event = (type: string, projectId: string) => ({
  version: '0',
  id: `id-${type}-${projectId}`,
  'detail-type': type,
  source: 'datasaur.webhooks',
  account: '000000000000',
  time: '2024-03-01T12:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { version: 1, projectId, status: type.split(' ')[1]?.toUpperCase() },
});
const line = (value: unknown) => `${JSON.stringify(value)}\n`;

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'tail-test-'));
  file = join(folder, 'events.jsonl');
  writeFileSync(
    file,
    [
      event('Project Created', 'P1'),
      event('Project Reviewed', 'P1'),
      event('Project Reviewed', 'P2'),
    ]
      .map(line)
      .join(''),
  );
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

const TAIL = ['--import', 'tsx', 'scripts/tail.ts'];

describe('npm run tail', () => {
  it('prints the events the pattern matches, then follows what is appended', async () => {
    const child = spawn(
      process.execPath,
      [
        ...TAIL,
        '--file',
        file,
        '--all',
        '--max',
        '2',
        '--pattern',
        '{"detail-type":["Project Reviewed"],"detail":{"projectId":[{"anything-but":"P1"}]}}',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines: string[] = [];
    let appended = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter((text) => text !== ''));
      // The first match is printed: now an event arrives while it follows the file.
      if (!appended) {
        appended = true;
        appendFileSync(file, line(event('Project Reviewed', 'P3')));
      }
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(lines.map((text) => JSON.parse(text).detail.projectId)).toEqual(['P2', 'P3']);
  });

  it('refuses a malformed pattern with what it expected, exit 2, no stack trace', async () => {
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [...TAIL, '--file', file, '--pattern', '{"detail-type":"Project Reviewed"}'],
        { timeout: 45_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : Number(error.code), stderr }),
      );
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--pattern: detail-type must be an array of values or conditions');
    expect(run.stderr).not.toContain('    at ');
  });
});
