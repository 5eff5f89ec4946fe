import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, vi } from 'vitest';
import { freePort, RedisServer } from './redis-server.js';

/**
 * A real three-master Redis Cluster on loopback (Debian's redis-server and redis-cli), each node on a free port,
 * with its cluster state in a temporary directory removed on stop. For the tests that prove the store's keys and
 * scripts are Cluster-safe.
 */
export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    private readonly directory: string,
  ) {}

  static async start(): Promise<RedisCluster> {
    const directory = mkdtempSync(join(tmpdir(), 'nest-resilience-cluster-'));
    const nodes: RedisServer[] = [];
    for (let i = 0; i < 3; i++) {
      // The cluster bus gets a free port of its own (by default it is port + 10000, which may not exist).
      const busPort = String(await freePort());
      const config = join(directory, `node-${i}.conf`);
      nodes.push(
        await RedisServer.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          config,
          '--cluster-port',
          busPort,
        ]),
      );
    }
    await promisify(execFile)('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const cluster = new RedisCluster(nodes, directory);
    await cluster.waitUntilReady();
    return cluster;
  }

  /** Where an ioredis `Cluster` client starts. */
  get startupNodes(): { host: string; port: number }[] {
    return this.nodes.map((node) => ({ host: '127.0.0.1', port: node.port }));
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    await vi.waitFor(
      async () => {
        const { stdout } = await promisify(execFile)('redis-cli', [
          '-p',
          String(this.nodes[0].port),
          'cluster',
          'info',
        ]);
        expect(stdout, 'the Redis Cluster did not become ready').toContain('cluster_state:ok');
      },
      { timeout: 5_000, interval: 50 },
    );
  }
}
