/**
 * The architecture of `shared/`, as rules dependency-cruiser checks (`npm run lint:layers`,
 * and `test/layers.test.ts` inside `npm test`).
 *
 *   replay                      re-stores and republishes events
 *   bus · export · reconcile    capabilities built on the table, side by side
 *   store                       the DynamoDB table: keys, items, event store, queries
 *   webhook · datasaur          Datasaur's webhook contract; Datasaur's GraphQL API
 *   runtime                     environment, errors, secrets, concurrency
 *
 * A folder may import only the folders in the rows below its own; two folders in one row
 * never import each other. `shared/` never imports the Lambda adapters (`functions/`), the
 * CDK app (`infra/`), the local tools (`scripts/`), the tests, or an AWS Lambda event type.
 */
export const LAYERS = [
  ['runtime'],
  ['webhook', 'datasaur'],
  ['store'],
  ['bus', 'export', 'reconcile', 'enrich'],
  ['replay'],
];

function layerRules() {
  return LAYERS.flatMap((row, level) => {
    const below = LAYERS.slice(0, level).flat();
    return row.map((capability) => {
      const allowed = [capability, ...below].join('|');
      return {
        name: `layer-${capability}`,
        comment: below.length
          ? `shared/${capability}/ may import only itself and ${below.map((name) => `shared/${name}/`).join(', ')}`
          : `shared/${capability}/ is the lowest layer: it imports no other folder of shared/`,
        severity: 'error',
        from: { path: `^shared/${capability}/` },
        to: { path: '^shared/', pathNot: `^shared/(${allowed})/` },
      };
    });
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...layerRules(),
    {
      name: 'shared-is-capabilities-only',
      comment: 'every module of shared/ lives in one capability folder (see LAYERS)',
      severity: 'error',
      from: { path: '^shared/[^/]+$' },
      to: {},
    },
    {
      name: 'shared-stays-below-its-users',
      comment: 'shared/ is domain code: it never imports functions/, infra/, scripts/ or test/',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|infra|scripts|test)/' },
    },
    {
      name: 'no-aws-lambda-event-types',
      comment: 'handlers are adapters: AWS Lambda event types stay in functions/',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '(^|/)(@types/)?aws-lambda($|/)' },
    },
    {
      name: 'no-circular',
      comment: 'an import circle makes two modules one; merge them or move the shared part down',
      severity: 'error',
      from: { path: '^shared/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing is a typo or a missing dependency',
      severity: 'error',
      from: { path: '^shared/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
