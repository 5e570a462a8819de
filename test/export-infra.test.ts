/**
 * Export archiving in the template: the exporter, its queue, DLQ and alarms, the empty
 * credentials secret, the context options, and who may do what. No bundling.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { Template as Templates } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import { DATASAUR_CREDENTIALS_TEMPLATE } from '../shared/datasaur/credentials-secret.ts';
import {
  actionsOf,
  type CfnResource,
  functionWithEnvironment,
  type PolicyStatementJson,
  refersTo,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeApp,
} from './support/cdk-template.ts';

let template: Template;
let exporter: CfnResource;
let worker: CfnResource;
let ingest: CfnResource;
let credentials: CfnResource;
let exportQueue: CfnResource;

beforeAll(() => {
  const { stack } = synthesizeApp(
    { exportOn: 'both', exportFormat: 'conll', datasaurApiUrl: 'https://datasaur.example.com/' },
    { bundle: false },
  );
  template = Templates.fromStack(stack);
  exporter = functionWithEnvironment(template, 'DATASAUR_CREDENTIALS_SECRET_ARN');
  worker = functionWithEnvironment(template, 'EXPORT_ON');
  ingest = functionWithEnvironment(template, 'WEBHOOK_SECRET_ARN');
  credentials = resourcesOfType(template, 'AWS::SecretsManager::Secret').find(
    (secret) => secret.Properties.SecretString === DATASAUR_CREDENTIALS_TEMPLATE,
  ) as CfnResource;
  exportQueue = resourcesOfType(template, 'AWS::SQS::Queue').find((queue) =>
    refersTo(
      (exporter.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .EXPORT_QUEUE_URL,
      queue.logicalId,
    ),
  ) as CfnResource;
});

const environmentOf = (fn: CfnResource) =>
  (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

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
    expect(descriptions.filter((text) => /export/i.test(text))).toHaveLength(2);
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
      expect(dynamodb.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
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

  it('builds no exporter, queue or secret with exportOn=off', () => {
    const { stack } = synthesizeApp({ exportOn: 'off' }, { bundle: false });
    const off = Templates.fromStack(stack);
    expect(resourcesOfType(off, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(() => functionWithEnvironment(off, 'DATASAUR_CREDENTIALS_SECRET_ARN')).toThrow();
    expect(() => functionWithEnvironment(off, 'EXPORT_ON')).toThrow();
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
