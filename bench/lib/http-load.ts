/**
 * One autocannon run in its own process, so its CPU can be measured apart from the orchestrator.
 * Usage: node http-load.js <url> <GET|POST> <body> <seconds> <connections>  -> one JSON line.
 */
import { createRequire } from 'node:module';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
const [url, method, body, seconds, connections] = process.argv.slice(2);

const result = await autocannon({
  url,
  method,
  duration: Number(seconds),
  connections: Number(connections),
  ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}),
});
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({
    requestsPerSec: result.requests.average,
    total: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    cpuS: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
