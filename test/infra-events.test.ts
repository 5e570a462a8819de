/** The outlet in the template: the bus, the worker's permission on it alone, the schemas. */
import { rmSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../infra/config.ts';
import { DETAIL_TYPES } from '../shared/bus/bus-events.ts';
import {
  type CfnResource,
  environmentOf,
  functionWithEnvironment,
  resourcesOfType,
  statementsOfFunctionRole,
  synthesizeIntoDirectory,
  synthesizeTemplate,
  validationViolations,
} from './support/cdk-template.ts';

function eventStatements(template: Template, worker: CfnResource) {
  return statementsOfFunctionRole(template, worker).filter((statement) =>
    JSON.stringify(statement.Action).includes('events:'),
  );
}

describe('event publishing in the stack', () => {
  it('publishes on the default bus by default, with a schema per detail-type', () => {
    const template = synthesizeTemplate({});
    const worker = functionWithEnvironment(template, 'PUBLISH_LABEL_EVENTS');
    expect(environmentOf(worker)).toMatchObject({
      EVENT_BUS_NAME: 'default',
      EVENT_SOURCE: 'datasaur.webhooks',
      PUBLISH_LABEL_EVENTS: 'false',
    });
    expect(resourcesOfType(template, 'AWS::Events::EventBus')).toEqual([]);
    const statements = eventStatements(template, worker);
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toBe('events:PutEvents');
    expect(JSON.stringify(statements[0]?.Resource)).toContain(':event-bus/default');
    // The exporter publishes Export Archived on the same bus, with the same single grant.
    const exporter = functionWithEnvironment(template, 'EXPORT_BUDGET_SECONDS');
    expect(exporter.logicalId).not.toBe(worker.logicalId);
    expect(environmentOf(exporter)).toMatchObject({
      EVENT_BUS_NAME: 'default',
      EVENT_SOURCE: 'datasaur.webhooks',
    });
    expect(eventStatements(template, exporter)).toEqual(statements);

    const schemas = resourcesOfType(template, 'AWS::EventSchemas::Schema');
    expect(resourcesOfType(template, 'AWS::EventSchemas::Registry')).toHaveLength(1);
    expect(schemas.map((schema) => schema.Properties.SchemaName).sort()).toEqual(
      DETAIL_TYPES.map((type) => `datasaur.webhooks@${type.replaceAll(' ', '')}`).sort(),
    );
    for (const schema of schemas) {
      expect(schema.Properties.Type).toBe('JSONSchemaDraft4');
      const content = JSON.parse(String(schema.Properties.Content));
      expect(content.properties['detail-type'].enum).toHaveLength(1);
      expect(content.properties.detail.required).toEqual(
        expect.arrayContaining(['version', 'eventId', 'eventTime']),
      );
    }
  });

  it('creates a bus with an archive when asked, grants on it alone, and stays cdk-nag clean', () => {
    const { outdir, template } = synthesizeIntoDirectory(
      {
        eventBusName: 'create',
        eventArchiveDays: 7,
        eventSource: 'acme.labels',
        publishLabelEvents: 'true',
      },
      'events-synth-',
    );
    try {
      const bus = resourcesOfType(template, 'AWS::Events::EventBus');
      expect(bus).toHaveLength(1);
      template.hasResourceProperties('AWS::Events::Archive', {
        RetentionDays: 7,
        EventPattern: { source: ['acme.labels'] },
      });
      const worker = functionWithEnvironment(template, 'PUBLISH_LABEL_EVENTS');
      expect(environmentOf(worker)).toMatchObject({
        EVENT_SOURCE: 'acme.labels',
        PUBLISH_LABEL_EVENTS: 'true',
      });
      const statements = eventStatements(template, worker);
      expect(statements).toEqual([
        {
          Action: 'events:PutEvents',
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [bus[0]?.logicalId, 'Arn'] },
        },
      ]);
      expect(validationViolations(outdir)).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('refuses a bus name, a source or a label setting EventBridge would not take', () => {
    const app = new App({
      context: { eventBusName: 'my bus', eventSource: 'aws.mine', publishLabelEvents: 'yes' },
    });
    expect(() => readConfig(app.node)).toThrow(
      /eventBusName must be[\s\S]*eventSource must be[\s\S]*publishLabelEvents must be true or false/,
    );
  });
});
