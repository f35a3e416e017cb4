/**
 * In a `node:cluster` primary, settles once every worker alive now has exited; at once anywhere else. Ctrl-C
 * signals the whole process group, workers included: a primary that ends first closes their IPC channels, and
 * Node's cluster code then calls `process.exit(0)` in each worker (`lib/internal/cluster/child.js`), cutting the
 * flush their own signal started. Loaded when a signal comes, not at start-up: most apps never fork.
 */
export async function workersExited(): Promise<void> {
  const { default: cluster } = await import('node:cluster');
  if (!cluster.isPrimary) return;
  const exits: Promise<unknown>[] = [];
  for (const worker of Object.values(cluster.workers ?? {}))
    if (worker !== undefined && !worker.isDead())
      exits.push(new Promise((resolve) => worker.once('exit', resolve)));
  await Promise.all(exits);
}
