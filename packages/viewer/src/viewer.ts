import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApiHandler } from './api/api-handler.js';
import { type ResolvedViewerOptions, resolveViewerOptions, type ViewerOptions } from './options.js';
import { createReceiverHandler, ZIPKIN_PATH } from './receivers/receiver-handler.js';
import { requestGuard } from './request-guard.js';
import { TraceStore } from './store/trace-store.js';

export interface Viewer {
  /** Where each part listens, with the port actually bound (useful with port 0). */
  readonly urls: {
    /** The page; the JSON API is under `${ui}/api`. */
    ui: string;
    /** OTLP/HTTP base URL (what `OTEL_EXPORTER_OTLP_ENDPOINT` takes); spans go to `${otlp}/v1/traces`. */
    otlp: string;
    /** Zipkin v2 spans URL (what `OTEL_EXPORTER_ZIPKIN_ENDPOINT` takes). */
    zipkin: string;
  };
  readonly store: TraceStore;
  readonly options: ResolvedViewerOptions;
  /** Stops the servers and the retention timer, then closes the database. Idempotent. */
  close(): Promise<void>;
}

/** Starts the receivers, the page and API, and periodic retention, in this process. */
export async function startViewer(options: ViewerOptions = {}): Promise<Viewer> {
  const resolved = resolveViewerOptions(options);
  const store = new TraceStore(resolved.database);
  const servers: Server[] = [];
  let timer: NodeJS.Timeout | undefined;
  const close = async (): Promise<void> => {
    if (timer) clearInterval(timer);
    timer = undefined;
    await Promise.all(servers.splice(0).map(stop));
    store.close();
  };
  try {
    const enforce = (): void => {
      store.enforceRetention({ maxSpans: resolved.maxSpans, maxAgeMs: resolved.maxAgeMs });
    };
    enforce();
    timer = setInterval(enforce, resolved.retentionIntervalMs).unref();

    const guard = requestGuard(resolved.host);
    const receive = createReceiverHandler({
      maxBodyBytes: resolved.maxBodyBytes,
      guard,
      store: (decoded) => store.insert(decoded.spans),
    });
    const otlpPort = await listen(servers, receive, resolved.host, resolved.otlpPort);
    // With both receivers asked onto one fixed port, the one server serves both paths.
    const zipkinPort =
      resolved.zipkinPort !== 0 && resolved.zipkinPort === resolved.otlpPort
        ? otlpPort
        : await listen(servers, receive, resolved.host, resolved.zipkinPort);
    const host = resolved.host.includes(':') ? `[${resolved.host}]` : resolved.host;
    const base = (port: number): string => `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
    const receivers = { otlp: base(otlpPort), zipkin: base(zipkinPort) + ZIPKIN_PATH };
    const uiPort = await listen(
      servers,
      createApiHandler(store, receivers, guard),
      resolved.host,
      resolved.uiPort,
    );
    return {
      urls: { ui: base(uiPort), ...receivers },
      store,
      options: resolved,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function listen(
  servers: Server[],
  handler: RequestListener,
  host: string,
  port: number,
): Promise<number> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function stop(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
