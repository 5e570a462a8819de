/** Which processes still run, and noticing when the one that started us has gone. */

const PARENT_CHECK_MS = 250;

/** Whether `pid` names a running process (ours or someone else's). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `onGone` once when the parent process has exited. A supervisor that signals `npm`
 * alone stops npm and its shell, which forward nothing further: without this, `npm start`
 * would run on as an orphan holding its ports.
 */
export function whenParentExits(onGone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (isRunning(parent)) return;
    clearInterval(timer);
    onGone();
  }, PARENT_CHECK_MS);
  // Never what keeps the process alive.
  timer.unref();
}
