/**
 * The flood defence on the synthesized template (docs/flood.md): only POST and PUT on the
 * secret path have an integration, each with its own throttle, so a request that does not know
 * the token matches no route (API Gateway answers 404 itself) and spends no webhook budget; the
 * token stays out of outputs, ids, policies and the access log; rotation adds routes without
 * re-keying any; the alarms tell a flood apart from Datasaur's traffic.
 */
import { App } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FLOOD_METRICS } from '../infra/constructs/alarms.ts';
import { addWebhookStack } from '../infra/stack.ts';
import { ConfigurationError } from '../shared/runtime/environment.ts';
import {
  CURRENT_ROUTE_OPERATION,
  deployedWebhookUrls,
  PREVIOUS_ROUTE_OPERATION,
  RELEASED_ROUTE_OPERATION,
  webhookPath,
  webhookRouteKeys,
} from '../shared/webhook/route.ts';
import { type CfnResource, resourcesOfType, synthesizeTemplate } from './support/cdk-template.ts';
import { TEST_SECRETS } from './support/test-secrets.ts';

const TOKEN = TEST_SECRETS.pathToken;
const PREVIOUS = TEST_SECRETS.previousPathToken;
const THROTTLE = { throttleRateLimit: 30, throttleBurstLimit: 60 };

function routes(template: Template): CfnResource[] {
  return resourcesOfType(template, 'AWS::ApiGatewayV2::Route');
}

function stage(template: Template): CfnResource {
  const stages = resourcesOfType(template, 'AWS::ApiGatewayV2::Stage');
  expect(stages).toHaveLength(1);
  return stages[0] as CfnResource;
}

let template: Template;
let rotating: Template;

beforeAll(() => {
  template = synthesizeTemplate({ webhookPathToken: TOKEN, ...THROTTLE });
  rotating = synthesizeTemplate({
    webhookPathToken: TOKEN,
    previousWebhookPathToken: PREVIOUS,
    ...THROTTLE,
  });
});

describe('requests that do not know the token', () => {
  it('match no route: the only routes, all with the integration, are POST and PUT of the secret path', () => {
    const all = routes(template);
    expect(all.map((route) => route.Properties.RouteKey).sort()).toEqual(
      webhookRouteKeys(TOKEN).sort(),
    );
    // No $default or catch-all route exists, so anything else is API Gateway's own 404.
    for (const route of all) {
      expect(String(route.Properties.RouteKey)).not.toMatch(/^\$default$|^ANY |\{proxy\+\}/);
      expect(route.Properties.Target).toBeDefined();
    }
  });

  it('cannot spend the webhook budget: each webhook route has its own throttle from context', () => {
    const settings = stage(template).Properties.RouteSettings as Record<string, unknown>;
    expect(settings).toEqual(
      Object.fromEntries(
        webhookRouteKeys(TOKEN).map((key) => [
          key,
          { ThrottlingRateLimit: 30, ThrottlingBurstLimit: 60 },
        ]),
      ),
    );
    expect(stage(template).Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 30,
      ThrottlingBurstLimit: 60,
    });
  });

  it('creates the routes before the stage whose route settings name them', () => {
    const dependsOn = (template.toJSON().Resources[stage(template).logicalId].DependsOn ??
      []) as string[];
    for (const route of routes(template)) expect(dependsOn).toContain(route.logicalId);
  });
});

