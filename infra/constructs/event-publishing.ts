/**
 * The outlet: the bus stored events are published on (the default bus, an existing one, or a
 * new one with an archive), the publisher's permission to put events on it and nowhere else,
 * and a schema registry with one schema per detail-type, generated from the zod schemas, so
 * consumers can download code bindings.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DETAIL_TYPES, eventJsonSchema } from '../../shared/bus/bus-events.ts';

/** The `eventBusName` value that creates a bus instead of naming one. */
export const CREATE_EVENT_BUS = 'create';

export interface EventPublishingProps {
  /** The function that publishes; it gets the bus settings and the permission to put. */
  readonly publisher: LambdaFunction;
  /** `default`, the name of an existing bus, or `create`. @default 'default' */
  readonly eventBusName?: string;
  /** Days the archive of a created bus keeps events; 0 keeps them forever. @default 30 */
  readonly archiveDays?: number;
  /** The `source` of every event. */
  readonly source: string;
  /** Publish label events too. @default false */
  readonly publishLabelEvents?: boolean;
}

export class EventPublishing extends Construct {
  public readonly bus: IEventBus;
  public readonly registry: CfnRegistry;
  public readonly schemas: CfnSchema[];
  private readonly source: string;

  constructor(scope: Construct, id: string, props: EventPublishingProps) {
    super(scope, id);
    const busName = props.eventBusName ?? 'default';
    if (busName === CREATE_EVENT_BUS) {
      const bus = new EventBus(this, 'Bus', {
        eventBusName: `${Stack.of(this).stackName}-events`,
        description: 'Datasaur webhooks: stored events, normalized',
      });
      const archiveDays = props.archiveDays ?? 30;
      bus.archive('Archive', {
        description: 'Every event this product published, for replays',
        eventPattern: { source: [props.source] },
        retention: Duration.days(archiveDays),
      });
      this.bus = bus;
    } else {
      this.bus = EventBus.fromEventBusName(this, 'Bus', busName);
    }
    this.source = props.source;
    this.grantPublish(props.publisher);
    props.publisher.addEnvironment(
      'PUBLISH_LABEL_EVENTS',
      String(props.publishLabelEvents === true),
    );

    this.registry = new CfnRegistry(this, 'Registry', {
      description: `Events with source ${props.source}, one schema per detail-type`,
    });
    this.schemas = DETAIL_TYPES.map(
      (detailType) =>
        new CfnSchema(this, `Schema${detailType.replaceAll(' ', '')}`, {
          registryName: this.registry.attrRegistryName,
          schemaName: `${props.source}@${detailType.replaceAll(' ', '')}`,
          type: 'JSONSchemaDraft4',
          description: `The "${detailType}" event`,
          content: JSON.stringify(eventJsonSchema(detailType, props.source)),
        }),
    );
  }

  /** Lets `fn` put events on this bus, and nowhere else, and tells it the bus and source. */
  grantPublish(fn: LambdaFunction): void {
    // events:PutEvents on this bus's ARN only.
    this.bus.grantPutEventsTo(fn);
    fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    fn.addEnvironment('EVENT_SOURCE', this.source);
  }
}
