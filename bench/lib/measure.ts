/** One measured window of a load: CPU of every party, and who ran out of CPU first. */
import { availableParallelism } from 'node:os';
import type { Target } from './targets.js';

export interface CpuSample {
  wall: number;
  /** CPU seconds per server process (one per node). */
  servers: number[];
  redis: number;
  /** MongoDB (FerretDB) process, when a workload persists (chat); absent otherwise. */
  mongo?: number;
  client: number;
  machine: number;
  /** Kernel softirq time (loopback TCP processing lands here, for our traffic as for anyone's). */
  softirq: number;
}

export const CORES = availableParallelism();

export interface Utilisation {
  /** Busiest server process, in cores. */
  serverMax: number;
  serverSum: number;
  client: number;
  redis: number;
  mongo: number;
  /** Everything else on the box (other helpers' tests, the orchestrator, kernel softirq work). */
  others: number;
  softirq: number;
  machine: number;
}

export function utilisation(s: CpuSample): Utilisation {
  const w = s.wall || 1;
  const serverSum = s.servers.reduce((a, b) => a + b, 0) / w;
  const client = s.client / w;
  const redis = s.redis / w;
  const mongo = (s.mongo ?? 0) / w;
  const machine = s.machine / w;
  return {
    serverMax: Math.max(...s.servers) / w,
    serverSum,
    client,
    redis,
    mongo,
    machine,
    softirq: s.softirq / w,
    others: Math.max(0, machine - serverSum - client - redis - mongo),
  };
}

/** Names what limited a step: a saturated server thread, or a box with no CPU left (then the bigger user). */
export function bottleneck(target: Target, u: Utilisation): string {
  const parts = `server ${u.serverSum.toFixed(2)}, client ${u.client.toFixed(2)}${u.redis > 0.05 ? `, redis ${u.redis.toFixed(2)}` : ''}${u.mongo > 0.05 ? `, FerretDB ${u.mongo.toFixed(2)}` : ''}, others ${u.others.toFixed(2)} (softirq ${u.softirq.toFixed(2)}) cores`;
  if (!target.multiThreaded && u.serverMax >= 0.9) return `server CPU (one thread at ${(u.serverMax * 100).toFixed(0)}%; ${parts})`;
  if (u.machine >= 0.9 * CORES) {
    const server = u.serverSum + u.redis;
    // Softirq may be our own loopback traffic, so only the rest counts against other processes.
    if (u.others - u.softirq > Math.max(server, u.client)) return `box CPU taken by other processes (${parts})`;
    const who = u.client > server ? 'client CPU' : 'server CPU';
    return `${who} (box saturated: ${parts})`;
  }
  return `neither CPU-bound (${parts})`;
}
