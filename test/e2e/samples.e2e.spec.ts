import { describe, expect, it } from 'vitest';
import { runSample } from '../support/run-sample.js';

describe('the numbered samples, built and run as a user runs them', () => {
  it('01-services charges ten payments through the policies and exits', async () => {
    const output = await runSample('sample/01-services/main.js');
    expect(output.split('\n').filter((line) => /^(charged|failed)/.test(line))).toHaveLength(10);
  });

  it('08-http-client charges ten orders through a flaky gateway, each exactly once', async () => {
    const output = await runSample('sample/08-http-client/main.js');
    expect(output.split('\n').filter((line) => /^order \d+ charged ch_\d+$/.test(line))).toHaveLength(10);
    expect(output).toMatch(/NETWORK_ERROR/); // answers were lost, and retried
    expect(output).toContain('the gateway charged 10 times for 10 orders');
  });
});
