/**
 * `npm run fake-datasaur`: the fake Datasaur API on this machine, so the export loop can be
 * watched without Datasaur credentials. Prints its URL, the credentials to use and the
 * projects it knows; Ctrl-C stops it. Add or change projects with
 * `curl -X POST <url>/admin/projects -d '{"id":"P9","status":"COMPLETE"}'`.
 */
import { ConfigurationError, integerEnv, optionalEnv } from '../shared/runtime/environment.ts';
import { acceptOnlyHelp } from './local/cli.ts';
import { DEFAULT_FAKE_DATASAUR_PORT, FAKE_DATASAUR_CREDENTIALS } from './local/defaults.ts';
import { startFakeDatasaur } from './local/fake-datasaur/server.ts';
import { SEED_EVENTS } from './local/seed-events.ts';

/**
 * Teams and projects the fake knows from the start: the ids the README's commands and
 * `npm run send` use (team 1), and a second team, so `getAllTeams` lists more than one.
 */
const SEED_TEAMS = [
  { id: '1', name: "User's Team Workspace" },
  { id: '2', name: 'Review Team' },
];
const labelledDocument = SEED_EVENTS.BEFORE_UPDATE_LABELS.data.document;
const SEED_PROJECTS = [
  ...['P1', 'P2', 'P3'].map((id) => ({
    id,
    name: `${id}.txt`,
    status: 'IN_REVIEW' as const,
  })),
  {
    // The project `npm run send -- PROJECT_CREATED` creates holds the document that
    // `npm run send -- BEFORE_UPDATE_LABELS` labels, so the enrichment finds it there.
    id: 'N2E4MjNlYTc',
    name: 'hamlet.TXT',
    status: 'IN_REVIEW' as const,
    documents: [
      { id: labelledDocument.id, originId: labelledDocument.originId, name: labelledDocument.name },
    ],
  },
  {
    id: 'T2P1',
    name: 'T2P1.txt',
    status: 'COMPLETE' as const,
    team: { id: '2', name: 'Review Team' },
  },
];

const USAGE = `Usage: npm run fake-datasaur

  Runs the fake Datasaur API until Ctrl-C. Its settings are environment variables:
  FAKE_DATASAUR_PORT (default ${DEFAULT_FAKE_DATASAUR_PORT}; 0 picks a free one), FAKE_DATASAUR_HOST
  (default 127.0.0.1), DATASAUR_CLIENT_ID and DATASAUR_CLIENT_SECRET (the credentials it takes).

  -h, --help  this text
`;
acceptOnlyHelp(process.argv.slice(2), USAGE, 'npm run fake-datasaur: ');

let settings: { port: number; host: string; clientId: string; clientSecret: string };
try {
  settings = {
    port: integerEnv('FAKE_DATASAUR_PORT', DEFAULT_FAKE_DATASAUR_PORT, { min: 0, max: 65_535 }),
    host: optionalEnv('FAKE_DATASAUR_HOST', '127.0.0.1'),
    clientId: optionalEnv('DATASAUR_CLIENT_ID', FAKE_DATASAUR_CREDENTIALS.clientId),
    clientSecret: optionalEnv('DATASAUR_CLIENT_SECRET', FAKE_DATASAUR_CREDENTIALS.clientSecret),
  };
} catch (error) {
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(`npm run fake-datasaur: ${error.message}`);
  process.exit(2);
}

let fake: Awaited<ReturnType<typeof startFakeDatasaur>>;
try {
  fake = await startFakeDatasaur({ ...settings, projects: SEED_PROJECTS, teams: SEED_TEAMS });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  console.error(
    code === 'EADDRINUSE'
      ? `npm run fake-datasaur: port ${settings.port} is in use: set FAKE_DATASAUR_PORT to a free port (0 picks one)`
      : `npm run fake-datasaur: ${String(error)}`,
  );
  process.exit(1);
}

console.log(`Fake Datasaur API
  URL            ${fake.url}  (token: POST /api/oauth/token, GraphQL: POST /graphql)
  client id      ${fake.clientId}
  client secret  ${fake.clientSecret}
  teams          ${SEED_TEAMS.map((team) => `${team.id} (${team.name})`).join(', ')}
  projects       ${fake
    .projects()
    .map((project) => project.id)
    .join(
      ', ',
    )}  (add: curl -X POST ${fake.url}/admin/projects -d '{"id":"P9","status":"COMPLETE"}')

Next, in another terminal:
  DATASAUR_API_URL=${fake.url} DATASAUR_CLIENT_ID=${fake.clientId} DATASAUR_CLIENT_SECRET=${fake.clientSecret} npm start
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
}
