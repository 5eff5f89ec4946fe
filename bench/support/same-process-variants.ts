/**
 * The HTTP benchmark's variants that one server process can serve side by side (`BENCH_SAME_PROCESS=1`): those that
 * need nothing beyond our module with its default (memory) stores and no global guard. There `bare` is our module
 * with the route undecorated (the fresh-process table shows that this costs nothing against Nest alone).
 */
export const SAME_PROCESS_VARIANTS = [
  'bare',
  'noop-interceptor',
  'noop-guard',
  'noop-both',
  'minimal',
  'fused-stand-in',
  'ratelimit-stand-in',
  'six-stand-ins',
  'resilience',
  'interceptor-policies',
  'ratelimit',
  'ratelimit-no-headers',
  'cockatiel',
  'post-bare',
  'post-noop-interceptor',
  'idempotent-memory',
];
