/**
 * The livegate live-room demo: sign in with a development token, list the live streams, go live or
 * watch, and chat 1:1. One LivegateClient carries everything; it reconnects and rejoins by itself.
 */
import { $, el, show, toast } from './dom.js';
import { Inbox } from './inbox.js';
import { Presence } from './presence.js';
import { Room, type StreamCard } from './room.js';
import { devToken, errorText, Session, userIdFor } from './session.js';
import { num, str, streamIdOf, type Json } from './wire.js';

const LIST_EVERY_MS = 3000;

function connectionBadge(session: Session): void {
  const badge = $('conn');
  const set = (state: string, text: string): void => {
    badge.dataset['state'] = state;
    badge.textContent = text;
  };
  session.client.on('connecting', ({ attempt }) => set('connecting', attempt > 1 ? 'reconnecting…' : 'connecting…'));
  session.client.on('connected', () => set('connected', 'live'));
  session.client.on('disconnected', ({ willReconnect }) => set(willReconnect ? 'disconnected' : 'closed', willReconnect ? 'reconnecting…' : 'offline'));
}

async function start(name: string): Promise<void> {
  const me = await devToken(userIdFor(name), name.trim());
  const session = new Session(me);
  $('me').textContent = `${me.name} (${me.userId})`;
  connectionBadge(session);
  const presence = new Presence(session);
  let tab: 'live' | 'inbox' = 'live';
  const home = (): void => {
    if (tab === 'live') {
      show('home');
      void refresh();
    } else inbox.showList();
  };
  const room = new Room(session, presence, home);
  const inbox = new Inbox(session, presence, home);

  const refresh = async (): Promise<void> => {
    const page = await session.http<{ items?: Json[] }>('/api/livestreams?limit=50');
    const streams: StreamCard[] = (page.items ?? []).map((s) => ({
      livestreamId: streamIdOf(s),
      title: str(s['title']),
      hostId: str(s['hostId']),
      viewers: num(s['viewers']),
    }));
    room.setOtherHosts(streams);
    const items = streams.map((s) => {
      const item = el(
        'li',
        { attrs: { 'data-stream': s.livestreamId, 'data-host': s.hostId } },
        presence.dot(s.hostId, el('span')),
        el('div', { cls: 'grow' }, el('span', { text: s.title }), el('small', { text: s.hostId })),
        el('span', { cls: 'viewers', text: `👁 ${s.viewers}` }),
      );
      item.addEventListener('click', () => void room.join(s).catch((err: unknown) => toast(errorText(err))));
      return item;
    });
    $('streams').replaceChildren(...items);
    $('streams-empty').hidden = items.length > 0;
  };
  setInterval(() => {
    if (document.body.dataset['screen'] === 'home' || room.open) void refresh().catch(() => undefined);
  }, LIST_EVERY_MS);

  $('refresh').addEventListener('click', () => void refresh().catch((err: unknown) => toast(errorText(err))));
  $('golive-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const title = $<HTMLInputElement>('golive-title').value.trim();
    if (title) void room.goLive(title).catch((err: unknown) => toast(errorText(err)));
  });
  const select = (next: 'live' | 'inbox'): void => {
    tab = next;
    $('tab-live').classList.toggle('on', next === 'live');
    $('tab-inbox').classList.toggle('on', next === 'inbox');
    if (next === 'live' && room.open) show('room');
    else home();
  };
  $('tab-live').addEventListener('click', () => select('live'));
  $('tab-inbox').addEventListener('click', () => select('inbox'));
  $('tabs').hidden = false;

  await session.client.connect();
  show('home');
  await refresh();
  document.body.dataset['ready'] = 'true';
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $<HTMLInputElement>('signin-name').value;
  void start(name).catch((err: unknown) => toast(errorText(err)));
});
const asked = new URLSearchParams(location.search).get('user');
if (asked) void start(asked).catch((err: unknown) => toast(errorText(err)));
