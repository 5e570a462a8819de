/** A reason the local stack cannot start that the user can fix; shown as one line, no stack. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
