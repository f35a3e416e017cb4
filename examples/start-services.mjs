// Starts the three demo services as separate processes, leaf first, each told where the next one listens.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

function startService(file, env) {
  const child = spawn(process.execPath, [file], {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk) => {
    output += chunk;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${output}`)), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited with ${code}:\n${output}`));
    });
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ child, url: match[1], output: () => output });
      }
    });
  });
}

async function stopService(service) {
  if (service.child.exitCode !== null) return;
  const exited = once(service.child, 'exit');
  // SIGTERM lets tracewire flush its queue before the process goes, as it would in a real deployment.
  service.child.kill('SIGTERM');
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * @param {{ env?: Record<string, string> }} options environment for all three services
 *   (for example OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_PROPAGATORS)
 */
export async function startServices({ env = {} } = {}) {
  const started = [];
  const stop = () => Promise.all(started.map(stopService));
  try {
    const inventory = await startService('inventory.mjs', { OTEL_SERVICE_NAME: 'inventory', ...env });
    started.push(inventory);
    const orders = await startService('orders.mjs', {
      OTEL_SERVICE_NAME: 'orders',
      INVENTORY_URL: inventory.url,
      ...env,
    });
    started.push(orders);
    const gateway = await startService('gateway.mjs', {
      OTEL_SERVICE_NAME: 'gateway',
      ORDERS_URL: orders.url,
      INVENTORY_URL: inventory.url,
      ...env,
    });
    started.push(gateway);
    return { gatewayUrl: gateway.url, services: { gateway, orders, inventory }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
