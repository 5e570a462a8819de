/**
 * What the deployed stack holds that bills by the month or by the logged byte, read from the
 * synthesized template (without bundling), so the cost model follows the stack as it changes.
 */
import { App } from 'aws-cdk-lib';
import { addWebhookStack } from '../../infra/stack.ts';

export interface StackFacts {
  readonly alarms: number;
  /** Metric filters on log groups: each publishes a custom metric. */
  readonly metricFilters: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  /** One access log line of the HTTP API as its format writes it for a typical webhook. */
  readonly accessLogBytesPerRequest: number;
}

/** Typical values of the `$context` variables the access log format may use. */
const TYPICAL_CONTEXT: Readonly<Record<string, string>> = {
  requestId: 'bXy9Jj2AoAMEVbQ=',
  requestTime: '23/Nov/2026:11:40:02 +0000',
  'identity.sourceIp': '203.0.113.7',
  'identity.userAgent': 'Datasaur',
  httpMethod: 'POST',
  status: '202',
  'error.message': '-',
  protocol: 'HTTP/1.1',
  responseLength: '78',
  responseLatency: '24',
  integrationStatus: '200',
  integrationLatency: '21',
  integrationErrorMessage: '-',
};

interface Resource {
  readonly Type: string;
  readonly Properties?: { readonly AccessLogSettings?: { readonly Format?: string } };
}

export function readStackFacts(): StackFacts {
  const app = new App({
    // Neither the schema check nor the bundles matter for counting resources.
    builtinCloudFormationValidation: false,
    // Any valid token: the facts do not depend on its value.
    context: { 'aws:cdk:bundling-stacks': [], webhookPathToken: 'cost-model-path-token-00' },
  });
  const stack = addWebhookStack(app);
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, Resource>;
  };
  const resources = Object.values(template.Resources);
  const count = (type: string) => resources.filter((resource) => resource.Type === type).length;
  const format = resources.find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage')
    ?.Properties?.AccessLogSettings?.Format;
  const accessLogLine =
    format === undefined
      ? ''
      : `${format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => TYPICAL_CONTEXT[name] ?? '-')}\n`;
  return {
    alarms: count('AWS::CloudWatch::Alarm'),
    metricFilters: count('AWS::Logs::MetricFilter'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    kmsKeys: count('AWS::KMS::Key'),
    secrets: count('AWS::SecretsManager::Secret'),
    accessLogBytesPerRequest: Buffer.byteLength(accessLogLine),
  };
}
