/**
 * What the deployed stack holds that bills by the month or by the logged byte, read from the
 * synthesized template (without bundling), so the cost model follows the stack as it changes.
 */
import { App } from 'aws-cdk-lib';
import { FLOOD_METRICS } from '../../infra/constructs/alarms.ts';
import { addWebhookStack } from '../../infra/stack.ts';
import { LOCAL_WEBHOOK_PATH_TOKEN } from '../local/defaults.ts';

export interface StackFacts {
  readonly alarms: number;
  /** Metric filters on log groups: each publishes a custom metric. */
  readonly metricFilters: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  /** One access log line of the HTTP API as its format writes it for a typical webhook. */
  readonly accessLogBytesPerRequest: number;
  /** The line of a request no route matched (API Gateway's own 404). */
  readonly accessLogBytesPerUnroutedRequest: number;
  /** The line of a request the ingest refused for its signature (401). */
  readonly accessLogBytesPerRefusedRequest: number;
  /** Routes with an integration (the webhook's), and the steady rate each admits. */
  readonly webhookRoutes: number;
  readonly webhookRouteRateLimit: number;
  /** What the flood defence adds that bills by the month: its metric filters and alarms. */
  readonly floodMetricFilters: number;
  readonly floodAlarms: number;
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
/** A request no route matched: API Gateway answers `{"message":"Not Found"}` itself. */
const UNROUTED_CONTEXT: Readonly<Record<string, string>> = {
  ...TYPICAL_CONTEXT,
  'identity.userAgent': 'Mozilla/5.0 (compatible; scanner)',
  status: '404',
  'error.message': 'Not Found',
  responseLength: '23',
  responseLatency: '1',
  integrationStatus: '-',
  integrationLatency: '-',
};
/** A request the ingest refused for its signature. */
const REFUSED_CONTEXT: Readonly<Record<string, string>> = {
  ...TYPICAL_CONTEXT,
  status: '401',
  responseLength: '26',
};

interface Resource {
  readonly Type: string;
  readonly Properties?: {
    readonly AccessLogSettings?: { readonly Format?: string };
    readonly RouteSettings?: Record<string, { readonly ThrottlingRateLimit?: number }>;
    readonly Target?: unknown;
    readonly MetricName?: string;
    readonly MetricTransformations?: readonly { readonly MetricName?: string }[];
  };
}

export function readStackFacts(): StackFacts {
  const app = new App({
    // Neither the schema check nor the bundles matter for counting resources.
    builtinCloudFormationValidation: false,
    // Any valid token: the facts do not depend on its value.
    context: { 'aws:cdk:bundling-stacks': [], webhookPathToken: LOCAL_WEBHOOK_PATH_TOKEN },
  });
  const stack = addWebhookStack(app);
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, Resource>;
  };
  const resources = Object.values(template.Resources);
  const count = (type: string) => resources.filter((resource) => resource.Type === type).length;
  const stage = resources.find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage');
  const format = stage?.Properties?.AccessLogSettings?.Format;
  const accessLogBytes = (context: Readonly<Record<string, string>>) =>
    format === undefined
      ? 0
      : Buffer.byteLength(
          `${format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => context[name] ?? '-')}\n`,
        );
  const floodNames: readonly string[] = Object.values(FLOOD_METRICS).map((m) => m.metricName);
  const routeRates = Object.values(stage?.Properties?.RouteSettings ?? {}).map(
    (settings) => settings.ThrottlingRateLimit ?? 0,
  );
  return {
    alarms: count('AWS::CloudWatch::Alarm'),
    metricFilters: count('AWS::Logs::MetricFilter'),
    dashboards: count('AWS::CloudWatch::Dashboard'),
    kmsKeys: count('AWS::KMS::Key'),
    secrets: count('AWS::SecretsManager::Secret'),
    accessLogBytesPerRequest: accessLogBytes(TYPICAL_CONTEXT),
    accessLogBytesPerUnroutedRequest: accessLogBytes(UNROUTED_CONTEXT),
    accessLogBytesPerRefusedRequest: accessLogBytes(REFUSED_CONTEXT),
    webhookRoutes: resources.filter(
      (resource) =>
        resource.Type === 'AWS::ApiGatewayV2::Route' && resource.Properties?.Target !== undefined,
    ).length,
    webhookRouteRateLimit: Math.max(0, ...routeRates),
    floodMetricFilters: resources.filter(
      (resource) =>
        resource.Type === 'AWS::Logs::MetricFilter' &&
        floodNames.includes(resource.Properties?.MetricTransformations?.[0]?.MetricName ?? ''),
    ).length,
    floodAlarms: resources.filter(
      (resource) =>
        resource.Type === 'AWS::CloudWatch::Alarm' &&
        floodNames.includes(resource.Properties?.MetricName ?? ''),
    ).length,
  };
}
