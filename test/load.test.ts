/**
 * The load tool end to end, small: `npm run load` starts its own local stack, sends a few
 * hundred signed events with duplicates, and finds every one persisted exactly once.
 */
import { expect, it } from 'vitest';
import { pendingRanges } from '../scripts/local/load-run.ts';
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

  // Write units per partition key, from the items written, extrapolated to 5,000 requests/s.
  const partitions = report.partitions as {
    targetRate: number;
    hottest: { where: string; key: string; units: number; unitsPerSecondAtTarget: number }[];
  };
  expect(partitions.targetRate).toBe(5000);
  expect(partitions.hottest.map((load) => load.where).sort()).toEqual([
    'GSI1',
    'GSI2',
    'GSI3',
    'table',
  ]);
  const feed = partitions.hottest.find((load) => load.where === 'GSI2');
  // The day's feed is sharded: its hottest key holds a share of the run's events, not all.
  expect(feed?.key).toMatch(/^FEED#\d{4}-\d{2}-\d{2}#\d$/);
  expect(feed?.units).toBeGreaterThan(0);
  expect(feed?.units).toBeLessThan(Number(report.uniqueEvents) / 3);
  for (const load of partitions.hottest)
    expect(load.unitsPerSecondAtTarget).toBeLessThanOrEqual(1000);
}, 120_000);

it('exits non-zero and marks the key when a partition would pass 1,000 units a second', async () => {
  const run = await runTypeScript(
    'scripts/load.ts',
    ['--events', '120', '--concurrency', '20', '--seed', '3', '--target-rate', '100000'],
    {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
        TEST_STACK_ENVIRONMENT.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
    },
  );
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/at 100000 requests\/s, limit 1000\/s/);
  expect(run.stdout).toMatch(/GSI2 +FEED#\S+#\d .*✗ over/);
}, 120_000);

it('explains a bad flag and exits non-zero', async () => {
  const run = await runTypeScript('scripts/load.ts', ['--events', 'many'], {});
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--events must be a whole number');
  expect(run.stderr).toContain('Usage: npm run load');
  expect(run.stderr).not.toContain('    at ');
});

it('looks for unseen events only where one of their deliveries can have been received', () => {
  const startedAt = 1_000_000;
  const pending = (sentAt: number, acknowledgedAt: number, repeatAcknowledgedAt?: number) =>
    [
      `event-${sentAt}`,
      {
        acknowledgedAt,
        earliestSentAt: sentAt,
        latestAcknowledgedAt: repeatAcknowledgedAt ?? acknowledgedAt,
      },
    ] as const;
  const ranges = pendingRanges([
    // A straggler from the start, then a backlog of overlapping requests, out of order.
    pending(startedAt + 5_200, startedAt + 5_400),
    pending(startedAt + 100, startedAt + 300),
    pending(startedAt + 5_000, startedAt + 5_600),
    pending(startedAt + 6_000, startedAt + 6_100),
    // Sent again later: the worker may store the later delivery, with its receive time.
    pending(startedAt + 9_000, startedAt + 9_100, startedAt + 12_000),
  ]);
  // Give or take 1 s of clock difference; the feed between them, already seen, is not read.
  expect(ranges).toEqual([
    [startedAt - 900, startedAt + 1_300],
    [startedAt + 4_000, startedAt + 7_100],
    [startedAt + 8_000, startedAt + 13_000],
  ]);
  expect(pendingRanges([])).toEqual([]);
});
