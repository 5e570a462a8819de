/**
 * Runs before every test file (vitest `setupFiles`): keeps everything the file's process
 * writes to stdout and stderr (Powertools loggers write there directly) plus the output of
 * child processes that tests hand to `recordOutput`, and fails the file if any test secret
 * appears in it. The one place a secret may be printed is `npm start`'s banner line that
 * tells the user which secret is in use.
 */
import { afterAll, expect } from 'vitest';
import { TEST_SECRETS } from './test-secrets.ts';

const captured: string[] = [];

export function recordOutput(text: string): void {
  captured.push(text);
}

/** Everything written so far, e.g. to check that a test's logs were really captured. */
export function capturedOutput(): string {
  return captured.join('');
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

/** `npm start` prints the secret in use on purpose, on one line of its banner. */
const BANNER_SECRET_LINE = /^\s*secret\s{2,}/;

afterAll(() => {
  const leaks = captured
    .join('')
    .split('\n')
    .filter((line) => !BANNER_SECRET_LINE.test(line))
    .filter((line) => Object.values(TEST_SECRETS).some((secret) => line.includes(secret)));
  expect(leaks, 'log lines that contain a webhook secret').toEqual([]);
});
