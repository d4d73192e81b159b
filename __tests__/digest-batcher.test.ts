// The signing-server client's batching, against a scripted server: what goes in which request, and
// that each file keeps its own outcome, throttling and cancellation.
import { describe, expect, it } from '@jest/globals';
import { DigestBatcher, type ItemAnswer } from '../src/signers/signing-server/digest-batcher.js';

interface Sent {
  readonly items: readonly string[];
  readonly signal: AbortSignal;
  answer(answers: readonly ItemAnswer<string>[]): void;
  fail(error: Error): void;
}

/** A batcher whose requests wait until the test answers them. */
function scripted(limits: Partial<ConstructorParameters<typeof DigestBatcher>[2]> = {}) {
  const sent: Sent[] = [];
  const throttled: number[] = [];
  const batcher = new DigestBatcher<string, string>(
    (items, signal) =>
      new Promise((resolve, reject) => sent.push({ items, signal, answer: resolve, fail: reject })),
    (ms) => throttled.push(ms),
    { maxBatch: 3, maxInFlight: 4, lingerMs: 60_000, maxThrottled: 2, ...limits },
  );
  return { batcher, sent, throttled };
}

const signed = (items: readonly string[]) => items.map((item) => ({ value: `sig(${item})` }));
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the signing-server client batches digests', () => {
  it('sends the first at once; those arriving meanwhile wait for its answer and go together, up to maxBatch', async () => {
    const { batcher, sent } = scripted();
    const results = ['a', 'b', 'c', 'd', 'e'].map((item) => batcher.submit(item));
    expect(sent.map((s) => s.items)).toEqual([['a']]);
    sent[0].answer(signed(['a']));
    await settled();
    expect(sent.map((s) => s.items)).toEqual([['a'], ['b', 'c', 'd']]);
    sent[1].answer(signed(['b', 'c', 'd']));
    await settled();
    expect(sent.map((s) => s.items)).toEqual([['a'], ['b', 'c', 'd'], ['e']]);
    sent[2].answer(signed(['e']));
    await expect(Promise.all(results)).resolves.toEqual(['sig(a)', 'sig(b)', 'sig(c)', 'sig(d)', 'sig(e)']);
  });

  it('sends the waiting ones after lingerMs when the answer is slow (a distant server)', async () => {
    const { batcher, sent } = scripted({ lingerMs: 20 });
    const results = ['a', 'b', 'c'].map((item) => batcher.submit(item));
    expect(sent).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sent.map((s) => s.items)).toEqual([['a'], ['b', 'c']]);
    sent[1].answer(signed(['b', 'c']));
    sent[0].answer(signed(['a']));
    await expect(Promise.all(results)).resolves.toEqual(['sig(a)', 'sig(b)', 'sig(c)']);
  });

  it("gives each item its own outcome: one file's refusal fails that file only", async () => {
    const { batcher, sent } = scripted();
    const first = batcher.submit('a');
    const [ok, refused] = [batcher.submit('b'), batcher.submit('c')];
    sent[0].answer(signed(['a']));
    await settled();
    sent[1].answer([{ value: 'sig(b)' }, { error: new Error('HTTP 400: digest: expected 32 bytes') }]);
    await expect(first).resolves.toBe('sig(a)');
    await expect(ok).resolves.toBe('sig(b)');
    await expect(refused).rejects.toThrow('HTTP 400: digest: expected 32 bytes');
  });

  it('sends a throttled item again after telling the gate, and fails it once throttled maxThrottled times', async () => {
    const { batcher, sent, throttled } = scripted();
    const [a, b] = [batcher.submit('a'), batcher.submit('b')];
    const slow = () => ({ error: new Error('HTTP 429: over 2 signatures a minute'), retryAfterMs: 1500 });
    sent[0].answer([slow()]);
    await settled();
    expect(throttled).toEqual([1500]);
    expect(sent.map((s) => s.items)).toEqual([['a'], ['b', 'a']]);
    sent[1].answer([{ value: 'sig(b)' }, slow()]);
    await expect(b).resolves.toBe('sig(b)');
    await expect(a).rejects.toThrow('HTTP 429');
    expect(throttled).toEqual([1500]);
    expect(sent).toHaveLength(2);
  });

  it('drops a cancelled item at once; the request goes on for the others and ends when all of it is cancelled', async () => {
    const { batcher, sent } = scripted();
    const first = batcher.submit('a');
    const [one, two, three] = [new AbortController(), new AbortController(), new AbortController()];
    const b = batcher.submit('b', one.signal);
    const c = batcher.submit('c', two.signal);
    const d = batcher.submit('d', three.signal);
    // Cancelled while waiting: never sent.
    one.abort(new Error('cancelled b'));
    await expect(b).rejects.toThrow('cancelled b');
    sent[0].answer(signed(['a']));
    await expect(first).resolves.toBe('sig(a)');
    await settled();
    expect(sent[1].items).toEqual(['c', 'd']);
    two.abort(new Error('cancelled c'));
    await expect(c).rejects.toThrow('cancelled c');
    expect(sent[1].signal.aborted).toBe(false);
    three.abort(new Error('cancelled d'));
    await expect(d).rejects.toThrow('cancelled d');
    expect(sent[1].signal.aborted).toBe(true);
    // A late answer changes nothing.
    sent[1].answer(signed(['c', 'd']));
    await settled();
    expect(sent).toHaveLength(2);
  });

  it('refuses an item whose signal is already aborted, and fails every item of a request that fails', async () => {
    const { batcher, sent } = scripted();
    await expect(batcher.submit('x', AbortSignal.abort(new Error('stopped')))).rejects.toThrow('stopped');
    expect(sent).toHaveLength(0);
    const [a, b] = [batcher.submit('a'), batcher.submit('b')];
    sent[0].fail(new Error('signing server: HTTP 401'));
    await expect(a).rejects.toThrow('HTTP 401');
    await settled();
    sent[1].fail(new Error('signing server: HTTP 503'));
    await expect(b).rejects.toThrow('HTTP 503');
  });
});
