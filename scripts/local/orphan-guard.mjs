/**
 * Runs a command as its child and ends it when this process's stdin closes. The process that
 * started us holds the other end of that pipe, so the child cannot outlive it, even when it
 * is killed with SIGKILL. SIGTERM and SIGINT are passed on. Used for DynamoDB Local's JVM.
 */
import { spawn } from 'node:child_process';

const [command = '', ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.once('error', (error) => {
  console.error(`orphan-guard: ${error.code ?? error.message}`);
  process.exit(127);
});
child.once('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
process.stdin.once('end', () => child.kill('SIGKILL'));
process.stdin.once('error', () => child.kill('SIGKILL'));
process.stdin.resume();
