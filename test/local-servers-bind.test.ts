/**
 * Every local server listens on 127.0.0.1 only: the listening socket's own address is
 * loopback, and a connection to the same port on this machine's other address, when it has
 * one, is refused. DynamoDB Local (the conformance run's server, started through
 * `scripts/local/DynamoDbLocalOnLoopback.java`) included. The webhook server of `npm start`
 * and the console are checked against a running stack in `console.test.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dynamoDbBackend } from '../scripts/local/config.ts';
import { startLocalEventBus } from '../scripts/local/eventbridge-server.ts';
import { startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { startLocalSecretsManager } from '../scripts/local/secrets-manager-server.ts';
import { startDynalite, startS3, startSqs } from '../scripts/local/servers.ts';
import { startLocalDynamoDb } from './support/local-aws.ts';
import { expectLoopbackOnly, listeningAddresses, OTHER_ADDRESS } from './support/loopback-only.ts';

it(`binds dynalite, SQS, S3, EventBridge, Secrets Manager and the fake Datasaur to 127.0.0.1, not ${OTHER_ADDRESS ?? 'another address'}`, async () => {
  const directory = mkdtempSync(join(tmpdir(), 'bind-'));
  const servers = await Promise.all([
    startDynalite(),
    startSqs(),
    startS3({ directory: join(directory, 's3') }),
    startLocalEventBus({ eventsFile: join(directory, 'events.jsonl') }),
    startLocalSecretsManager(),
    startFakeDatasaur().then((fake) => ({ endpoint: fake.url, close: () => fake.close() })),
  ]);
  try {
    for (const { endpoint } of servers) await expectLoopbackOnly(endpoint);
  } finally {
    await Promise.all(servers.map((server) => server.close()));
    rmSync(directory, { recursive: true, force: true });
  }
});

it('reads the address a socket listens on from the kernel, loopback or any', async () => {
  const listen = (host: string) =>
    new Promise<Server>((resolve) => {
      const server = createServer();
      server.listen(0, host, () => resolve(server));
    });
  const port = (server: Server) => (server.address() as AddressInfo).port;
  const [loopback, any] = await Promise.all([listen('127.0.0.1'), listen('::')]);
  try {
    expect(listeningAddresses(port(loopback))).toEqual(['127.0.0.1']);
    expect(listeningAddresses(port(any))).toEqual(['::']);
  } finally {
    loopback.close();
    any.close();
  }
});

it.runIf(dynamoDbBackend() === 'dynamodb-local')(
  'binds DynamoDB Local to 127.0.0.1 only',
  async () => {
    const { server, close } = await startLocalDynamoDb();
    try {
      await expectLoopbackOnly(server.endpoint);
    } finally {
      await close();
    }
  },
);

it.runIf(dynamoDbBackend() === 'dynamodb-local')(
  'answers no cross-origin request from a web page to DynamoDB Local',
  async () => {
    const { server, close } = await startLocalDynamoDb();
    try {
      const preflight = (origin: string) =>
        fetch(server.endpoint, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      const foreign = await preflight('http://evil.example');
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await close();
    }
  },
);
