import { describe, expect, it } from 'vitest';
import { runSample } from '../support/run-sample.js';

describe('the numbered samples, built and run as a user runs them', () => {
  it('01-services charges ten payments through the policies and exits', async () => {
    const output = await runSample('sample/01-services/main.js');
    expect(output.split('\n').filter((line) => /^(charged|failed)/.test(line))).toHaveLength(10);
  });
});
