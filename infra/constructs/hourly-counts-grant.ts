/** The one update the worker and the reconciler may make: adding to the hourly counters. */
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { HOURLY_COUNT_PARTITIONS, onlyPartitions } from './item-partitions.ts';

/**
 * UpdateItem on the counters' partitions alone (shared/store/hourly-counts.ts), so the events
 * themselves stay put-only: the role can add to the record, never rewrite it.
 */
export function grantHourlyCountUpdates(grantee: IGrantable, table: ITable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['dynamodb:UpdateItem'],
      resources: [table.tableArn],
      conditions: onlyPartitions(HOURLY_COUNT_PARTITIONS),
    }),
  );
}
