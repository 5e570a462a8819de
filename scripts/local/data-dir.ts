/**
 * DATA_DIR: created if needed, checked writable, and locked for one `npm start` at a time
 * (two dynalite servers on one LevelDB folder would crash the second).
 */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning } from './processes.ts';
import { StartupError } from './startup-error.ts';

const LOCK_FILE = 'npm-start.pid';

/** Prepares DATA_DIR and takes its lock; returns the function that releases it. */
export function lockDataDir(dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK);
  } catch (error) {
    throw new StartupError(
      `DATA_DIR ${dataDir} is not a writable folder (${errorCode(error)}); set DATA_DIR to one that is`,
    );
  }
  const lockPath = join(dataDir, LOCK_FILE);
  takeLock(lockPath);
  return () => rmSync(lockPath, { force: true });
}

function takeLock(lockPath: string): void {
  try {
    writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
    return;
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') {
      throw new StartupError(`cannot write ${lockPath} (${errorCode(error)})`);
    }
  }
  const holder = Number(readFileSync(lockPath, 'utf8').trim());
  if (Number.isInteger(holder) && holder > 0 && isRunning(holder)) {
    throw new StartupError(
      `DATA_DIR is in use by another npm start (pid ${holder}): stop it, set DATA_DIR to another folder, or delete ${lockPath} if that process is not npm start`,
    );
  }
  // Left behind by a start that was killed: nobody holds it any more.
  rmSync(lockPath, { force: true });
  writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}
