/**
 * The bench starts each bundle with the environment the default deployment gives its
 * function: the template's literal values, local stand-ins for its references, and a refusal
 * to run when a reference has no stand-in (the function would start with less to do).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedEnvironment } from '../scripts/bench/bundles.ts';
import { type FirstCallServers, startFirstCallServers } from '../scripts/bench/first-call.ts';
import { DEFAULT_EXPORT_ON } from '../shared/export/export-trigger.ts';
import {
  environmentOf,
  functionWithEnvironment,
  synthesizeTemplate,
} from './support/cdk-template.ts';

let servers: FirstCallServers;

beforeAll(async () => {
  // One round of the warm-up: this test times nothing.
  servers = await startFirstCallServers({ warmUpRounds: 1 });
});

afterAll(async () => {
  await servers?.close();
});

const variablesOf = (template: Template, variable: string): Record<string, unknown> =>
  environmentOf(functionWithEnvironment(template, variable));

describe('bench environment', () => {
  it('starts the worker and the ingest as the default deployment configures them', () => {
    const template = synthesizeTemplate({});

    const worker = deployedEnvironment(
      'worker',
      variablesOf(template, 'WORKER_CONCURRENCY'),
      servers.calls.worker.environment,
    );
    // Export archiving is on by default: the worker's cold start creates its export queue.
    expect(worker.EXPORT_ON).toBe(DEFAULT_EXPORT_ON);
    expect(worker.EXPORT_QUEUE_URL).toBe(servers.calls.worker.environment.EXPORT_QUEUE_URL);
    expect(worker.TABLE_NAME).toBe(servers.calls.worker.environment.TABLE_NAME);
    expect(worker.POWERTOOLS_LOG_LEVEL).toBe('INFO');

    const ingest = deployedEnvironment(
      'ingest',
      variablesOf(template, 'WEBHOOK_SECRET_ARN'),
      servers.calls.ingest.environment,
    );
    expect(ingest.QUEUE_URL).toBe(servers.calls.ingest.environment.QUEUE_URL);
    expect(ingest.WEBHOOK_SECRET_CACHE_SECONDS).toBe('300');
  }, 60_000);

  it('refuses a deployed reference it has no local stand-in for', () => {
    expect(() =>
      deployedEnvironment('worker', { NEW_QUEUE_URL: { Ref: 'NewQueue' } }, { TABLE_NAME: 't' }),
    ).toThrow("the bench has no local value for the worker's NEW_QUEUE_URL (a reference)");
    expect(
      deployedEnvironment(
        'worker',
        { LEVEL: 'INFO', TABLE_NAME: { Ref: 'T' } },
        { TABLE_NAME: 't' },
      ),
    ).toEqual({ LEVEL: 'INFO', TABLE_NAME: 't' });
  });
});
