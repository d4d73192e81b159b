import {
  createHttpHeaders,
  createPipelineRequest,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { describe, expect, it } from '@jest/globals';
import { ThrottleGate } from '../src/signers/throttle-gate.js';
import { MAX_THROTTLED, throttlingPolicy } from '../src/signers/throttling-policy.js';

const answer = (request: PipelineRequest, status: number, retryAfter?: string): PipelineResponse => ({
  request,
  status,
  headers: createHttpHeaders(retryAfter === undefined ? {} : { 'retry-after': retryAfter }),
});

describe('the vault throttle gate', () => {
  it('holds every call back until the Retry-After of one throttled call', async () => {
    const policy = throttlingPolicy(new ThrottleGate());
    const sent: { call: string; at: number }[] = [];
    let throttledOnce = false;
    const next = (call: string) => async (request: PipelineRequest) => {
      sent.push({ call, at: Date.now() });
      if (call === 'a' && !throttledOnce) {
        throttledOnce = true;
        return answer(request, 429, '1');
      }
      return answer(request, 200);
    };
    const a = policy.sendRequest(createPipelineRequest({ url: 'https://vault.test/a' }), next('a'));
    // b starts after a was throttled: it must wait for the same window, not probe it.
    await new Promise((r) => setTimeout(r, 50));
    const b = policy.sendRequest(createPipelineRequest({ url: 'https://vault.test/b' }), next('b'));
    expect((await Promise.all([a, b])).map((r) => r.status)).toEqual([200, 200]);
    const [first, ...after] = sent;
    expect(first.call).toBe('a');
    expect(after.map((s) => s.call).sort()).toEqual(['a', 'b']);
    for (const s of after) expect(s.at - first.at).toBeGreaterThanOrEqual(950);
  });

  it(`gives up on a call throttled ${MAX_THROTTLED} times in a row, saying what to change`, async () => {
    const policy = throttlingPolicy(new ThrottleGate());
    let calls = 0;
    const attempt = policy.sendRequest(createPipelineRequest({ url: 'https://vault.test/x' }), async (r) => {
      calls++;
      return answer(r, 429, '0');
    });
    await expect(attempt).rejects.toThrow(
      /throttled one call 30 times in a row .*lower the concurrency input/,
    );
    expect(calls).toBe(MAX_THROTTLED);
  });

  it('stops waiting when the call is aborted (the run timeout)', async () => {
    const gate = new ThrottleGate();
    gate.close(60_000);
    const controller = new AbortController();
    const request = createPipelineRequest({ url: 'https://vault.test/y', abortSignal: controller.signal });
    const attempt = throttlingPolicy(gate).sendRequest(request, async (r) => answer(r, 200));
    controller.abort();
    await expect(attempt).rejects.toThrow(/abort/i);
  });
});
