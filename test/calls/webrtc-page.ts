/**
 * The test page of the WebRTC call test: a browser client of livegate's native /ws protocol that
 * places or answers a call and runs a real RTCPeerConnection with a data channel over the call's
 * signaling. Served by the test itself (a node http server); driven through page.evaluate.
 */
export const CALL_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>livegate call</title></head><body>
<script>
(() => {
  const lg = (window.lg = { events: [], received: [], log: [], state: {} });
  let ws, nextId = 1;
  const acks = new Map();
  const waiters = [];
  lg.connect = (url, token) => new Promise((resolve, reject) => {
    ws = new WebSocket(url + '/ws?token=' + encodeURIComponent(token));
    ws.onerror = () => reject(new Error('socket error'));
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.ack !== undefined) { const a = acks.get(f.ack); acks.delete(f.ack); if (a) (f.error ? a.reject(new Error(f.error.code + ': ' + f.error.message)) : a.resolve(f.data)); return; }
      if (!f.event) return;
      lg.events.push(f);
      if (f.event === 'session:ready') { lg.state.connectionId = f.data.connectionId; resolve(f.data); }
      for (const w of [...waiters]) if (w.event === f.event && w.match(f.data)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(f.data); }
      const h = lg.on[f.event]; if (h) Promise.resolve(h(f.data)).catch((e) => lg.log.push('handler ' + f.event + ': ' + e));
    };
  });
  lg.on = {};
  lg.request = (event, data) => new Promise((resolve, reject) => { const id = nextId++; acks.set(id, { resolve, reject }); ws.send(JSON.stringify({ event, id, data })); });
  lg.waitFor = (event, match = () => true, ms = 20000) => {
    const seen = lg.events.find((f) => f.event === event && match(f.data));
    if (seen) return Promise.resolve(seen.data);
    return new Promise((resolve, reject) => { waiters.push({ event, match, resolve }); setTimeout(() => reject(new Error('no ' + event + ' in ' + ms + ' ms; log: ' + lg.log.join(' | '))), ms); });
  };

  /** One peer connection whose description and candidates go through call:signal. */
  function peer(callId) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    lg.pc = pc;
    pc.onicecandidate = (e) => { if (e.candidate) lg.request('call:signal', { callId, kind: 'candidate', data: e.candidate.toJSON() }).catch((err) => lg.log.push('candidate: ' + err)); };
    pc.onconnectionstatechange = () => lg.log.push('pc ' + pc.connectionState);
    // Signals are handled one after the other (a candidate must not overtake the offer it belongs to).
    let chain = Promise.resolve();
    lg.on['call:signal'] = (s) => (chain = chain.then(() => handle(s)));
    const handle = async (s) => {
      if (s.callId !== callId) return;
      if (s.kind === 'offer') {
        await pc.setRemoteDescription(s.data);
        await pc.setLocalDescription(await pc.createAnswer());
        await lg.request('call:signal', { callId, kind: 'answer', data: { type: 'answer', sdp: pc.localDescription.sdp } });
      } else if (s.kind === 'answer') await pc.setRemoteDescription(s.data);
      else if (s.kind === 'candidate') await pc.addIceCandidate(s.data);
    };
    lg.on['call:ended'] = (e) => { if (e.callId === callId) { lg.state.ended = e; pc.close(); } };
    return pc;
  }
  const channelOpen = (ch) => new Promise((resolve) => { if (ch.readyState === 'open') resolve(); else ch.onopen = () => resolve(); });

  /** Callee: answers the first call that rings on this device, then echoes what the data channel says. */
  lg.answerCalls = () => {
    lg.on['call:ringing'] = async (r) => {
      const pc = peer(r.callId);
      pc.ondatachannel = (e) => {
        const ch = e.channel;
        ch.onmessage = (m) => { lg.received.push(m.data); ch.send('echo: ' + m.data); };
        ch.onclose = () => lg.log.push('channel closed');
      };
      await lg.request('call:accept', { callId: r.callId });
    };
  };

  /** Caller: invites, waits for the answer, offers a data channel and exchanges one message. */
  lg.call = async (conversationId, text) => {
    const { callId } = await lg.request('call:invite', { conversationId, media: 'audio' });
    const pc = peer(callId);
    const ch = pc.createDataChannel('chat');
    const reply = new Promise((resolve) => { ch.onmessage = (m) => resolve(m.data); });
    await lg.waitFor('call:accepted', (a) => a.callId === callId);
    await pc.setLocalDescription(await pc.createOffer());
    await lg.request('call:signal', { callId, kind: 'offer', data: { type: 'offer', sdp: pc.localDescription.sdp } });
    await channelOpen(ch);
    ch.send(text);
    const answer = await reply;
    // The state attribute is updated by its own task and may trail the first message on a busy box.
    if (pc.connectionState !== 'connected')
      await new Promise((resolve) => { pc.addEventListener('connectionstatechange', () => { if (pc.connectionState !== 'connecting') resolve(); }); setTimeout(resolve, 10000); });
    return { callId, reply: answer, connectionState: pc.connectionState };
  };
})();
</script></body></html>`;
