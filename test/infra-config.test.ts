import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, readConfig } from '../infra/config.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';

const contextOf = (values: Record<string, unknown>) => ({
  tryGetContext: (name: string): unknown => values[name],
  getAllContext: () => values,
});

function problemsOf(values: Record<string, unknown>): string {
  try {
    readConfig(contextOf(values));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected the context to be refused');
}

describe('readConfig', () => {
  it('refuses a setting this stack does not have, naming the one it likely meant', () => {
    const problems = problemsOf({
      reconcileEveryMinutes: 'off',
      exporton: 'off',
      someSetting: 1,
      // The CDK's own context keys are not settings of this stack.
      '@aws-cdk/core:enableDiffNoFail': true,
      'aws:cdk:version-reporting': false,
      'cli-telemetry': false,
    });
    expect(problems).toContain(
      'reconcileEveryMinutes is not a setting of this stack (did you mean reconcileEvery?); docs/configuration.md lists them',
    );
    expect(problems).toContain('exporton is not a setting of this stack (did you mean exportOn?)');
    expect(problems).toContain(
      'someSetting is not a setting of this stack; docs/configuration.md lists them',
    );
    expect(problems).not.toContain('enableDiffNoFail');
    expect(problems).not.toContain('cli-telemetry');
  });

  it('accepts every setting the docs document', () => {
    const settingTables = [
      'configuration',
      'export-archiving',
      'reconcile',
      'large-events',
      'deploy',
      'operations',
    ];
    const documented = new Set(
      settingTables.flatMap((page) =>
        [...readFileSync(`docs/${page}.md`, 'utf8').matchAll(/^\| `([a-z][A-Za-z]+)` \|/gm)].map(
          (match) => match[1] as string,
        ),
      ),
    );
    // docs/eventbridge.md's table of settings (its other tables list event fields).
    for (const name of ['eventBusName', 'eventArchiveDays', 'eventSource', 'publishLabelEvents']) {
      documented.add(name);
    }
    expect(documented.size).toBe(44);
    const values = Object.fromEntries([...documented].map((name) => [name, undefined]));
    expect(readConfig(contextOf(values))).toEqual(DEFAULT_CONFIG);
  });

  it('uses the documented defaults when no context is given', () => {
    expect(readConfig(contextOf({}))).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({
      stackName: 'DatasaurWebhooks',
      maxReceiveCount: 5,
      maxBodyBytes: 5_000_000,
      logRetentionDays: RetentionDays.ONE_MONTH,
      alarmEmail: undefined,
      rawTtlDays: undefined,
      bodyRetentionDays: undefined,
    });
  });

  it('reads values given as strings on the command line (-c name=value)', () => {
    const config = readConfig(
      contextOf({
        throttleRateLimit: '20',
        logRetentionDays: '90',
        logLevel: 'debug',
        rawTtlDays: '30',
        bodyRetentionDays: '400',
        alarmEmail: 'ops@example.com',
        stackName: 'WebhooksStaging',
      }),
    );
    expect(config).toMatchObject({
      throttleRateLimit: 20,
      logRetentionDays: RetentionDays.THREE_MONTHS,
      logLevel: 'DEBUG',
      rawTtlDays: 30,
      bodyRetentionDays: 400,
      alarmEmail: 'ops@example.com',
      stackName: 'WebhooksStaging',
    });
  });

  it('lists every invalid value at once and says how to set one', () => {
    const message = problemsOf({
      workerTimeoutSeconds: 'thirty',
      ingestTimeoutSeconds: 30,
      logRetentionDays: 10,
      alarmEmail: 'ops',
      bodyRetentionDays: 0,
      systemLogLevel: 'error',
    });
    expect(message).toContain(
      'workerTimeoutSeconds must be a whole number from 1 to 900, got "thirty"',
    );
    expect(message).toContain('ingestTimeoutSeconds must be a whole number from 1 to 29, got "30"');
    expect(message).toContain('logRetentionDays must be one of');
    expect(message).toContain('alarmEmail must be an e-mail address, got "ops"');
    expect(message).toContain(
      'bodyRetentionDays must be a whole number of days from 1 to 36500, got "0"',
    );
    expect(message).toContain('systemLogLevel must be one of DEBUG, INFO, WARN, got "ERROR"');
    expect(message).toContain('npx cdk deploy -c name=value');
  });

  it('refuses a body limit no Lambda invocation could carry', () => {
    expect(problemsOf({ maxBodyBytes: 6_258_789 })).toContain(
      'maxBodyBytes must be a whole number from 1 to 6258788',
    );
    expect(readConfig(contextOf({ maxBodyBytes: 6_258_788 })).maxBodyBytes).toBe(6_258_788);
  });

  it('takes only complete secret ARNs to adopt, since a partial one cannot be granted exactly', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks-AbC123';
    expect(readConfig(contextOf({ webhookSecretArn: arn })).webhookSecretArn).toBe(arn);
    const message = problemsOf({
      webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhooks',
      datasaurCredentialsSecretArn: 'my-secret',
    });
    expect(message).toContain('webhookSecretArn must be the complete ARN of a secret');
    expect(message).toContain('datasaurCredentialsSecretArn must be the complete ARN of a secret');
  });

  it('refuses a batch above 10 messages without a batching window, as Lambda does', () => {
    expect(problemsOf({ workerBatchSize: 50, workerBatchingWindowSeconds: 0 })).toContain(
      'workerBatchSize above 10 needs a batching window',
    );
    expect(readConfig(contextOf({ workerBatchSize: 50 })).workerBatchSize).toBe(50);
  });
});
