/**
 * Export archiving in the template: the exporter, its queue, DLQ and alarms, the empty
 * credentials secret, the context options, and who may do what. No bundling.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import { DATASAUR_CREDENTIALS_TEMPLATE } from '../shared/datasaur/credentials-secret.ts';
import {
  actionsOf,
  type CfnResource,
  environmentOf,
  functionWithEnvironment,
  type PolicyStatementJson,
  refersTo,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeTemplate,
} from './support/cdk-template.ts';

let template: Template;
let exporter: CfnResource;
let worker: CfnResource;
let ingest: CfnResource;
let credentials: CfnResource;
let exportQueue: CfnResource;

beforeAll(() => {
  template = synthesizeTemplate({
    exportOn: 'both',
    exportFormat: 'conll',
    datasaurApiUrl: 'https://datasaur.example.com/',
    exportMaxBytes: '1000000',
    exportAllowedHosts: 'datasaur-exports.s3.amazonaws.com, *.datasaur.example.com',
    exportAllowPrivateHosts: 'true',
    logLevel: 'DEBUG',
    datasaurTeamIds: '12',
  });
  exporter = functionWithEnvironment(template, 'EXPORT_BUDGET_SECONDS');
  worker = functionWithEnvironment(template, 'WORKER_CONCURRENCY');
  ingest = functionWithEnvironment(template, 'WEBHOOK_SECRET_ARN');
  credentials = resourcesOfType(template, 'AWS::SecretsManager::Secret').find(
    (secret) => secret.Properties.SecretString === DATASAUR_CREDENTIALS_TEMPLATE,
  ) as CfnResource;
  exportQueue = resourcesOfType(template, 'AWS::SQS::Queue').find((queue) =>
    refersTo(environmentOf(exporter).EXPORT_QUEUE_URL, queue.logicalId),
  ) as CfnResource;
});

describe('export archiving', () => {
  it('creates the credentials secret empty, as {"clientId","clientSecret"}', () => {
    expect(credentials).toBeDefined();
    expect(JSON.parse(String(credentials.Properties.SecretString))).toEqual({
      clientId: '',
      clientSecret: '',
    });
  });

  it('passes exportOn to the worker and exportFormat and datasaurApiUrl to the exporter', () => {
    expect(environmentOf(worker).EXPORT_ON).toBe('both');
    expect(refersTo(environmentOf(worker).EXPORT_QUEUE_URL, exportQueue.logicalId)).toBe(true);
    expect(environmentOf(exporter)).toMatchObject({
      EXPORT_FORMAT: 'conll',
      DATASAUR_API_URL: 'https://datasaur.example.com',
    });
    expect(
      refersTo(environmentOf(exporter).DATASAUR_CREDENTIALS_SECRET_ARN, credentials.logicalId),
    ).toBe(true);
  });

  it('feeds the exporter one request at a time from a queue with a DLQ', () => {
    const [mapping] = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').filter((m) =>
      refersTo(m.Properties.EventSourceArn, exportQueue.logicalId),
    );
    expect(mapping?.Properties).toMatchObject({
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(exportQueue.Properties.RedrivePolicy).toMatchObject({ maxReceiveCount: 10 });
  });

  it('alarms on a FAILED export (from the exporter log) and on its DLQ', () => {
    const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter');
    expect(filters.map((filter) => filter.Properties.FilterPattern)).toContain(
      '{ $.message = "export failed" }',
    );
    const descriptions = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map((alarm) =>
      String(alarm.Properties.AlarmDescription),
    );
    expect(descriptions.filter((text) => /export/i.test(text))).toHaveLength(4);
  });

  it('alarms while any export waits for credentials, on the count the scheduled resume check emits', () => {
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(
      (candidate) => candidate.Properties.MetricName === 'ExportsWaiting',
    );
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'DatasaurWebhooks',
      Dimensions: [{ Name: 'service', Value: environmentOf(exporter).POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(String(alarm?.Properties.AlarmDescription)).toContain('DatasaurCredentialsSecretArn');
  });

  it('invokes the exporter every 10 minutes with the resume event, so waiting exports start by themselves', () => {
    const rule = resourcesOfType(template, 'AWS::Events::Rule').find(
      // The enrichment runs every 10 minutes too, on its own rule.
      (candidate) =>
        candidate.Properties.ScheduleExpression === 'rate(10 minutes)' &&
        refersTo(candidate.Properties.Targets, exporter.logicalId),
    );
    const targets = rule?.Properties.Targets as { Arn: unknown; Input: string }[];
    expect(targets).toHaveLength(1);
    expect(refersTo(targets[0]?.Arn, exporter.logicalId)).toBe(true);
    expect(JSON.parse(targets[0]?.Input ?? '{}')).toEqual({ action: 'resumeWaitingExports' });
  });

  it('alarms on the first refused export URL, counted by the exporter (Powertools metric)', () => {
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm').find(
      (candidate) => candidate.Properties.MetricName === 'ExportUrlsRefused',
    );
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'DatasaurWebhooks',
      Dimensions: [{ Name: 'service', Value: environmentOf(exporter).POWERTOOLS_SERVICE_NAME }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(environmentOf(exporter).POWERTOOLS_METRICS_NAMESPACE).toBe('DatasaurWebhooks');
  });

  it('passes the download policy to the exporter', () => {
    expect(environmentOf(exporter)).toMatchObject({
      EXPORT_MAX_BYTES: '1000000',
      EXPORT_ALLOWED_HOSTS: 'datasaur-exports.s3.amazonaws.com,*.datasaur.example.com',
      EXPORT_ALLOW_PRIVATE_HOSTS: 'true',
    });
  });

  it('gives every function the configured logLevel, the exporter and the reconciler included', () => {
    const functions = resourcesOfType(template, 'AWS::Lambda::Function').filter(
      (fn) => environmentOf(fn)?.POWERTOOLS_SERVICE_NAME !== undefined,
    );
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const fn of functions) {
      expect(environmentOf(fn).POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
      expect(fn.Properties.LoggingConfig).toMatchObject({ ApplicationLogLevel: 'DEBUG' });
    }
  });

  describe('least privilege', () => {
    let exporterStatements: PolicyStatementJson[];
    beforeAll(() => {
      exporterStatements = statementsOfFunctionRole(template, exporter);
    });

    it('lets only the exporter read the credentials', () => {
      for (const fn of [worker, ingest]) {
        const statements = statementsOfFunctionRole(template, fn);
        expect(statements.some((s) => refersTo(s.Resource, credentials.logicalId))).toBe(false);
      }
      const statement = exporterStatements.find((s) => refersTo(s.Resource, credentials.logicalId));
      expect(actionsOf(statement ? [statement] : []).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    });

    it('lets the exporter write exports/ only, and update and read table items', () => {
      const s3 = exporterStatements.filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
      expect(s3).toHaveLength(1);
      expect(actionsOf(s3).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
      expect(JSON.stringify(s3[0]?.Resource)).toContain('/exports/*');
      const dynamodb = actionsOf(exporterStatements).filter((a) => a.startsWith('dynamodb:'));
      expect(dynamodb.sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ]);
      // Items in its projects' partitions alone (dynamodb:LeadingKeys), whatever a webhook says.
      const items = exporterStatements.find((s) => actionsOf([s]).includes('dynamodb:UpdateItem'));
      expect(actionsOf(items ? [items] : []).sort()).toEqual([
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
      ]);
      expect(items?.Condition).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['PROJECT#*'] },
      });
      // Query only on the status index (the resume check's WAITING partition).
      const query = exporterStatements.find((s) => actionsOf([s]).includes('dynamodb:Query'));
      expect(JSON.stringify(query?.Resource)).toMatch(/\/index\/gsi1/i);
      expect(actionsOf(exporterStatements).filter((a) => a === 'dynamodb:Query')).toHaveLength(1);
    });

    it('lets the worker only send to the export queue', () => {
      const statements = statementsOfFunctionRole(template, worker).filter((s) =>
        refersTo(s.Resource, exportQueue.logicalId),
      );
      expect(actionsOf(statements)).toContain('sqs:SendMessage');
      expect(actionsOf(statements)).not.toContain('sqs:ReceiveMessage');
      expect(
        statementsOfFunctionRole(template, worker).some((s) =>
          JSON.stringify(s.Resource).includes('/exports/'),
        ),
      ).toBe(false);
    });
  });

  it('builds no exporter or queue with exportOn=off (and the reconciler off), and keeps the credentials secret', () => {
    const off = synthesizeTemplate({ exportOn: 'off', reconcileEvery: 'off' });
    // Retained: removed from the template, it would be orphaned and replaced by an empty one.
    expect(resourcesOfType(off, 'AWS::SecretsManager::Secret')).toHaveLength(2);
    expect(resourcesOfType(off, 'AWS::SQS::Queue')).toHaveLength(2);
    expect(() => functionWithEnvironment(off, 'DATASAUR_CREDENTIALS_SECRET_ARN')).toThrow();
    expect(() => functionWithEnvironment(off, 'EXPORT_ON')).toThrow();
  });

  it('refuses an http datasaurApiUrl (loopback too: the deployed functions would call themselves)', () => {
    for (const datasaurApiUrl of ['http://datasaur.example.com', 'http://127.0.0.1:4001']) {
      expect(() =>
        readConfig({ tryGetContext: (name) => ({ datasaurApiUrl })[name as 'datasaurApiUrl'] }),
      ).toThrow(`datasaurApiUrl must be an https URL, got "${datasaurApiUrl}"`);
    }
  });

  it('refuses a bodyRetentionDays shorter than the queues keep a message, and odd export download options', () => {
    const context: Record<string, string> = {
      bodyRetentionDays: '7',
      exportMaxBytes: '0',
      exportAllowedHosts: 'https://x.example.com/',
      exportAllowPrivateHosts: 'yes',
    };
    const message = (() => {
      try {
        readConfig({ tryGetContext: (name) => context[name] });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const problem of [
      'bodyRetentionDays must be at least 14, the days the queues and dead-letter queues keep a message',
      'exportMaxBytes must be a whole number from 1 to',
      'exportAllowedHosts must be a comma-separated list of host names',
      'exportAllowPrivateHosts must be true or false, got "yes"',
    ]) {
      expect(message).toContain(problem);
    }
    expect(
      readConfig({
        tryGetContext: (name) => ({ bodyRetentionDays: '14' })[name as 'bodyRetentionDays'],
      }).bodyRetentionDays,
    ).toBe(14);
  });

  it('refuses an unknown exportOn, an odd exportFormat and a non-https datasaurApiUrl', () => {
    const context = { exportOn: 'sometimes', exportFormat: 'j son', datasaurApiUrl: 'ftp://x' };
    expect(() =>
      readConfig({ tryGetContext: (name) => context[name as keyof typeof context] }),
    ).toThrow(
      /exportOn must be one of REVIEWED, COMPLETED, both, off[\s\S]*exportFormat[\s\S]*datasaurApiUrl/,
    );
  });
});
