import { sdkWarn } from './sdk-warn.js';

/** Where a warning about an invalid environment variable goes. */
export type EnvWarn = (message: string) => void;

const warned = new Set<string>();

/** `console.warn` (under OTEL_LOG_LEVEL), once per message: each `configure()` and adapter reads the variables. */
export const warnOfEnv: EnvWarn = (message) => {
  if (warned.has(message)) return;
  if (warned.size < 100) warned.add(message);
  sdkWarn(message);
};

/**
 * `parse()`, or `undefined` with a warning when it throws. OpenTelemetry SDK environment variable spec: an invalid
 * value is reported and ignored ("MUST generate a warning and gracefully ignore the setting"), so a variable set
 * for a whole platform, or for another SDK, never keeps a service from starting. Invalid code options still throw.
 */
export function orIgnored<T>(warn: EnvWarn, parse: () => T, instead?: string): T | undefined {
  try {
    return parse();
  } catch (error) {
    warnIgnored(warn, error instanceof Error ? error.message : String(error), instead);
    return undefined;
  }
}

/** Reports an invalid environment value and what tracewire does instead. */
export function warnIgnored(
  warn: EnvWarn,
  problem: string,
  instead = 'the variable is ignored and its default used',
): void {
  try {
    warn(`tracewire: ${problem}; ${instead}.`);
  } catch {
    // A throwing warn function must not turn an ignored variable into a failed start.
  }
}