describe('the token stays out of what others read', () => {
  it('appears only in the route keys and the route settings, never in outputs, ids or policies', () => {
    const json = template.toJSON() as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
      Outputs: Record<string, unknown>;
    };
    expect(JSON.stringify(json.Outputs)).not.toContain(TOKEN);
    const holders = Object.entries(json.Resources)
      .filter(([logicalId, resource]) => {
        expect(logicalId).not.toContain(TOKEN);
        return JSON.stringify(resource).includes(TOKEN);
      })
      .map(([, resource]) => resource.Type)
      .sort();
    expect(holders).toEqual([
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Route',
      'AWS::ApiGatewayV2::Stage',
    ]);
    const stageJson = JSON.stringify({ ...stage(template).Properties, RouteSettings: undefined });
    expect(stageJson).not.toContain(TOKEN);
  });

  it('logs neither the path nor the route key, which both hold the token', () => {
    const settings = stage(template).Properties.AccessLogSettings as { Format: string };
    expect(settings.Format).not.toContain('$context.path');
    expect(settings.Format).not.toContain('$context.routeKey');
    expect(JSON.parse(settings.Format)).toMatchObject({
      status: '$context.status',
      integrationStatus: '$context.integrationStatus',
      error: '$context.error.message',
    });
  });

  it('lets the function be invoked by the API as a whole, not by a path naming the token', () => {
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').filter(
      (permission) => permission.Properties.Principal === 'apigateway.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    expect(JSON.stringify(permissions[0]?.Properties.SourceArn)).toContain('/*/*');
  });
});

describe('rotation', () => {
  it('routes the previous token too, with the same throttle, until it is removed', () => {
    expect(
      routes(rotating)
        .map((route) => route.Properties.RouteKey)
        .sort(),
    ).toEqual([...webhookRouteKeys(TOKEN), ...webhookRouteKeys(PREVIOUS)].sort());
    const settings = stage(rotating).Properties.RouteSettings as Record<string, unknown>;
    for (const key of webhookRouteKeys(PREVIOUS)) {
      expect(settings[key]).toEqual({ ThrottlingRateLimit: 30, ThrottlingBurstLimit: 60 });
    }
  });

  it('keeps the logical id of a token’s routes when it becomes the previous one, so no route is re-keyed', () => {
    const before = synthesizeTemplate({ webhookPathToken: PREVIOUS });
    const idsOf = (source: Template, token: string) =>
      routes(source)
        .filter((route) => String(route.Properties.RouteKey).endsWith(webhookPath(token)))
        .map((route) => route.logicalId)
        .sort();
    expect(idsOf(rotating, PREVIOUS)).toEqual(idsOf(before, PREVIOUS));
    expect(idsOf(rotating, TOKEN)).not.toEqual(idsOf(rotating, PREVIOUS));
  });

  it('keeps every resource of the deploy before, the integration and the invoke permission included', () => {
    const before = synthesizeTemplate({ webhookPathToken: PREVIOUS, ...THROTTLE });
    const ids = (source: Template) => Object.keys(source.toJSON().Resources as object);
    const after = new Set(ids(rotating));
    // A resource whose logical id changed would be replaced under Datasaur's requests.
    expect(ids(before).filter((id) => !after.has(id))).toEqual([]);
  });

  it('names each route current or previous, from which the deployed URLs are composed', () => {
    const listed = routes(rotating).map((route) => ({
      RouteKey: String(route.Properties.RouteKey),
      OperationName: String(route.Properties.OperationName),
    }));
    const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
    expect(deployedWebhookUrls(endpoint, listed)).toEqual({
      current: `${endpoint}/webhooks/datasaur/${TOKEN}`,
      previous: `${endpoint}/webhooks/datasaur/${PREVIOUS}`,
    });
    expect(listed.map((route) => route.OperationName).sort()).toEqual([
      CURRENT_ROUTE_OPERATION,
      CURRENT_ROUTE_OPERATION,
      PREVIOUS_ROUTE_OPERATION,
      PREVIOUS_ROUTE_OPERATION,
    ]);
    expect(() => deployedWebhookUrls(endpoint, [])).toThrow(/no POST \/webhooks\/datasaur/);
  });
});

describe('upgrading from 0.1.0: its tokenless URL kept while Datasaur still sends there', () => {
  let upgrading: Template;
  beforeAll(() => {
    upgrading = synthesizeTemplate({
      webhookPathToken: TOKEN,
      keepReleasedWebhookRoute: 'true',
      ...THROTTLE,
    });
  });

  it("routes POST and PUT /webhooks/datasaur under 0.1.0's logical ids, with the webhook throttle", () => {
    const released = routes(upgrading).filter(
      (route) => route.Properties.OperationName === RELEASED_ROUTE_OPERATION,
    );
    // 0.1.0's ids: a new id would be created before the old route is deleted, and API
    // Gateway refuses a second route of the same key.
    expect(released.map((route) => [route.logicalId, route.Properties.RouteKey])).toEqual([
      ['IngestApiPOSTwebhooksdatasaur7DD979DB', 'POST /webhooks/datasaur'],
      ['IngestApiPUTwebhooksdatasaurC2EDBAAC', 'PUT /webhooks/datasaur'],
    ]);
    const settings = stage(upgrading).Properties.RouteSettings as Record<string, unknown>;
    for (const key of ['POST /webhooks/datasaur', 'PUT /webhooks/datasaur']) {
      expect(settings[key]).toEqual({ ThrottlingRateLimit: 30, ThrottlingBurstLimit: 60 });
    }
    upgrading.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ACCEPT_RELEASED_WEBHOOK_PATH: 'true' }) },
    });
    // The token's routes are there as ever: Datasaur moves to them, then the option goes.
    expect(routes(upgrading).map((route) => route.Properties.RouteKey)).toEqual(
      expect.arrayContaining(webhookRouteKeys(TOKEN)),
    );
  });

  it('routes no tokenless path without the option, and the ingest is told nothing', () => {
    expect(
      routes(template).filter((route) =>
        String(route.Properties.RouteKey).endsWith('/webhooks/datasaur'),
      ),
    ).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('ACCEPT_RELEASED_WEBHOOK_PATH');
  });

  it('lists the kept URL beside the current one, for setup and doctor', () => {
    const listed = routes(upgrading).map((route) => ({
      RouteKey: String(route.Properties.RouteKey),
      OperationName: String(route.Properties.OperationName),
    }));
    const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
    expect(deployedWebhookUrls(endpoint, listed)).toEqual({
      current: `${endpoint}/webhooks/datasaur/${TOKEN}`,
      released: `${endpoint}/webhooks/datasaur`,
    });
  });
});

describe('configuration', () => {
  const build = (context: Record<string, unknown>) => () =>
    addWebhookStack(
      new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] }, stackTraces: false }),
    );

  it('refuses to build without a path token, saying how to make one', () => {
    expect(build({})).toThrow(ConfigurationError);
    expect(build({})).toThrow(/webhookPathToken is not set.*\n.*\n.*openssl rand -hex 16/);
  });

  it('refuses a short token or a previous token equal to the current, without echoing it', () => {
    const short = 'short-token';
    expect(build({ webhookPathToken: short })).toThrow(/webhookPathToken must be 20 to 128/);
    try {
      build({ webhookPathToken: short })();
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
    expect(build({ webhookPathToken: TOKEN, previousWebhookPathToken: TOKEN })).toThrow(
      /previousWebhookPathToken must differ/,
    );
    expect(build({ previousWebhookPathToken: PREVIOUS })).toThrow(
      /previousWebhookPathToken needs webhookPathToken/,
    );
  });
});

describe('alarms that tell a flood from Datasaur', () => {
  function filterFor(metricName: string): CfnResource {
    const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter').filter(
      (filter) =>
        (filter.Properties.MetricTransformations as { MetricName: string }[])[0]?.MetricName ===
        metricName,
    );
    expect(filters).toHaveLength(1);
    return filters[0] as CfnResource;
  }
  function alarmOn(metricName: string): CfnResource {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').filter(
      (alarm) => alarm.Properties.MetricName === metricName,
    );
    expect(alarms).toHaveLength(1);
    return alarms[0] as CfnResource;
  }

  it('counts requests no route matched (404 with no integration) and alarms on a flood of them', () => {
    const pattern = String(filterFor(FLOOD_METRICS.unrouted.metricName).Properties.FilterPattern);
    expect(pattern).toContain('$.status = "404"');
    expect(pattern).toContain('$.integrationStatus = "-"');
    const alarm = alarmOn(FLOOD_METRICS.unrouted.metricName).Properties;
    expect(alarm).toMatchObject({ Statistic: 'Sum', Period: 300, Threshold: 3000 });
    expect(alarm.AlarmActions).toHaveLength(1);
  });

  it('alarms on the first signature failure: a sender that knows the URL but not the secret', () => {
    const pattern = String(
      filterFor(FLOOD_METRICS.signatureFailures.metricName).Properties.FilterPattern,
    );
    expect(pattern).toContain('$.status = "401"');
    const alarm = alarmOn(FLOOD_METRICS.signatureFailures.metricName).Properties;
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(String(alarm.AlarmDescription)).toContain('rotate webhookPathToken');
  });
});
