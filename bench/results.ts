import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The sections of bench/results.md, each written by its own script, in this order. */
const SECTIONS = [
  { file: 'results-overhead.md', title: 'Per-call overhead and scaling (`npm run bench`)' },
  { file: 'results-http.md', title: 'HTTP (`npm run bench:http`)' },
  {
    file: 'results-http-same-process.md',
    title: 'HTTP, ratios inside one process (`npm run bench:http:same-process`)',
  },
  {
    file: 'results-http-goal.md',
    title: "HTTP, issue 9's goal rows in one process (see bench/README.md for the command)",
  },
  { file: 'results-redis.md', title: 'Redis rate-limit store (`npm run bench:redis`)' },
];

const benchDir = new URL('../../bench/', import.meta.url);

/**
 * Writes one script's report to its section file and rebuilds bench/results.md from every section file present, so
 * each script can be re-run alone and results.md always shows the latest figures of all.
 */
export function writeResults(file: string, report: string): void {
  writeFileSync(new URL(file, benchDir), `${report}\n`);
  const parts = [
    '# Benchmark results',
    '',
    'Written by the bench scripts; see the README, section "Performance", to reproduce.',
  ];
  for (const section of SECTIONS) {
    const path = new URL(section.file, benchDir);
    if (existsSync(path)) parts.push('', `## ${section.title}`, '', readFileSync(path, 'utf8').trimEnd());
  }
  writeFileSync(new URL('results.md', benchDir), `${parts.join('\n')}\n`);
}
