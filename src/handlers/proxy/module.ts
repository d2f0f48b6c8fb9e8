/**
 * The event proxy to the app's backend (docs/BRIDGE.md, "Event proxy"): the dispatcher hands it
 * the events no module registered that PROXY_EVENTS names, on both dialects. Off without PROXY_URL.
 */
import type { ModuleFactory } from '../../core.js';
import { ProxyMetrics } from './metrics.js';
import { EventProxy } from './service.js';

export const proxyModule: ModuleFactory = (core) => {
  const { url, secret } = core.config.proxy;
  if (!url || !secret) return { name: 'proxy' };
  const proxy = new EventProxy({
    config: { ...core.config.proxy, url, secret },
    nodeId: core.config.nodeId,
    hub: core.hub,
    metrics: new ProxyMetrics(core.metrics.registry),
    log: core.log.child({ component: 'proxy' }),
  });
  return {
    name: 'proxy',
    fallback: {
      label: 'proxied',
      claims: (event) => proxy.claims(event),
      handle: (ctx, event, data, args) => proxy.handle(ctx, event, data, args),
    },
  };
};
