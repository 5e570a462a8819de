/**
 * AWS Control Tower's proactive controls, run with the cfn-guard binary on the synthesized
 * template: every failing (rule, resource) is acknowledged in infra/control-tower.ts with a
 * reason, and every acknowledgement still matches a failure (no stale entries).
 */
import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { acknowledgementPath } from '../infra/acknowledgements.ts';
import {
  CONTROL_TOWER_ACKNOWLEDGEMENTS,
  CONTROL_TOWER_RULE_NAMES,
} from '../infra/control-tower.ts';
import type { WebhookStack } from '../infra/stack.ts';
import { synthesizeApp } from './support/cdk-template.ts';
import { controlTowerFindings } from './support/control-tower.ts';

/** Every optional part on: the exporter, the reconciler, a created bus. */
const EVERYTHING_ON = {
  datasaurTeamIds: 'team-1',
  eventBusName: 'create',
  alarmEmail: 'ops@example.com',
};

/**
 * `rule resource-path` of each failure, the resource named by its construct path below the
 * stack, written as the acknowledgements write it (a route's token digest as `<token>`).
 */
function failures(stack: WebhookStack): string[] {
  const pathOf = new Map<string, string>();
  for (const construct of stack.node.findAll()) {
    if (construct instanceof CfnElement) {
      pathOf.set(
        stack.resolve(stack.getLogicalId(construct)) as string,
        acknowledgementPath(stack, construct),
      );
    }
  }
  return controlTowerFindings(Template.fromStack(stack).toJSON()).map(
    ({ rule, logicalId }) => `${rule} ${pathOf.get(logicalId) ?? logicalId}`,
  );
}

const acknowledged = CONTROL_TOWER_ACKNOWLEDGEMENTS.map(
  ({ rule, resource }) => `${rule} ${resource}`,
);

describe("AWS Control Tower's proactive controls", () => {
  it('fail on the full stack exactly where an acknowledgement says why', () => {
    const { stack } = synthesizeApp(EVERYTHING_ON, { bundle: false });
    const found = failures(stack);
    expect(found.filter((failure) => !acknowledged.includes(failure))).toEqual([]);
    expect(acknowledged.filter((entry) => !found.includes(entry))).toEqual([]);
  });

  it('fail on the default stack only where acknowledged', () => {
    const { stack } = synthesizeApp({}, { bundle: false });
    expect(failures(stack).filter((failure) => !acknowledged.includes(failure))).toEqual([]);
  });

  it('are acknowledged once per rule and resource, each with its own reason', () => {
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
    for (const { reason } of CONTROL_TOWER_ACKNOWLEDGEMENTS)
      expect(reason.length).toBeGreaterThan(40);
  });

  it('are met, not acknowledged, for the KMS key policy, the buckets’ versioning and the dead-letter queues', () => {
    const rules = new Set(CONTROL_TOWER_ACKNOWLEDGEMENTS.map(({ rule }) => rule));
    for (const fixed of ['CT.KMS.PR.3', 'CT.S3.PR.11', 'CT.SQS.PR.1']) {
      expect(rules.has(fixed)).toBe(false);
    }
  });

  it('are written on their resources in the template: the cfn-guard rule and the reason', () => {
    const { stack } = synthesizeApp(EVERYTHING_ON, { bundle: false });
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Metadata?: Record<string, unknown> }
    >;
    const byPath = new Map<string, { Metadata?: Record<string, unknown> }>();
    for (const construct of stack.node.findAll()) {
      if (!(construct instanceof CfnElement)) continue;
      const logicalId = stack.resolve(stack.getLogicalId(construct)) as string;
      const resource = resources[logicalId];
      if (resource !== undefined) byPath.set(acknowledgementPath(stack, construct), resource);
    }
    for (const { rule, resource, reason } of CONTROL_TOWER_ACKNOWLEDGEMENTS) {
      const name = CONTROL_TOWER_RULE_NAMES[rule];
      expect(name, rule).toMatch(/^[a-z0-9_]+_check$/);
      const guard = byPath.get(resource)?.Metadata?.guard as
        | { SuppressedRules: string[]; Reasons: Record<string, string> }
        | undefined;
      expect(guard?.SuppressedRules, `${rule} ${resource}`).toContain(name);
      expect(guard?.Reasons[String(name)]).toBe(`${rule}: ${reason}`);
    }
    // cdk-nag's acknowledgements too, in cdk-nag's own form.
    const nag = Object.values(resources).flatMap(
      (resource) =>
        (resource.Metadata?.cdk_nag as { rules_to_suppress: { id: string; reason: string }[] })
          ?.rules_to_suppress ?? [],
    );
    expect(new Set(nag.map(({ id }) => id))).toEqual(
      new Set([
        'AwsSolutions-APIG4',
        'AwsSolutions-IAM5',
        'AwsSolutions-S1',
        'AwsSolutions-SMG4',
        'AwsSolutions-SQS3',
      ]),
    );
    for (const { reason } of nag) expect(reason.length).toBeGreaterThan(40);
  });
});
