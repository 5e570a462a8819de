/** `npm run console` as the console tests start it: as a user would, from npm start's banner. */
import type { ChildProcess } from 'node:child_process';
import { eventually } from './eventually.ts';
import { spawnTypeScript } from './local-stack-process.ts';
import { recordOutput } from './secret-guard.ts';

export interface ConsoleProcess {
  /** Where it serves, as it prints it: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly child: ChildProcess;
}

/** Starts `npm run console` with these flags and resolves once it prints its URL. */
export async function startConsole(
  args: string[],
  environment: NodeJS.ProcessEnv,
): Promise<ConsoleProcess> {
  const child = spawnTypeScript('scripts/console.ts', args, environment);
  let printed = '';
  const collect = (chunk: Buffer) => {
    printed += chunk;
    recordOutput(String(chunk));
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  try {
    const url = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`console exited: ${printed}`);
        return /open\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)?.[1] ?? '';
      },
      (found) => found !== '',
      30_000,
    );
    return { url, child };
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
}

/** The variables npm start's banner puts before `npm run console`, by name. */
export function printedConsoleVariables(bannerOutput: string): Record<string, string> {
  const printed = /^ {2}((?:[A-Z][A-Z0-9_]*=\S+ )*)npm run console/m.exec(bannerOutput);
  if (printed === null) throw new Error(`no npm run console in the banner:\n${bannerOutput}`);
  return Object.fromEntries(
    (printed[1] ?? '')
      .split(' ')
      .filter((assignment) => assignment !== '')
      .map((assignment) => {
        const separator = assignment.indexOf('=');
        return [assignment.slice(0, separator), assignment.slice(separator + 1)];
      }),
  );
}
