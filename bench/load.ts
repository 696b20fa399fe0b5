/**
 * The load generator: autocannon, used from code, with every response's
 * latency kept by status (autocannon's own histogram keeps 2xx only, in
 * whole milliseconds; the gate's 409s matter here, at sub-millisecond scale).
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  port: number;
  connections: number;
  durationSec: number;
  timeoutSec: number;
  /** Request bodies; one is picked at random per request when there are several. */
  bodies: string[];
  /** Called about four times a second with the responses so far. */
  onTick?: (elapsedSec: number, responses: number) => void;
}

export interface LoadResult {
  /** Seconds from the first request to the end. */
  elapsedSec: number;
  /** Responses received, whatever their status. */
  responses: number;
  byStatus: Record<number, number>;
  /** Connection errors and timeouts (autocannon's `errors`, which counts timeouts too). */
  errors: number;
  timeouts: number;
  /** Latencies in ms. */
  latency: { all: number[]; created: number[]; rejected: number[] };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { bodies } = options;
  const byStatus: Record<number, number> = {};
  const latency = { all: [] as number[], created: [] as number[], rejected: [] as number[] };
  const headers = { 'content-type': 'application/json' };
  const request: autocannon.Request =
    bodies.length === 1
      ? { method: 'POST', path: '/orders', headers, body: bodies[0] }
      : {
          method: 'POST',
          path: '/orders',
          headers,
          setupRequest: (req) => ({ ...req, body: bodies[Math.floor(Math.random() * bodies.length)] }),
        };

  const started = performance.now();
  let ticker: ReturnType<typeof setInterval> | undefined;
  try {
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const instance = autocannon(
        {
          url: `http://127.0.0.1:${options.port}`,
          connections: options.connections,
          duration: options.durationSec,
          timeout: options.timeoutSec,
          requests: [request],
        },
        (error: unknown, result: autocannon.Result) => (error ? reject(error as Error) : resolve(result)),
      );
      instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        byStatus[statusCode] = (byStatus[statusCode] ?? 0) + 1;
        latency.all.push(responseTime);
        if (statusCode === 201) latency.created.push(responseTime);
        else if (statusCode === 409) latency.rejected.push(responseTime);
      });
      if (options.onTick) {
        const onTick = options.onTick;
        ticker = setInterval(() => onTick((performance.now() - started) / 1000, latency.all.length), 250);
      }
    });
    return {
      elapsedSec: (performance.now() - started) / 1000,
      responses: latency.all.length,
      byStatus,
      errors: result.errors,
      timeouts: result.timeouts,
      latency,
    };
  } finally {
    if (ticker) clearInterval(ticker);
  }
}
