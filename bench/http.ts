/**
 * HTTP throughput and p99 latency of a Nest 12 endpoint on loopback, bare and guarded, on Express and Fastify.
 * Each server runs in its own fresh process; autocannon (in this process) loads it. Run: `npm run bench:http`.
 * BENCH_SECONDS (default 5) sets the duration of each run, BENCH_CONNECTIONS (default 50) the concurrency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const variants = (process.env.BENCH_VARIANTS ?? 'bare,ratelimit,throttler,resilience,cockatiel').split(',');
const platforms = (process.env.BENCH_PLATFORMS ?? 'express,fastify').split(',');
const server = fileURLToPath(new URL('./http-server.js', import.meta.url));

const labels: Record<string, string> = {
  bare: 'bare',
  ratelimit: 'nest-resilience @RateLimit',
  throttler: '@nestjs/throttler @Throttle',
  resilience: 'nest-resilience, all six decorators',
  cockatiel: 'cockatiel wrap() in an interceptor',
};

function start(platform: string, variant: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [server, platform, variant, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`${platform}/${variant} exited with ${code}`)));
  });
}

interface Row {
  platform: string;
  variant: string;
  requests: number;
  p99: number;
  non2xx: number;
}

const rows: Row[] = [];
let port = 3200;
for (const platform of platforms) {
  for (const variant of variants) {
    port++;
    const child = await start(platform, variant, port);
    const url = `http://127.0.0.1:${port}/hello`;
    await autocannon({ url, connections, duration: 1 }); // warm-up
    const result = await autocannon({ url, connections, duration: seconds });
    child.kill();
    rows.push({ platform, variant, requests: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx });
  }
}

const lines = [
  `HTTP on loopback, Node ${process.version}, autocannon ${connections} connections x ${seconds} s per row (after 1 s warm-up), each server in a fresh process`,
  '',
  '| platform | endpoint | req/s | vs bare | p99 ms | non-2xx |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
];
for (const row of rows) {
  const bare = rows.find((candidate) => candidate.platform === row.platform && candidate.variant === 'bare');
  const ratio = bare ? `${Math.round((row.requests / bare.requests) * 100)}%` : '-';
  lines.push(`| ${row.platform} | ${labels[row.variant] ?? row.variant} | ${Math.round(row.requests)} | ${ratio} | ${row.p99} | ${row.non2xx} |`);
}
const report = lines.join('\n');
console.log(report);
writeFileSync(new URL('../../bench/results-http.md', import.meta.url), `${report}\n`);
