/** A deployed stack's CloudWatch alarms (found among its resources) and their states. */
import {
  ListStackResourcesCommand,
  type ListStackResourcesCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { DeployedStack } from './stack.ts';

export interface AlarmState {
  readonly name: string;
  /** OK, ALARM, INSUFFICIENT_DATA. */
  readonly state: string;
  readonly reason: string;
}

/** The names of the stack's alarms, then their states (DescribeAlarms takes 100 names a call). */
export async function stackAlarmStates(
  stack: DeployedStack,
): Promise<{ names: string[]; states: AlarmState[] }> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page: ListStackResourcesCommandOutput = await stack.clients.cloudFormation.send(
      new ListStackResourcesCommand({ StackName: stack.name, NextToken: nextToken }),
    );
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.ResourceType === 'AWS::CloudWatch::Alarm' && resource.PhysicalResourceId) {
        names.push(resource.PhysicalResourceId);
      }
    }
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  const states: AlarmState[] = [];
  for (let start = 0; start < names.length; start += 100) {
    const { MetricAlarms = [], CompositeAlarms = [] } = await stack.clients.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: names.slice(start, start + 100) }),
    );
    for (const alarm of [...MetricAlarms, ...CompositeAlarms]) {
      states.push({
        name: alarm.AlarmName ?? '?',
        state: alarm.StateValue ?? 'UNKNOWN',
        reason: alarm.StateReason ?? '',
      });
    }
  }
  return { names, states };
}
