/**
 * Single flight of the reconciler, against the local DynamoDB: a run started while another
 * holds the lease exits saying so, a lease is given back however the run ends, and the lease
 * of a run that died expires.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createReconcileHandler } from '../functions/reconcile/handler.ts';
import { startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { createDatasaurClient } from '../shared/datasaur/client.ts';
import { parseDatasaurCredentials } from '../shared/datasaur/credentials-secret.ts';
import { ReconcileInProgressError, withReconcileLease } from '../shared/reconcile/lease.ts';
import type { ReconcileOptions } from '../shared/reconcile/reconciler.ts';
import { reconcileLeaseKey } from '../shared/store/keys.ts';
import { asReconcilerRole } from './support/leading-keys.ts';
import { startedForTests, startLocalDynamoDb } from './support/local-aws.ts';
import { recordingLogger } from './support/recording-logger.ts';

const dynamoDb = startedForTests(startLocalDynamoDb);

/** A run that holds the lease until `finish` is called; `started` settles once it holds it. */
function heldRun() {
  let finish = () => {};
  let markStarted = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const work = () => {
    markStarted();
    return finished.then(() => 'first run done');
  };
  return { finish, started, work };
}

const T0 = new Date('2026-12-01T10:00:00.000Z');
const later = (seconds: number) => () => new Date(T0.getTime() + seconds * 1000);

describe('the reconcile lease', () => {
  it('refuses a second run while the first holds it, and lets the next in once it is given back', async () => {
    const tableName = await dynamoDb.createTable();
    const lease = {
      documents: asReconcilerRole(dynamoDb.documents),
      tableName,
      seconds: 300,
      now: () => T0,
    };
    const first = heldRun();
    const running = withReconcileLease({ ...lease, holder: 'first' }, first.work);
    await first.started;

    let secondRan = false;
    const refused = await withReconcileLease({ ...lease, holder: 'second' }, async () => {
      secondRan = true;
    }).catch((error: unknown) => error);
    expect(secondRan).toBe(false);
    expect(refused).toBeInstanceOf(ReconcileInProgressError);
    expect((refused as ReconcileInProgressError).message).toBe(
      'another reconcile run (first) holds the lease until 2026-12-01T10:05:00.000Z',
    );

    first.finish();
    await expect(running).resolves.toBe('first run done');
    await expect(
      withReconcileLease({ ...lease, holder: 'third' }, async () => 'third run done'),
    ).resolves.toBe('third run done');
  });

  it('is given back when the run fails', async () => {
    const tableName = await dynamoDb.createTable();
    const lease = {
      documents: asReconcilerRole(dynamoDb.documents),
      tableName,
      seconds: 300,
      now: () => T0,
    };
    await expect(
      withReconcileLease(lease, async () => {
        throw new Error('Datasaur answered 500');
      }),
    ).rejects.toThrow('Datasaur answered 500');
    await expect(withReconcileLease(lease, async () => 'next run done')).resolves.toBe(
      'next run done',
    );
  });

  it('expires when its run died, and the dead run then cannot take it back from the next', async () => {
    const tableName = await dynamoDb.createTable();
    const lease = { documents: asReconcilerRole(dynamoDb.documents), tableName, seconds: 300 };
    const stalled = heldRun();
    const dead = withReconcileLease({ ...lease, holder: 'stalled', now: () => T0 }, stalled.work);
    await stalled.started;

    await expect(
      withReconcileLease({ ...lease, holder: 'early', now: later(299) }, async () => undefined),
    ).rejects.toBeInstanceOf(ReconcileInProgressError);

    const next = heldRun();
    const running = withReconcileLease({ ...lease, holder: 'next', now: later(300) }, next.work);
    await next.started;
    // The stalled run ends late: giving the lease back must not free the one `next` holds.
    stalled.finish();
    await dead;
    const { Item } = await dynamoDb.documents.send(
      new GetCommand({ TableName: tableName, Key: reconcileLeaseKey(), ConsistentRead: true }),
    );
    expect(Item).toMatchObject({ holder: 'next', leaseUntil: T0.getTime() / 1000 + 600 });
    next.finish();
    await running;
  });
});

describe('the scheduled reconcile function', () => {
  it('exits saying another run holds the lease, without failing or counting a failed run', async () => {
    const tableName = await dynamoDb.createTable();
    const held = heldRun();
    const running = withReconcileLease(
      {
        documents: asReconcilerRole(dynamoDb.documents),
        tableName,
        seconds: 300,
        holder: 'npm run reconcile',
      },
      held.work,
    );
    await held.started;
    const logger = recordingLogger();
    const metrics = new Metrics({ namespace: 'DatasaurWebhooks', serviceName: 'lease-test' });
    const handler = createReconcileHandler({
      // Only the table is reached: the run exits before asking Datasaur anything.
      options: async () =>
        ({ documents: dynamoDb.documents, tableName }) as unknown as ReconcileOptions,
      logger: logger as unknown as Logger,
      metrics,
    });
    const summary = await handler(
      {},
      { awsRequestId: 'request-2', getRemainingTimeInMillis: () => 300_000 },
    );
    expect(summary).toMatchObject({ outcome: 'skipped', heldBy: 'npm run reconcile' });
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'reconcile run skipped: another run holds the lease',
      }),
    ]);
    expect(metrics.hasStoredMetrics()).toBe(false);
    held.finish();
    await running;
  });

  it('waits, without failing or counting a failed run, while the credentials secret is still empty (no team ids: every team)', async () => {
    const tableName = await dynamoDb.createTable();
    const fake = await startFakeDatasaur();
    try {
      const logger = recordingLogger();
      const metrics = new Metrics({ namespace: 'DatasaurWebhooks', serviceName: 'wait-test' });
      const handler = createReconcileHandler({
        options: async () => ({
          documents: asReconcilerRole(dynamoDb.documents),
          tableName,
          // The secret as the stack creates it.
          client: createDatasaurClient({
            baseUrl: fake.url,
            credentials: async () =>
              parseDatasaurCredentials('{"clientId": "", "clientSecret": ""}'),
          }),
        }),
        logger: logger as unknown as Logger,
        metrics,
      });
      const summary = await handler(
        {},
        { awsRequestId: 'request-3', getRemainingTimeInMillis: () => 300_000 },
      );
      expect(summary).toMatchObject({ outcome: 'waiting' });
      expect(logger.lines).toEqual([
        expect.objectContaining({
          level: 'warn',
          message: 'reconcile run skipped: the Datasaur credentials secret is empty',
        }),
      ]);
      expect(metrics.hasStoredMetrics()).toBe(false);
      expect(fake.counts.tokens).toBe(0);
      // The lease was released: the next run may start.
      const { Item } = await dynamoDb.documents.send(
        new GetCommand({ TableName: tableName, Key: reconcileLeaseKey(), ConsistentRead: true }),
      );
      expect(Number(Item?.leaseUntil)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    } finally {
      await fake.close();
    }
  });
});
