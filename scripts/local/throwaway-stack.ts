/**
 * A local stack for one run of a tool (`npm run load`, `npm run bench`): free ports, a
 * temporary data directory and a random secret, all gone when it stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLocalConfig } from './config.ts';
import { type LocalStackHooks, startLocalStack } from './stack.ts';

export interface ThrowawayStack {
  readonly webhookUrl: string;
  readonly secret: string;
  readonly dynamoDbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly s3Endpoint: string;
  readonly tableName: string;
  readonly dataDir: string;
  /** Stops the stack and deletes its data. */
  dispose(): Promise<void>;
}

export async function startThrowawayStack(hooks: LocalStackHooks): Promise<ThrowawayStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datasaur-stack-'));
  const secret = randomBytes(24).toString('hex');
  const config = readLocalConfig({
    ...process.env,
    PORT: '0',
    DYNAMODB_PORT: '0',
    SQS_PORT: '0',
    S3_PORT: '0',
    EVENTS_PORT: '0',
    DATA_DIR: dataDir,
    DATASAUR_WEBHOOK_SECRET: secret,
    LOG_LEVEL: 'SILENT',
  });
  try {
    const stack = await startLocalStack(config, hooks);
    return {
      webhookUrl: stack.webhookUrl,
      secret,
      dynamoDbEndpoint: stack.dynamoDbEndpoint,
      sqsEndpoint: stack.sqsEndpoint,
      s3Endpoint: stack.s3Endpoint,
      tableName: config.tableName,
      dataDir,
      dispose: async () => {
        await stack.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
