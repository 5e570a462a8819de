/**
 * Every Lambda function of the stack, with the defaults they share: bundled by the local
 * esbuild into minified ESM with a source map beside it, arm64 on Node.js 24, its own log group
 * with bounded retention, its own role allowed to write only to that log group, and the
 * Powertools environment.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: entries, the lock file and esbuild are all found from here. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Some dependencies still call `require` for Node built-ins; an ESM bundle has none, so the
 * banner recreates it from `import.meta.url`.
 */
const REQUIRE_IN_ESM_BANNER =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

/** Loaded by the SDK only when no credentials are in the environment, never the case in Lambda. */
const LAMBDA_UNUSED_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
];

/**
 * Node built-ins every bundle reads through `require` instead of their ES module facade, which
 * Node builds by reading every property of the module at start-up (`infra/bundling/`).
 */
const BUILT_IN_ALIASES = [
  ['process', join(PROJECT_ROOT, 'infra', 'bundling', 'node-process.ts')],
  ['node:process', join(PROJECT_ROOT, 'infra', 'bundling', 'node-process.ts')],
  // `fs/promises` too: an alias stands for everything below it.
  ['fs', join(PROJECT_ROOT, 'infra', 'bundling', 'node-fs')],
  ['node:fs', join(PROJECT_ROOT, 'infra', 'bundling', 'node-fs')],
  // `http` above all: its facade loads Node's fetch (undici) on Node 22+, 25-40 ms.
  ['http', join(PROJECT_ROOT, 'infra', 'bundling', 'node-http.ts')],
  ['node:http', join(PROJECT_ROOT, 'infra', 'bundling', 'node-http.ts')],
  ['https', join(PROJECT_ROOT, 'infra', 'bundling', 'node-https.ts')],
  ['node:https', join(PROJECT_ROOT, 'infra', 'bundling', 'node-https.ts')],
  ['crypto', join(PROJECT_ROOT, 'infra', 'bundling', 'node-crypto.ts')],
  ['node:crypto', join(PROJECT_ROOT, 'infra', 'bundling', 'node-crypto.ts')],
].map(([name, path]) => `${name}=${path}`);

export interface FunctionLogLevels {
  /** `POWERTOOLS_LOG_LEVEL`, and Lambda's filter of application lines. @default 'INFO' */
  readonly application?: keyof typeof ApplicationLogLevel;
  /** Lambda's own lines: START/END/REPORT are INFO, so WARN drops them. @default 'WARN' */
  readonly system?: keyof typeof SystemLogLevel;
}

export interface BundledFunctionProps {
  /** The entry file, relative to the repository root, e.g. `functions/ingest/index.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
  readonly logRetention: RetentionDays;
  /** `POWERTOOLS_SERVICE_NAME`, the `service` field of every log line. */
  readonly serviceName: string;
  /** @default application INFO, system WARN */
  readonly logLevels?: FunctionLogLevels;
  /** Variables of the function itself, next to the shared ones. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Packages the function imports (with `import()`) only on a rare path: kept out of the
   * bundle and bundled on their own into the asset's `node_modules`, so they cost no start-up
   * time and no bundle bytes until first used, and still run the locked versions.
   * @default none
   */
  readonly loadedOnFirstUse?: readonly string[];
}

/** esbuild's options for every bundle, the function's and those loaded on first use. */
const ESBUILD_TARGET = 'node24';
/** Prefer the ESM build of dependencies that ship both, so tree shaking works. */
const MAIN_FIELDS = ['module', 'main'];

/**
 * Loaded by the functions only on a path none of them takes: the SDK imports its event-stream
 * serde (`import()` in `@smithy/core`'s HTTP protocol) for operations that stream events, and
 * no command of ours does. Bundled in, it was 15 KB of every bundle to compile at each cold
 * start (docs/performance.md); bundled apart, an event-stream call would still work. Only the
 * reconciler still bundles an SDK client (lib-dynamodb); the others' SDK clients are loaded on
 * first use, from the asset's `node_modules`.
 */
const EVERY_FUNCTION_LOADS_ON_FIRST_USE = ['@smithy/core/event-streams'];

