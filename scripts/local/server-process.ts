/**
 * What a process that only runs local servers for its parent needs (servers-process.ts for
 * `npm start`, the bench's first-call-servers.ts): messages that reach the parent before the
 * process exits, and a stop that closes every server, on SIGTERM or SIGINT, or when the
 * parent goes away (its IPC channel closes), so the servers never outlive it.
 */
export interface ServerProcess<Message> {
  /** Closed last-registered first when the process stops. */
  onStop(close: () => Promise<void>): void;
  /** Resolves once the message is handed to the channel, so exiting next cannot drop it. */
  send(message: Message): Promise<void>;
  /** Closes what was registered (ignoring failures) and exits with `code`. */
  stop(code: number): Promise<void>;
}

export function serverProcess<Message>(): ServerProcess<Message> {
  const closers: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (code: number): Promise<void> => {
    stopping ??= (async () => {
      for (const close of closers.toReversed()) await close().catch(() => {});
      if (process.connected) process.disconnect();
      process.exit(code);
    })();
    return stopping;
  };
  process.once('SIGTERM', () => void stop(0));
  // A SIGINT sent to this process alone is a request to stop, as SIGTERM.
  process.once('SIGINT', () => void stop(0));
  // The parent went away without stopping us (kill -9): stop rather than hold the ports.
  process.once('disconnect', () => void stop(0));
  return {
    onStop: (close) => void closers.push(close),
    send: (message) =>
      new Promise((resolve) => {
        if (process.send === undefined || !process.connected) resolve();
        else process.send(message, undefined, {}, () => resolve());
      }),
    stop,
  };
}
