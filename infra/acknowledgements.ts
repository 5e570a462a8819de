/**
 * Every acknowledged finding, written into the template on the resources it covers, so the
 * template alone says what was accepted and why:
 * - cdk-nag's (`Validations.of(x).acknowledge`, kept by CDK in the cloud assembly only) as
 *   `Metadata.cdk_nag.rules_to_suppress`, cdk-nag's own form: `id`, `reason`, `applies_to`;
 * - AWS Control Tower's (infra/control-tower.ts) as `Metadata.guard.SuppressedRules`, the
 *   cfn-guard rule names, with the control and its reason in `Metadata.guard.Reasons`.
 * The Control Tower rules do not read that metadata (`test/control-tower.test.ts` still finds
 * each acknowledged failure); it is the record a reviewer or an auditing tool reads.
 */
import { CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { CONTROL_TOWER_ACKNOWLEDGEMENTS, CONTROL_TOWER_RULE_NAMES } from './control-tower.ts';

/**
 * A resource's construct path below the stack, as the Control Tower acknowledgements write it:
 * a route's token digest as `<token>`.
 */
export function acknowledgementPath(stack: Stack, construct: IConstruct): string {
  return construct.node.path
    .slice(stack.node.path.length + 1)
    .replace(/\/Webhook(POST|PUT)[0-9a-f]{8}\//, '/Webhook$1<token>/');
}

interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly applies_to?: string[];
}

/** `Annotation::AwsSolutions-IAM5[Resource::…]` → the rule id and what it applies to. */
function nagSuppression(key: string, reason: string): NagSuppression | undefined {
  const match = /^Annotation::([^[]+)(?:\[(.*)\])?$/.exec(key);
  if (match === null) return undefined;
  const [, id = '', appliesTo] = match;
  return appliesTo === undefined ? { id, reason } : { id, reason, applies_to: [appliesTo] };
}

/** The acknowledgements recorded on `construct` (by `Validations.acknowledge`), as cdk-nag's. */
function nagSuppressionsOn(construct: IConstruct): NagSuppression[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) =>
      Object.entries(entry.data as Record<string, string>).flatMap(([key, reason]) => {
        const suppression = nagSuppression(key, reason);
        return suppression === undefined ? [] : [suppression];
      }),
    );
}

function resourcesUnder(construct: IConstruct): CfnResource[] {
  return construct.node.findAll().filter((child) => child instanceof CfnResource);
}

/** Writes every acknowledgement of `stack` into its resources' `Metadata`. */
export function recordAcknowledgements(stack: Stack): void {
  const nag = new Map<CfnResource, NagSuppression[]>();
  for (const construct of stack.node.findAll()) {
    const suppressions = nagSuppressionsOn(construct);
    if (suppressions.length === 0) continue;
    // An acknowledgement on a higher-level construct covers the resources it is made of.
    for (const resource of resourcesUnder(construct)) {
      nag.set(resource, [...(nag.get(resource) ?? []), ...suppressions]);
    }
  }
  for (const [resource, suppressions] of nag) {
    resource.addMetadata('cdk_nag', { rules_to_suppress: suppressions });
  }

  for (const resource of resourcesUnder(stack)) {
    const path = acknowledgementPath(stack, resource);
    const entries = CONTROL_TOWER_ACKNOWLEDGEMENTS.filter((entry) => entry.resource === path);
    if (entries.length === 0) continue;
    resource.addMetadata('guard', {
      SuppressedRules: entries.map((entry) => CONTROL_TOWER_RULE_NAMES[entry.rule]),
      Reasons: Object.fromEntries(
        entries.map((entry) => [
          CONTROL_TOWER_RULE_NAMES[entry.rule],
          `${entry.rule}: ${entry.reason}`,
        ]),
      ),
    });
  }
}
