/** A logger that keeps every line, so tests can read what the handlers logged. */
export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export function recordingLogger() {
  const lines: LogLine[] = [];
  const record =
    (level: LogLine['level']) =>
    (message: string, ...extra: unknown[]): void => {
      const attributes = Object.assign({}, ...extra.filter((item) => typeof item === 'object'));
      lines.push({ level, message, attributes });
    };
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    /** Every line serialized as it would be written, for searching. */
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
  };
}
