/**
 * OTEL_LOG_LEVEL (OpenTelemetry SDK configuration: the level of the SDK's own diagnostics, `none`, `error`, `warn`,
 * `info`, `debug`, `verbose` or `all`; default `info`). tracewire's own lines (a collector it cannot reach, spans it
 * drops, a variable it ignores) are warnings: `none` and `error` silence them. Read at each warning, which are few
 * and rate-limited, so a test setting the variable late still applies. An unknown value counts as the default.
 */
export function sdkWarningsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const level = env['OTEL_LOG_LEVEL']?.trim().toLowerCase();
  return level !== 'none' && level !== 'error';
}

/** Where tracewire's warnings go when the app names no `warn` function: `console.warn`, under OTEL_LOG_LEVEL. */
export function sdkWarn(message: string): void {
  if (sdkWarningsEnabled()) console.warn(message);
}