/** `@scope/name/sub/path` → `@scope/name` and `./sub/path` (`.` for the package itself). */
function splitSpecifier(specifier: string): { packageName: string; subpath: string } {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const rest = parts.slice(nameLength).join('/');
  return {
    packageName: parts.slice(0, nameLength).join('/'),
    subpath: rest === '' ? '.' : `./${rest}`,
  };
}

/**
 * Shell commands (run from the project root after the function is bundled) that bundle each
 * of `specifiers` alone into `<outputDir>/node_modules/<package>/<subpath>/index.mjs`, with a
 * `package.json` whose `exports` lead Node's resolution of the function's `import(specifier)`
 * there.
 */
function bundlePackageCommands(specifiers: readonly string[], outputDir: string): string[] {
  const esbuild = JSON.stringify(join(PROJECT_ROOT, 'node_modules', '.bin', 'esbuild'));
  const exportsByPackage = new Map<string, Record<string, string>>();
  const commands = specifiers.map((specifier) => {
    const { packageName, subpath } = splitSpecifier(specifier);
    const file = subpath === '.' ? './index.mjs' : `${subpath}/index.mjs`;
    exportsByPackage.set(packageName, { ...exportsByPackage.get(packageName), [subpath]: file });
    const flags = [
      '--bundle',
      '--platform=node',
      '--format=esm',
      `--target=${ESBUILD_TARGET}`,
      `--main-fields=${MAIN_FIELDS.join(',')}`,
      '--minify',
      '--log-level=warning',
      `--banner:js=${JSON.stringify(REQUIRE_IN_ESM_BANNER)}`,
      ...LAMBDA_UNUSED_CREDENTIAL_PROVIDERS.map((name) => `--external:${name}`),
      ...BUILT_IN_ALIASES.map((alias) => `--alias:${JSON.stringify(alias)}`),
      `--outfile=${JSON.stringify(join(outputDir, 'node_modules', packageName, file))}`,
    ];
    return `${esbuild} ${JSON.stringify(specifier)} ${flags.join(' ')}`;
  });
  const packageJsons = [...exportsByPackage].map(([packageName, exports]) => {
    const packageJson = JSON.stringify({ type: 'module', exports });
    return `echo '${packageJson}' > ${JSON.stringify(join(outputDir, 'node_modules', packageName, 'package.json'))}`;
  });
  return [...commands, ...packageJsons];
}

export class BundledFunction extends Construct {
  public readonly function: NodejsFunction;
  /** The function's own role: grant it exactly what the function needs. */
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BundledFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // The table is the record of events; logs are operational and go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole, whose log permissions cover
    // every log group of the account.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    const applicationLogLevel = props.logLevels?.application ?? 'INFO';
    const loadedOnFirstUse = [
      ...(props.loadedOnFirstUse ?? []),
      ...EVERY_FUNCTION_LOADS_ON_FIRST_USE,
    ];
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      // JSON lets Lambda filter by level, its own lines included.
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[applicationLogLevel],
      systemLogLevelV2: SystemLogLevel[props.logLevels?.system ?? 'WARN'],
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_LOG_LEVEL: applicationLogLevel,
        // No NODE_OPTIONS=--enable-source-maps: Node reads the whole map at start-up, 10-30 ms
        // of every cold start. The map ships beside the bundle; set that variable on a
        // function while a stack trace needs its source lines.
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        mainFields: MAIN_FIELDS,
        banner: REQUIRE_IN_ESM_BANNER,
        minify: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        // Stack traces need file and line, not the sources: keeps the .map file small.
        sourcesContent: false,
        // The AWS SDK v3 is bundled rather than taken from the runtime: the functions then run
        // the exact client versions the tests ran against (package-lock.json), not whatever
        // version the runtime ships that day. It costs some bundle size, not correctness.
        bundleAwsSDK: true,
        // ...except the credential providers Lambda never reaches: its credentials are in the
        // environment, so the SDK's dynamic imports of these never run (and the runtime ships
        // them anyway). Leaving them out keeps the ingest bundle under 250 KB.
        externalModules: [...LAMBDA_UNUSED_CREDENTIAL_PROVIDERS, ...loadedOnFirstUse],
        esbuildArgs: { '--alias': BUILT_IN_ALIASES },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) =>
            bundlePackageCommands(loadedOnFirstUse, outputDir),
        },
      },
    });
  }
}
