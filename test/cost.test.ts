/**
 * `npm run cost`: the model's arithmetic on a case worked out by hand, and the CLI end to end
 * (every line item, the per-million figure, --bench, usage errors).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateFloodCost } from '../scripts/cost/flood.ts';
import { type CostInputs, estimateMonthlyCost } from '../scripts/cost/model.ts';
import { runTypeScript, TEST_STACK_ENVIRONMENT } from './support/local-stack-process.ts';

const QUIET_SDK = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
    TEST_STACK_ENVIRONMENT.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
};

const LINE_ITEMS = [
  'HTTP API requests',
  'requests (ingest + worker)',
  'ingest compute (arm64)',
  'worker compute (arm64)',
  'SendMessage (64 KB chunks)',
  'batched receives (64 KB chunks)',
  'batched deletes',
  "Lambda pollers' empty receives",
  'PutObject of large bodies (ingest)',
  'GetObject of large bodies (worker)',
  'large bodies added this month (billed every month after)',
  'write units (on-demand)',
  'hourly counts (a write unit per worker batch)',
  'read units (project refresh)',
  'storage added this month (billed every month after)',
  'point-in-time recovery of that storage',
  'Logs ingestion (handlers, metrics, Lambda, API access log)',
  'alarms',
  'custom metrics',
  'dashboard',
  'alarm topic key',
  'secrets (webhook; Datasaur API credentials)',
  'GetSecretValue (cached)',
  'PutEvents custom events (64 KB chunks)',
];

describe('the cost model', () => {
  // One event per second for a 30-day month, half of them label events.
  const inputs: CostInputs = {
    eventsPerMonth: 2_592_000,
    averageBodyBytes: 1000,
    labelShare: 0.5,
    label: {
      messageBytes: 1200,
      writeUnits: 2,
      readUnits: 0,
      storedBytes: 1000,
      s3Puts: 0,
      s3Gets: 0,
      archivedBytes: 0,
    },
    project: {
      messageBytes: 1200,
      writeUnits: 4,
      readUnits: 1,
      storedBytes: 2000,
      s3Puts: 0,
      s3Gets: 0,
      archivedBytes: 0,
    },
    ingestMemoryMb: 1024,
    workerMemoryMb: 1024,
    ingestMillisecondsPerEvent: 9.2,
    workerMillisecondsPerBatch: 5,
    workerMillisecondsPerEvent: 1,
    workerBatchSize: 10,
    workerBatchingWindowSeconds: 1,
    ingestLogBytesPerEvent: 100,
    workerLogBytesPerEvent: 100,
    workerLogBytesPerBatch: 500,
    platformLogBytesPerInvocation: 0,
    accessLogBytesPerRequest: 0,
    queuePollers: 5,
    webhookSecretCacheSeconds: 300,
    alarms: 4,
    customMetrics: 8,
    dashboards: 1,
    kmsKeys: 1,
    secrets: 1,
    publishedBytes: { label: 700, project: 800 },
    publishLabelEvents: false,
  };

  it('prices every line as worked out by hand', () => {
    const estimate = estimateMonthlyCost(inputs);
    // The event that opens the 1 s window plus the one that arrives during it.
    expect(estimate.recordsPerBatch).toBe(2);
    const gigabytes = (bytes: number) => bytes / 1024 ** 3;
    const variable = {
      'HTTP API requests': 2.592 * 1.0,
      // 2,592,000 ingest + 1,296,000 worker invocations.
      'requests (ingest + worker)': 3.888 * 0.2,
      // 9.2 ms bills as 10 ms: 2,592,000 × 0.010 s × 1 GB.
      'ingest compute (arm64)': 25_920 * 0.0000133334,
      // 5 + 2 × 1 = 7 ms per invocation: 1,296,000 × 0.007 s × 1 GB.
      'worker compute (arm64)': 9_072 * 0.0000133334,
      'SendMessage (64 KB chunks)': 2.592 * 0.4,
      'batched receives (64 KB chunks)': 1.296 * 0.4,
      'batched deletes': 1.296 * 0.4,
      'write units (on-demand)': (1.296 * 2 + 1.296 * 4) * 0.625,
      // 1,296,000 worker invocations, each adding its events to one counter item.
      'hourly counts (a write unit per worker batch)': 1.296 * 0.625,
      'read units (project refresh)': 1.296 * 0.125,
      'storage added this month (billed every month after)':
        gigabytes(1_296_000 * 1000 + 1_296_000 * 2000) * 0.25,
      'point-in-time recovery of that storage':
        gigabytes(1_296_000 * 1000 + 1_296_000 * 2000) * 0.2,
      // 200 B per event, and a 500 B metrics line per worker invocation.
      'Logs ingestion (handlers, metrics, Lambda, API access log)':
        gigabytes(2_592_000 * 200 + 1_296_000 * 500) * 0.5,
      // Every body fits its message: nothing goes through S3.
      'PutObject of large bodies (ingest)': 0,
      'GetObject of large bodies (worker)': 0,
      'large bodies added this month (billed every month after)': 0,
      // Project events only: label events are not published by default.
      'PutEvents custom events (64 KB chunks)': 1.296 * 1.0,
    };
    const fixed = {
      // Five pollers, one 20 s long poll each at a time.
      "Lambda pollers' empty receives": 0.648 * 0.4,
      alarms: 0.4,
      'custom metrics': 8 * 0.3,
      dashboard: 3,
      'alarm topic key': 1,
      'secrets (webhook; Datasaur API credentials)': 0.4,
      'GetSecretValue (cached)': (8640 / 10_000) * 0.05,
    };
    const priced = Object.fromEntries(estimate.lines.map((line) => [line.item, line.monthlyUsd]));
    for (const [item, usd] of Object.entries({ ...variable, ...fixed })) {
      expect(priced[item], item).toBeCloseTo(usd, 6);
    }
    expect(Object.keys(priced).sort()).toEqual([...LINE_ITEMS].sort());
    const sum = (values: Record<string, number>) =>
      Object.values(values).reduce((total, usd) => total + usd, 0);
    expect(estimate.monthlyUsd).toBeCloseTo(sum(variable) + sum(fixed), 6);
    expect(estimate.perMillionEventsUsd).toBeCloseTo(sum(variable) / 2.592, 6);
  });

  it('fills batches at volume and splits big messages into 64 KB chunks', () => {
    const bigMessages = { messageBytes: 100 * 1024 + 200 };
    const busy = estimateMonthlyCost({
      ...inputs,
      eventsPerMonth: 259_200_000,
      averageBodyBytes: 100 * 1024,
      label: { ...inputs.label, ...bigMessages },
      project: { ...inputs.project, ...bigMessages },
    });
    expect(busy.recordsPerBatch).toBe(10);
    const quantity = (item: string) => busy.lines.find((line) => line.item === item)?.quantity;
    expect(quantity('SendMessage (64 KB chunks)')).toBe(259_200_000 * 2);
    expect(quantity('batched receives (64 KB chunks)')).toBe(25_920_000 * 16);
  });

  it('prices a claim-checked label event: its pointer on the queue, one S3 PUT and one GET', () => {
    const large = estimateMonthlyCost({
      ...inputs,
      averageBodyBytes: 1_000_000,
      label: { ...inputs.label, messageBytes: 600, s3Puts: 1, s3Gets: 1, archivedBytes: 1_000_000 },
    });
    const line = (item: string) => large.lines.find((candidate) => candidate.item === item);
    // 1,296,000 label events: $5 per million PUTs, $0.40 per million GETs, $0.023 per GB-month.
    expect(line('PutObject of large bodies (ingest)')?.monthlyUsd).toBeCloseTo(1.296 * 5, 6);
    expect(line('GetObject of large bodies (worker)')?.monthlyUsd).toBeCloseTo(1.296 * 0.4, 6);
    expect(
      line('large bodies added this month (billed every month after)')?.monthlyUsd,
    ).toBeCloseTo(((1_296_000 * 1_000_000) / 1024 ** 3) * 0.023, 6);
    // (600 + 1200) / 2 bytes a message: one 64 KB chunk each.
    expect(line('SendMessage (64 KB chunks)')?.quantity).toBe(2_592_000);
  });

  it('publishes label events on EventBridge only when publishLabelEvents is on', () => {
    const published = (publishLabelEvents: boolean) =>
      estimateMonthlyCost({ ...inputs, publishLabelEvents }).lines.find(
        (line) => line.service === 'EventBridge',
      )?.quantity;
    expect(published(false)).toBe(1_296_000);
    expect(published(true)).toBe(2_592_000);
  });
});

describe('the flood defence in the cost model', () => {
  const flood = estimateFloodCost({
    unroutedAccessLogBytes: 1074, // 1 GB per million requests at 1,073.74 bytes
    refusedAccessLogBytes: 537,
    refusedIngestLogBytes: 537,
    ingestMillisecondsPerRequest: 2.3, // billed as 3 ms
    ingestMemoryMb: 512,
    floodMetricFilters: 2,
    floodAlarms: 2,
    webhookRoutes: 2,
    webhookRouteRateLimit: 50,
  });

  it('prices its metrics and alarms as its fixed part', () => {
    expect(flood.fixedMonthlyUsd).toBeCloseTo(2 * 0.3 + 2 * 0.1, 10);
  });

  it('prices a million requests without the URL as API Gateway and an access log line only', () => {
    expect(flood.perMillionWithoutUrlUsd).toBeCloseTo(1.0 + (1074e6 / 1024 ** 3) * 0.5, 10);
  });

  it('prices a million unsigned requests reaching the ingest with its invocations and logs', () => {
    const gbSeconds = 1e6 * 0.003 * 0.5;
    expect(flood.perMillionReachingIngestUsd).toBeCloseTo(
      1.0 + 0.2 + gbSeconds * 0.0000133334 + (1074e6 / 1024 ** 3) * 0.5,
      10,
    );
  });

  it('caps what a holder of the URL can send at every route throttle running a whole month', () => {
    expect(flood.urlHolderMaxRequestsPerMonth).toBe(2 * 50 * 30 * 24 * 3600);
    expect(flood.urlHolderMaxMonthlyUsd).toBeCloseTo(259.2 * flood.perMillionReachingIngestUsd, 8);
  });
});

describe('npm run cost', () => {
  it('prints every line item, the monthly total and the cost per million events', async () => {
    const run = await runTypeScript(
      'scripts/cost.ts',
      ['--events-per-month', '1000000'],
      QUIET_SDK,
    );
    expect(run.code, run.stderr).toBe(0);
    for (const item of LINE_ITEMS) expect(run.stdout).toContain(item);
    expect(run.stdout).toMatch(/total per month\s+\$\d+\.\d\d/);
    expect(run.stdout).toMatch(/per million events \(variable\)\s+\$\d+\.\d\d/);
    expect(run.stdout).toMatch(
      /of which EventBridge\s+\$\d+\.\d\d \(\$1\.00 per million published events/,
    );
    // The flood defence, read from the template: two metric filters and two alarms.
    expect(run.stdout).toMatch(/Flood defence[^\n]*\n\s+fixed\s+\$0\.80 per month/);
    expect(run.stdout).toMatch(/per million requests without the URL\s+\$1\.\d\d/);
    expect(run.stdout).toMatch(/most a holder of the URL can send\s+259,200,000 requests a month/);
    // docs/performance.md shows this run: what it prints, line for line.
    const page = readFileSync(new URL('../docs/performance.md', import.meta.url), 'utf8');
    const shown = /\$ npm run cost -- --events-per-month 1000000\n([\s\S]*?)```/.exec(page)?.[1];
    expect(shown?.trimEnd()).toBe(run.stdout.trimEnd());
  }, 60_000);

  it('takes durations from a bench run and measures footprints for the given size', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cost-test-'));
    try {
      const bench = join(folder, 'bench.json');
      writeFileSync(
        bench,
        JSON.stringify({
          costInputs: {
            measuredOn: '2026-01-01',
            machine: 'test machine',
            command: 'npm run bench -- --json',
            ingestMillisecondsPerEvent: 20,
            workerMillisecondsPerBatch: 30,
            workerMillisecondsPerEvent: 5,
          },
        }),
      );
      const run = await runTypeScript(
        'scripts/cost.ts',
        [
          '--events-per-month',
          '500000',
          '--avg-bytes',
          '3000',
          '--label-share',
          '1',
          '--bench',
          bench,
          '--json',
        ],
        QUIET_SDK,
      );
      expect(run.code, run.stderr).toBe(0);
      const { inputs, estimate, durations } = JSON.parse(run.stdout);
      expect(durations.machine).toBe('test machine');
      expect(inputs).toMatchObject({
        eventsPerMonth: 500_000,
        labelShare: 1,
        averageBodyBytes: 3000,
        ingestMillisecondsPerEvent: 20,
      });
      // A 3,000-byte body (eight labels of a large save) makes a self-describing label item
      // under 3 KB: 3 table write units, its feed entry and its event-id entry; it travels
      // inline, so no S3 request.
      expect(inputs.label).toMatchObject({ writeUnits: 5, s3Puts: 0, s3Gets: 0 });
      expect(inputs.alarms).toBeGreaterThan(0);
      expect(inputs.ingestLogBytesPerEvent).toBeGreaterThan(100);
      expect(estimate.perMillionEventsUsd).toBeGreaterThan(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('counts the S3 requests and the small item of a 1 MB label event', async () => {
    const run = await runTypeScript(
      'scripts/cost.ts',
      ['--events-per-month', '100000', '--avg-bytes', '1000000', '--label-share', '1', '--json'],
      QUIET_SDK,
    );
    expect(run.code, run.stderr).toBe(0);
    const { inputs, estimate } = JSON.parse(run.stdout);
    // The summary item (over 1 KB once it describes itself) 2, its feed and event-id entries 1 each.
    expect(inputs.label).toMatchObject({
      writeUnits: 4,
      s3Puts: 1,
      s3Gets: 1,
      archivedBytes: 1_000_000,
    });
    expect(inputs.label.messageBytes).toBeLessThan(1024);
    const line = (item: string) =>
      estimate.lines.find((candidate: { item: string }) => candidate.item === item);
    expect(line('PutObject of large bodies (ingest)')).toMatchObject({ quantity: 100_000 });
    expect(line('PutObject of large bodies (ingest)').monthlyUsd).toBeCloseTo(0.5, 6);
    expect(line('GetObject of large bodies (worker)').monthlyUsd).toBeCloseTo(0.04, 6);
  }, 60_000);

  it.each([
    [['--events-per-month', 'lots'], '--events-per-month must be a whole number'],
    [[], '--events-per-month is required'],
    [['--events-per-month', '10', '--colour'], "Unknown option '--colour'"],
  ])('explains %j and exits 2', async (args, message) => {
    const run = await runTypeScript('scripts/cost.ts', args, QUIET_SDK);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Usage: npm run cost');
    expect(run.stderr).not.toContain('    at ');
  });
});
