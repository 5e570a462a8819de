/**
 * `npm run bench` as a smoke test: tiny sizes, every section, sane shapes. Timings are never
 * asserted; only that each section ran, counted what it should and produced numbers.
 */
import { expect, it } from 'vitest';
import { runTypeScript, TEST_STACK_ENVIRONMENT } from './support/local-stack-process.ts';

const QUIET_SDK = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
    TEST_STACK_ENVIRONMENT.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
};

const positive = expect.any(Number);

it('runs every section with --quick and prints JSON the cost CLI can read', async () => {
  const run = await runTypeScript('scripts/bench.ts', ['--quick', '--json'], QUIET_SDK);
  expect(run.code, run.stderr).toBe(0);
  const results = JSON.parse(run.stdout);

  expect(results.quick).toBe(true);
  expect(results.ingestHandler.map((row: { eventType: string }) => row.eventType)).toEqual([
    'PROJECT_CREATED',
    'BEFORE_UPDATE_LABELS',
    'PROJECT_COMPLETED',
    'PROJECT_REVIEWED',
  ]);
  for (const row of results.ingestHandler) {
    expect(row.handlerMicroseconds).toBeGreaterThan(0);
    expect(row.floorMicroseconds).toBeGreaterThan(0);
  }
  expect(results.localHttp.map((row: { concurrency: number }) => row.concurrency)).toEqual([1, 50]);
  for (const row of results.localHttp) {
    expect(row.p99Ms).toBeGreaterThanOrEqual(row.p50Ms);
    expect(row.floorP50Ms).toBeGreaterThan(0);
  }
  expect(results.worker).toMatchObject({ batchSize: 10, eventsPerSecond: positive });
  expect(results.worker.events).toBeGreaterThan(0);
  // The same accounting as the worker's write-unit test, so the same figures.
  expect(
    Object.fromEntries(
      results.worker.writeUnits.map((row: { eventType: string; writeUnits: number }) => [
        row.eventType,
        row.writeUnits,
      ]),
    ),
  ).toEqual({
    PROJECT_CREATED: 5,
    BEFORE_UPDATE_LABELS: 4,
    PROJECT_COMPLETED: 5,
    PROJECT_REVIEWED: 6,
    EXPORT_DELIVERY: 6,
    'BEFORE_UPDATE_LABELS (duplicate)': 2,
  });
  expect(results.bundles.map((row: { name: string }) => row.name).sort()).toEqual([
    'enrich',
    'exporter',
    'ingest',
    'worker',
  ]);
  for (const bundle of results.bundles) {
    expect(bundle.bundleBytes).toBeGreaterThan(10_000);
    // The runtime running the bench, with and without source maps; every bundle answered a
    // first call (the bench throws when it did not do its work).
    expect(bundle.coldStarts.map((cold: { sourceMaps: boolean }) => cold.sourceMaps)).toEqual([
      false,
      true,
    ]);
    for (const cold of bundle.coldStarts) {
      expect(cold.importMedianMs).toBeGreaterThan(0);
      expect(cold.coldMedianMs).toBeGreaterThanOrEqual(cold.importMedianMs);
    }
  }
  expect(results.endToEnd).toMatchObject({ lost: 0, concurrency: 10 });
  expect(results.endToEnd.persisted).toBeGreaterThan(0);
  expect(results.aims.length).toBeGreaterThanOrEqual(8);
  // One start-up aim per bundle, each a cold start with its first call: as deployed, without
  // source maps (they have no budget).
  const coldStartAims = results.aims
    .filter((aim: { aim: string }) => aim.aim.split(' ')[1] === 'cold')
    .map((aim: { aim: string }) => aim.aim);
  expect(coldStartAims.map((aim: string) => aim.split(' ')[0]).sort()).toEqual([
    'enrich',
    'exporter',
    'ingest',
    'worker',
  ]);
  expect(results.aims.some((aim: { aim: string }) => aim.aim.includes(' import '))).toBe(false);
  expect(coldStartAims.filter((aim: string) => aim.startsWith('exporter'))[0]).toContain(
    'a resume check with no export waiting',
  );
  for (const aim of coldStartAims) expect(aim).not.toContain('source maps');
  expect(results.costInputs).toMatchObject({
    ingestMillisecondsPerEvent: expect.any(Number),
    workerMillisecondsPerBatch: expect.any(Number),
    workerMillisecondsPerEvent: expect.any(Number),
  });
}, 120_000);

it('explains a bad flag and exits 2', async () => {
  const run = await runTypeScript('scripts/bench.ts', ['--only', 'everything'], QUIET_SDK);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--only takes sections from');
  expect(run.stderr).toContain('Usage: npm run bench');
  expect(run.stderr).not.toContain('    at ');
});

it('explains a --node that is not a file and exits 2', async () => {
  const run = await runTypeScript('scripts/bench.ts', ['--node', '/no/such/node'], QUIET_SDK);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('--node takes the path of a node binary');
  expect(run.stderr).not.toContain('    at ');
});
