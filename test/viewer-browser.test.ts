import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startViewer, type Viewer } from '@tracewire/viewer';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper without types, shared with the demo
import { startServices } from '../examples/start-services.mjs';

// Headless Debian Chromium (`.ci/run` installs it) driven by playwright-core against a real viewer that the three
// demo services (separate processes) export to. Chromium missing is a failure, never a skip.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'test-output');

// Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the viewer page in Chromium, after demo traffic', () => {
  let viewer: Viewer;
  let services: { gatewayUrl: string; stop(): Promise<void> } | undefined;
  let browser: BrowserContext | undefined;
  let profile: string;
  const traceId = randomBytes(16).toString('hex');

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`,
      );
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    viewer = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database: ':memory:' });
    const demo: { gatewayUrl: string; stop(): Promise<void> } = await startServices({
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: viewer.urls.otlp, OTEL_BSP_SCHEDULE_DELAY: '100' },
    });
    services = demo;
    // Order 3's warehouse is down: a 5xx from inventory travels back through orders and the gateway.
    const failing = await fetch(`${demo.gatewayUrl}/api/orders/3`, {
      headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    });
    await failing.arrayBuffer();
    for (const path of ['/api/orders/1', '/api/products/sku-1'])
      await (await fetch(demo.gatewayUrl + path)).arrayBuffer();
    const deadline = Date.now() + 15_000;
    while (new Set(viewer.store.getTrace(traceId)?.spans.map((s) => s.service)).size < 3) {
      if (Date.now() > deadline)
        throw new Error('the demo trace never reached the viewer from all three services');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    profile = mkdtempSync(join(tmpdir(), 'tracewire-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await services?.stop();
    await viewer?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  }, 30_000);

  it('finds the demo trace in the list, opens its waterfall with spans from all three services, and a span', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(viewer.urls.ui);

    const row = page.locator(`.trace-row[data-trace-id="${traceId}"]`);
    await row.waitFor({ timeout: 10_000 });
    await expect(row.textContent()).resolves.toMatch(/gateway\s*GET \/api\/orders\/:id/);
    await expect(row.locator('.error-badge').count()).resolves.toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-trace-list.png'), fullPage: true });

    await row.click();
    await page.locator('.span-row').first().waitFor();
    expect(page.url()).toContain(`#/trace/${traceId}`);
    const rows = page.locator('.span-row');
    const spanServices = await rows.evaluateAll((elements) =>
      elements.map((e) => e.getAttribute('data-service')),
    );
    expect(new Set(spanServices)).toEqual(new Set(['gateway', 'orders', 'inventory']));
    expect(spanServices[0]).toBe('gateway');
    expect(await page.locator('.span-row.error').count()).toBeGreaterThan(0);

    const inventory = page.locator('.span-row[data-service="inventory"]').first();
    await inventory.click();
    const details = page.locator('#span-details');
    await details.waitFor({ state: 'visible' });
    await expect(details.locator('h2').textContent()).resolves.toBe('GET /inventory/:sku');
    await expect(details.textContent()).resolves.toMatch(/Attributes.*http\.route.*\/inventory\/:sku/s);
    await expect(details.textContent()).resolves.toMatch(/Resource.*service\.name.*inventory/s);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-waterfall.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 60_000);

  it('filters the list to errors in one service and draws the service map', async () => {
    const page = await browser!.newPage();
    await page.goto(`${viewer.urls.ui}/#/?service=inventory&errorsOnly=true`);
    await page.locator(`.trace-row[data-trace-id="${traceId}"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('a.trace-row').count()).toBe(1);

    await page.click('nav a[data-tab="map"]');
    await page.locator('svg.map .node').first().waitFor();
    const nodes = await page.locator('svg.map .node-name').allTextContents();
    expect(nodes.sort()).toEqual(['gateway', 'inventory', 'orders']);
    await expect(page.locator('svg.map .edge-label.error').count()).resolves.toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'viewer-service-map.png'), fullPage: true });
  }, 60_000);

  it('shows spans whose parents form a cycle, as roots, and a chain deeper than the call stack', async () => {
    const cycleTrace = randomBytes(16).toString('hex');
    const span = (spanId: string, parentSpanId: string, startUs: number) => ({
      traceId: cycleTrace,
      spanId,
      parentSpanId,
      name: `op ${spanId.slice(-1)}`,
      kind: 'internal' as const,
      service: 'cycle',
      startUs,
      durationUs: 1000,
      statusCode: 0 as const,
      attributes: {},
      resource: { 'service.name': 'cycle' },
      scope: { name: 'test' },
      events: [],
      links: [],
    });
    const base = Date.now() * 1000;
    // One span its own parent; two that name each other.
    viewer.store.insert([
      span('000000000000000a', '000000000000000a', base),
      span('000000000000000b', '000000000000000c', base + 10),
      span('000000000000000c', '000000000000000b', base + 20),
    ]);
    const page = await browser!.newPage();
    await page.goto(`${viewer.urls.ui}/#/trace/${cycleTrace}`);
    await page.locator('.span-row').first().waitFor();
    // Before: no walk from a root reached them, and the waterfall was empty.
    expect(await page.locator('.span-row').count()).toBe(3);

    // A chain deeper than the page's call stack allows a recursive walk.
    const deepTrace = randomBytes(16).toString('hex');
    const depth = 15_000;
    viewer.store.insert(
      Array.from({ length: depth }, (_, i) => ({
        ...span((i + 1).toString(16).padStart(16, '0'), i.toString(16).padStart(16, '0'), base + i),
        traceId: deepTrace,
      })),
    );
    const deepPage = await browser!.newPage();
    const errors: string[] = [];
    deepPage.on('pageerror', (error) => errors.push(error.message));
    await deepPage.goto(`${viewer.urls.ui}/#/trace/${deepTrace}`);
    await deepPage.locator('.span-row').first().waitFor({ timeout: 30_000 });
    expect(await deepPage.locator('.span-row').count()).toBe(depth);
    expect(errors).toEqual([]);
  }, 90_000);
});
