/** Synthesizes the app as `cdk synth` does, and reads resources from the template by property. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addWebhookStack, type WebhookStack } from '../../infra/stack.ts';
import { TEST_SECRETS } from './test-secrets.ts';

export interface CfnResource {
  readonly logicalId: string;
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export interface SynthesisOptions {
  /** Run esbuild for real; otherwise asset bundling is skipped. */
  readonly bundle: boolean;
  readonly outdir?: string;
}

export function synthesizeApp(
  context: Record<string, unknown>,
  options: SynthesisOptions,
): { app: App; stack: WebhookStack } {
  const app = new App({
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    // The check against the CloudFormation schemas that `npm run synth` runs costs about ten
    // seconds of CPU per synthesis; the tests assert the properties themselves instead.
    builtinCloudFormationValidation: false,
    // An empty list skips asset bundling: tests that only read resources stay fast.
    // Every deploy needs a path token; tests name one unless they set their own.
    context: {
      webhookPathToken: TEST_SECRETS.pathToken,
      ...context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  return { app, stack: addWebhookStack(app) };
}

/** The stack's template, synthesized with `context` and no bundling. */
export function synthesizeTemplate(context: Record<string, unknown>): Template {
  return Template.fromStack(synthesizeApp(context, { bundle: false }).stack);
}

/**
 * Synthesizes the app (no bundling) into a new temporary directory named from `prefix`, where
 * the validation plugins write their report; the caller removes `outdir`.
 */
export function synthesizeIntoDirectory(
  context: Record<string, unknown>,
  prefix: string,
): { outdir: string; stack: WebhookStack; template: Template } {
  const outdir = mkdtempSync(join(tmpdir(), prefix));
  const { app, stack } = synthesizeApp(context, { bundle: false, outdir });
  app.synth();
  return { outdir, stack, template: Template.fromStack(stack) };
}

export interface ValidationReport {
  readonly pluginReports: {
    readonly pluginName: string;
    readonly violations: {
      readonly ruleName: string;
      readonly severity: string;
      readonly violatingConstructs: { readonly constructPath: string }[];
    }[];
  }[];
}

/** The report cdk-nag (and every other validation plugin) wrote into a synthesis's `outdir`. */
export function validationReport(outdir: string): ValidationReport {
  return JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8'));
}

/** Every finding of the validation report in `outdir`, acknowledged ones left out. */
export function validationViolations(
  outdir: string,
): ValidationReport['pluginReports'][number]['violations'] {
  return validationReport(outdir).pluginReports.flatMap((plugin) => plugin.violations);
}

/** The logical id of a construct's CloudFormation resource in `stack`, or '' without one. */
export function logicalIdOf(
  stack: WebhookStack,
  construct: { node: { defaultChild?: unknown } } | undefined,
): string {
  return construct === undefined
    ? ''
    : stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** A function's environment variables. */
export function environmentOf(fn: CfnResource): Record<string, unknown> {
  return (
    (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}
  );
}

export function resourcesOfType(template: Template, type: string): CfnResource[] {
  return Object.entries(template.findResources(type)).map(([logicalId, resource]) => ({
    logicalId,
    ...(resource as Omit<CfnResource, 'logicalId'>),
  }));
}

/** The one Lambda function whose environment carries `variable`. */
export function functionWithEnvironment(template: Template, variable: string): CfnResource {
  const matches = resourcesOfType(template, 'AWS::Lambda::Function').filter(
    (fn) => environmentOf(fn)[variable] !== undefined,
  );
  if (matches.length !== 1) {
    throw new Error(`expected one function with ${variable}, found ${matches.length}`);
  }
  return matches[0] as CfnResource;
}

/** The one Lambda function whose Powertools service name (POWERTOOLS_SERVICE_NAME) is `service`. */
export function functionWithService(template: Template, service: string): CfnResource {
  const matches = resourcesOfType(template, 'AWS::Lambda::Function').filter(
    (fn) => environmentOf(fn).POWERTOOLS_SERVICE_NAME === service,
  );
  if (matches.length !== 1) {
    throw new Error(`expected one function of service ${service}, found ${matches.length}`);
  }
  return matches[0] as CfnResource;
}

/** Every statement the function's role is allowed, inline or attached. */
export function statementsOfFunctionRole(
  template: Template,
  fn: CfnResource,
): PolicyStatementJson[] {
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = template.toJSON().Resources[roleId] as {
    Properties: { Policies?: { PolicyDocument: { Statement: PolicyStatementJson[] } }[] };
  };
  const inline = (role.Properties.Policies ?? []).flatMap((p) => p.PolicyDocument.Statement);
  const attached = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter((policy) =>
      (policy.Properties.Roles as unknown[]).some(
        (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .flatMap(
      (policy) =>
        (policy.Properties.PolicyDocument as { Statement: PolicyStatementJson[] }).Statement,
    );
  return [...inline, ...attached];
}

export function actionsOf(statements: readonly PolicyStatementJson[]): string[] {
  return statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );
}

/** True when `value` (a template fragment) refers to the resource `logicalId` anywhere. */
export function refersTo(value: unknown, logicalId: string): boolean {
  const json = JSON.stringify(value);
  return json.includes(`{"Ref":"${logicalId}"}`) || json.includes(`"Fn::GetAtt":["${logicalId}"`);
}
