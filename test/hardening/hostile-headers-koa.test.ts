import { fuzzAdapter } from './fuzz/fuzz-adapter.js';

// Hostile trace headers at a running Koa app: see fuzz/fuzz-adapter.ts. TRACEWIRE_FUZZ_RUNS sets the cases per
// adapter (default 34,000, so 102,000 a run across the three files); TRACEWIRE_FUZZ_SEED replays a failure.
fuzzAdapter('koa');
