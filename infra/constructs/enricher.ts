/**
 * The enrichment: a scheduled function that learns the Datasaur project of each document
 * whose label events arrived without one (shared/enrich), fills it into those label events
 * and recounts the projects. One pass at a time (reserved concurrency 1); it reads only the
 * Datasaur credentials secret and the table items and indexes the pass uses; an alarm says
 * when passes keep failing.
 */
import { Duration } from 'aws-cdk-lib';
import { type Alarm, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { Rule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENRICH_METRICS } from '../../shared/enrich/enrich.ts';
import { TABLE } from '../../shared/store/table.ts';
import type { BundledFunction } from './bundled-function.ts';
import { ENRICH_ITEM_PARTITIONS, onlyPartitions } from './item-partitions.ts';
import {
  type DatasaurPassProps,
  datasaurPassFunction,
  failingPassesAlarm,
  schedulePasses,
} from './scheduled-pass.ts';

/** Between two passes: label events are listed by project within about this long. */
export const ENRICH_EVERY_MINUTES = 10;

/**
 * What a pass does to the table (shared/enrich/enrich.ts): queries the pending documents
 * (GSI1), a document's label items (the table) and a project's label events (GSI4); updates
 * mappings and label items; puts a project's counts. No GetItem, no Scan, no delete.
 */
export const ENRICH_TABLE_ACTIONS = ['PutItem', 'UpdateItem'] as const;
export const ENRICH_QUERY_INDEXES = [
  TABLE.indexes.teamProjects.indexName,
  TABLE.indexes.projectLabels.indexName,
] as const;

export interface EnricherProps extends DatasaurPassProps {}

export class Enricher extends Construct {
  public readonly function: BundledFunction;
  public readonly schedule: Rule;
  /** Two passes in a row failed (Datasaur or table errors, or the function itself). */
  public readonly failingRuns: Alarm;

  constructor(scope: Construct, id: string, props: EnricherProps) {
    super(scope, id);

    const metricsNamespace = props.metricsNamespace ?? ENRICH_METRICS.namespace;
    this.function = datasaurPassFunction(this, props, {
      entry: 'functions/enrich/index.ts',
      description: 'Datasaur webhooks: gives label events their project',
      serviceName: ENRICH_METRICS.service,
      // A pass is bounded (50 Datasaur requests, 1000 item updates): well inside one period.
      timeoutSeconds: 300,
      environment: { POWERTOOLS_METRICS_NAMESPACE: metricsNamespace },
    });
    // Single flight: a pass never overlaps another (a late scheduled one waits, then expires).
    (this.function.function.node.defaultChild as CfnFunction).reservedConcurrentExecutions = 1;
    props.credentials.grantRead(this.function.role);
    this.function.role.addToPolicy(
      new PolicyStatement({
        actions: ENRICH_TABLE_ACTIONS.map((action) => `dynamodb:${action}`),
        resources: [props.table.tableArn],
        conditions: onlyPartitions(ENRICH_ITEM_PARTITIONS),
      }),
    );
    this.function.role.addToPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [
          props.table.tableArn,
          ...ENRICH_QUERY_INDEXES.map((index) => `${props.table.tableArn}/index/${index}`),
        ],
      }),
    );

    // Documents left by a pass wait with back-off for the next; a late pass expires after one
    // period.
    const every = Duration.minutes(ENRICH_EVERY_MINUTES);
    this.schedule = schedulePasses(this, this.function, {
      description: `Runs the Datasaur label enrichment every ${ENRICH_EVERY_MINUTES} minutes`,
      every,
      maxEventAge: every,
    });

    this.failingRuns = failingPassesAlarm(this, this.function, {
      failed: new Metric({
        namespace: metricsNamespace,
        metricName: ENRICH_METRICS.failedRuns,
        dimensionsMap: { service: ENRICH_METRICS.service },
        period: every,
        statistic: Stats.SUM,
      }),
      every,
      passes: 3,
      label: 'Failed enrichment passes',
      description:
        'Three enrichment passes in a row failed: label events are not getting their project. Read the function logs (Datasaur API reachability, the credentials in the Datasaur secret) and `npm run enrich` by hand.',
      topic: props.alarmTopic,
    });
  }
}
