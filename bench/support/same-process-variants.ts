/**
 * The HTTP benchmark's variants that one server process can serve side by side (`BENCH_SAME_PROCESS=1`): those that
 * need nothing beyond our module with its default (memory) stores and no global guard. There `bare` is our module
 * with the route undecorated. That is not free against Nest alone: in a fresh-process run Fastify module-only kept 86%
 * of bare by the median and 96% only for the best process; ratios here are therefore to "our module, undecorated".
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
  'idempotent-stand-in',
];
