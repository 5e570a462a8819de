/**
 * The load tool end to end, small: `npm run load` starts its own local stack, sends a few
 * hundred signed events with duplicates, and finds every one persisted exactly once.
 */
import { expect, it } from 'vitest';
import { runTypeScript, TEST_STACK_ENVIRONMENT } from './support/local-stack-process.ts';

it('persists every acknowledged event exactly once under load, and says so', async () => {
  const run = await runTypeScript(
    'scripts/load.ts',
    ['--events', '330', '--concurrency', '20', '--seed', '7', '--json'],
    {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
        TEST_STACK_ENVIRONMENT.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
    },
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const report = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(report).toMatchObject({
    sent: 330,
    acknowledged: 330,
    refused: 0,
    lost: 0,
    duplicatesStored: 0,
  });
  expect(report.persisted).toBe(report.uniqueEvents);
  expect(report.uniqueEvents).toBeLessThan(330);
  expect(report.projectsReviewed).toBe(report.projects);
}, 120_000);

it('explains a bad flag and exits non-zero', async () => {
  const run = await runTypeScript('scripts/load.ts', ['--events', 'many'], {});
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--events must be a whole number');
  expect(run.stderr).toContain('Usage: npm run load');
  expect(run.stderr).not.toContain('    at ');
});
