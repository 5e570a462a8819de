/**
 * Runs AWS Control Tower's proactive controls on a synthesized template with the `cfn-guard`
 * binary and rules shipped by `@cdklabs/cdk-validator-cfnguard`, and lists what fails as
 * (rule, resource logical id) pairs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PACKAGE_DIRECTORY = dirname(
  createRequire(import.meta.url).resolve('@cdklabs/cdk-validator-cfnguard/package.json'),
);
export const CONTROL_TOWER_RULES = join(PACKAGE_DIRECTORY, 'rules', 'control-tower', 'cfn-guard');

function guardBinary(): string {
  const os = { linux: 'ubuntu', darwin: 'macos' }[platform() as string];
  const cpu = { x64: 'x86_64', arm64: 'aarch64' }[arch() as string];
  if (os === undefined || cpu === undefined) {
    throw new Error(`cfn-guard ships no binary for ${platform()} ${arch()}`);
  }
  return join(PACKAGE_DIRECTORY, 'bin', os, cpu, 'cfn-guard');
}

export interface ControlFinding {
  /** e.g. `CT.S3.PR.2` */
  readonly rule: string;
  readonly logicalId: string;
}

interface GuardReport {
  readonly not_compliant: unknown[];
}

/** Every (rule, resource) the template fails, sorted and without duplicates. */
export function controlTowerFindings(template: object): ControlFinding[] {
  const directory = mkdtempSync(join(tmpdir(), 'control-tower-'));
  try {
    const file = join(directory, 'template.json');
    writeFileSync(file, JSON.stringify(template));
    const args = ['validate', '--data', file, '--rules', CONTROL_TOWER_RULES];
    let output: string;
    try {
      output = execFileSync(guardBinary(), [...args, '-o', 'json', '-z', '-S', 'none'], {
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
      });
    } catch (error) {
      // cfn-guard exits 19 when a rule fails; its report is on stdout all the same.
      const { status, stdout } = error as { status?: number; stdout?: string };
      if (status !== 19 || stdout === undefined) throw error;
      output = stdout;
    }
    const reports = JSON.parse(output) as GuardReport[];
    const pairs = new Set<string>();
    for (const report of reports) collect(report.not_compliant, undefined, pairs);
    return [...pairs].sort().map((pair) => {
      const [rule, logicalId] = pair.split(' ') as [string, string];
      return { rule, logicalId };
    });
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Walks cfn-guard's report: a rule's custom message names the control (`[CT.S3.PR.2]`), and
 * each failed clause below it carries the path of the property it read
 * (`/Resources/<logicalId>/Properties/…`). A failure with no resource path is kept as `*`.
 */
function collect(node: unknown, rule: string | undefined, pairs: Set<string>): void {
  if (Array.isArray(node)) {
    for (const child of node) collect(child, rule, pairs);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  const message = (record.messages as { custom_message?: unknown } | undefined)?.custom_message;
  const control = typeof message === 'string' ? /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(message) : null;
  const current = control?.[1] ?? rule;
  if ('Clause' in record && current !== undefined) {
    const paths = JSON.stringify(record.Clause).match(/"path":"\/Resources\/[^/"]+/g) ?? [];
    if (paths.length === 0) pairs.add(`${current} *`);
    for (const path of paths) pairs.add(`${current} ${path.slice('"path":"/Resources/'.length)}`);
    return;
  }
  for (const child of Object.values(record)) collect(child, current, pairs);
}
