import WebSocket from 'ws';
import { inject, it } from 'vitest';
import { makeToken, startGateway } from '../support/gateway.js';
import { startRedis } from '../support/services.js';
import { gatewayEnv, uid } from './support.js';
it('dbg', async () => {
  const totals = { true: 0, false: 0 };
  for (let round = 0; round < 14; round++) {
    const deflate = round % 2 === 0;
    const r = await startRedis();
    const env = gatewayEnv(r.url, inject('mongoUrl'), 'dbgx');
    const gws = [await startGateway(env), await startGateway(env)];
    const token = await makeToken({ sub: uid('u') });
    const socks: WebSocket[] = [];
    for (let i = 0; i < 50; i++) {
      const ws = new WebSocket(`${gws[i % 2]!.ws}/ws?token=${token}`, { perMessageDeflate: deflate });
      await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
      socks.push(ws);
    }
    await new Promise((res) => setTimeout(res, 300));
    totals[String(deflate) as 'true' | 'false'] += socks.filter((s) => s.readyState !== 1).length;
    for (const s of socks) s.close();
    for (const gw of gws) await gw.stop();
    await r.stop();
  }
  console.log('closed by deflate', JSON.stringify(totals));
}, 300000);
