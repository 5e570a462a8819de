/**
 * Every local server of `npm start` listens on 127.0.0.1 only: a connection to the same port
 * on this machine's other address is refused. DynamoDB Local cannot be bound (its jar has no
 * option for it), so in the conformance run this checks what it is started with instead: no
 * web page's origin but its own is answered cross-origin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dynamoDbBackend } from '../scripts/local/config.ts';
import { startLocalEventBus } from '../scripts/local/eventbridge-server.ts';
import { startFakeDatasaur } from '../scripts/local/fake-datasaur/server.ts';
import { startDynalite, startS3, startSqs } from '../scripts/local/servers.ts';
import { startLocalDynamoDb } from './support/local-aws.ts';

/** This machine's first address that is not loopback, if it has one. */
const otherAddress = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;

/** Whether a TCP connection to `host:port` is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

it.runIf(otherAddress !== undefined)(
  `binds dynalite, SQS, S3, EventBridge and the fake Datasaur to 127.0.0.1, not ${otherAddress}`,
  async () => {
    const directory = mkdtempSync(join(tmpdir(), 'bind-'));
    const servers = await Promise.all([
      startDynalite(),
      startSqs(),
      startS3({ directory: join(directory, 's3') }),
      startLocalEventBus({ eventsFile: join(directory, 'events.jsonl') }),
      startFakeDatasaur().then((fake) => ({ endpoint: fake.url, close: () => fake.close() })),
    ]);
    try {
      for (const { endpoint } of servers) {
        const port = Number(new URL(endpoint).port);
        expect(await accepts('127.0.0.1', port), endpoint).toBe(true);
        expect(await accepts(otherAddress as string, port), endpoint).toBe(false);
      }
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      rmSync(directory, { recursive: true, force: true });
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
