// V8's sampling heap profiler inside a bench server, driven over IPC by allocations.mjs. It samples an allocation
// about every `interval` bytes and keeps the samples of objects the garbage collector freed since: what a request
// allocated, not what outlived it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

let session;

function post(method, params) {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

export async function startSampling(interval) {
  session ??= new Session();
  session.connect();
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', {
    samplingInterval: interval,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

/** Stops sampling and writes the profile (Chrome DevTools' `.heapprofile` format) to `file`. */
export async function stopSampling(file) {
  const { profile } = await post('HeapProfiler.stopSampling');
  await post('HeapProfiler.disable');
  session.disconnect();
  writeFileSync(file, JSON.stringify(profile));
}
