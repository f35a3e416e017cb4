import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { COMMON_HEADERS, PAGE_HEADERS } from './request-guard.js';

// The page ships in the package's web/ folder, a sibling of both src/ and dist/; this file sits directly in src/ so
// that one relative URL finds it from src (tests), dist/index.js and dist/index.cjs (tsup shims import.meta.url in
// the CommonJS build).
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const ASSETS: Record<string, [file: string, contentType: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/favicon.svg': ['favicon.svg', 'image/svg+xml'],
};

/** Serves one of the page's few files; anything else is 404 (no path is ever joined from the request). */
export async function serveAsset(pathname: string, res: ServerResponse): Promise<void> {
  const asset = ASSETS[pathname];
  if (!asset) {
    res.writeHead(404, { ...COMMON_HEADERS, 'content-type': 'text/plain' }).end('not found');
    return;
  }
  try {
    const body = await readFile(WEB_DIR + asset[0]);
    res
      .writeHead(200, {
        ...(asset[0] === 'index.html' ? PAGE_HEADERS : COMMON_HEADERS),
        'content-type': asset[1],
        'content-length': body.length,
        'cache-control': 'no-cache',
      })
      .end(body);
  } catch (error) {
    res
      .writeHead(500, { 'content-type': 'text/plain' })
      .end(`viewer page missing: ${(error as Error).message}`);
  }
}
