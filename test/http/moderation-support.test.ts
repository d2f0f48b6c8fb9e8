/** Reports, moderation and support tickets over HTTP against a real gateway and FerretDB. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NativeClient } from '../support/clients.js';
import { FORGED, domainEnv, outcome, type DomainEnv } from './helpers.js';

interface Report {
  id: string;
  reporterId: string;
  reportedId: string;
  reportedUserId: string | null;
  status: string;
  actionTaken: string;
}
interface Ticket {
  id: string;
  ticketNumber: string;
  userId: string;
  status: string;
  assignedTo: string | null;
  messages: Array<{ from: string; message: string; isStaff: boolean }>;
}
interface Page<T> {
  items: T[];
  total: number;
}

let env: DomainEnv;
beforeAll(async () => {
  env = await domainEnv('moderation');
});
afterAll(async () => {
  await env.stop();
});

describe('reports and moderation', () => {
  it('files a report, lists my reports, and refuses a second open report on the same target', async () => {
    const alice = await env.user('alice');
    const body = { reportedType: 'content', reportedId: `post-${env.tag}`, reportedUserId: `author-${env.tag}`, reason: 'spam', description: 'buy followers' };
    const created = await env.call<Report>('POST', '/api/reports', { token: alice.token, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ reporterId: alice.id, status: 'pending', actionTaken: 'none' });
    expect(outcome(await env.call('POST', '/api/reports', { token: alice.token, body }))).toEqual([409, 'conflict']);
    const mine = await env.call<Page<Report>>('GET', '/api/reports/my', { token: alice.token });
    expect(mine.body.items.map((r) => r.id)).toContain(created.body.id);
    expect((await env.call<Report>('GET', `/api/reports/${created.body.id}`, { token: alice.token })).body.id).toBe(created.body.id);
  });

  it("validates reports (422) and hides other users' reports (403)", async () => {
    const alice = await env.user('alice');
    const mallory = await env.user('mallory');
    for (const bad of [
      { reportedType: 'planet', reportedId: 'x', reason: 'spam' },
      { reportedType: 'user', reportedId: 'x', reason: 'boring' },
      { reportedType: 'user', reportedId: alice.id, reason: 'spam' },
    ]) {
      expect(outcome(await env.call('POST', '/api/reports', { token: alice.token, body: bad })), JSON.stringify(bad)).toEqual([422, 'validation_failed']);
    }
    const created = await env.call<Report>('POST', '/api/reports', {
      token: alice.token,
      body: { reportedType: 'user', reportedId: `troll-${env.tag}`, reason: 'harassment' },
    });
    expect(outcome(await env.call('GET', `/api/reports/${created.body.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    const malloryList = await env.call<Page<Report>>('GET', '/api/reports/my', { token: mallory.token });
    expect(malloryList.body.items).toEqual([]);
    expect(outcome(await env.call('GET', '/api/reports/my'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('POST', '/api/reports', { token: FORGED, body: {} }))).toEqual([401, 'unauthorized']);
  });

  it('keeps the queue and actions for admins: 403 for users', async () => {
    const alice = await env.user('alice');
    expect(outcome(await env.call('GET', '/api/moderation/queue', { token: alice.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', '/api/moderation/content/x', { token: alice.token, body: { action: 'warning' } }))).toEqual([403, 'forbidden']);
    expect(
      outcome(await env.call('PUT', '/api/moderation/reports/00000000-0000-4000-8000-000000000000', { token: alice.token, body: { status: 'resolved' } })),
    ).toEqual([403, 'forbidden']);
  });

  it('acting on content resolves its open reports, notifies owner and reporters live, and is audited', async () => {
    const admin = await env.user('mod', 'admin');
    const owner = await env.user('owner');
    const r1 = await env.user('r1');
    const r2 = await env.user('r2');
    const contentId = `clip-${env.tag}`;
    for (const r of [r1, r2]) {
      const res = await env.call('POST', '/api/reports', {
        token: r.token,
        body: { reportedType: 'content', reportedId: contentId, reportedUserId: owner.id, reason: 'violence' },
      });
      expect(res.status).toBe(201);
    }
    const ownerSocket = await NativeClient.connect(env.gw.ws, { token: owner.token });
    const reporterSocket = await NativeClient.connect(env.gw.ws, { token: r1.token });
    await Promise.all([ownerSocket.request('session:info'), reporterSocket.request('session:info')]);

    const queue = await env.call<Page<Report>>('GET', '/api/moderation/queue?reportedType=content&limit=100', { token: admin.token });
    expect(queue.body.items.filter((r) => r.reportedId === contentId)).toHaveLength(2);
    expect(outcome(await env.call('POST', `/api/moderation/content/${contentId}`, { token: admin.token, body: { action: 'delete_everything' } }))).toEqual([
      422,
      'validation_failed',
    ]);

    const acted = await env.call('POST', `/api/moderation/content/${contentId}`, { token: admin.token, body: { action: 'content_removed', notes: 'gore' } });
    expect(acted.body).toEqual({ contentId, reportedType: 'content', action: 'content_removed', resolvedReports: 2, affectedUsers: [owner.id] });
    expect((await ownerSocket.waitForEvent('moderation:action')).data).toEqual({ reportedType: 'content', contentId, action: 'content_removed' });
    expect((await reporterSocket.waitForEvent('report:resolved')).data).toMatchObject({ contentId, status: 'resolved', actionTaken: 'content_removed' });
    const r1Reports = await env.call<Page<Report>>('GET', '/api/reports/my', { token: r1.token });
    expect(r1Reports.body.items.find((r) => r.reportedId === contentId)).toMatchObject({ status: 'resolved', actionTaken: 'content_removed' });
    const audit = await env.gw.waitForLog((l) => l['audit'] === true && l['action'] === 'content.moderate' && l['contentId'] === contentId);
    expect(audit['actor']).toBe(admin.id);
    await ownerSocket.close();
    await reporterSocket.close();
  });

  it('reviews a single report once: a closed report answers 409, an unknown one 404', async () => {
    const admin = await env.user('mod', 'admin');
    const alice = await env.user('alice');
    const created = await env.call<Report>('POST', '/api/reports', {
      token: alice.token,
      body: { reportedType: 'message', reportedId: `msg-${env.tag}`, reason: 'scam' },
    });
    const reviewed = await env.call<Report>('PUT', `/api/moderation/reports/${created.body.id}`, {
      token: admin.token,
      body: { status: 'dismissed', reviewNotes: 'not a scam' },
    });
    expect(reviewed.body).toMatchObject({ status: 'dismissed', reviewedBy: admin.id });
    expect(outcome(await env.call('PUT', `/api/moderation/reports/${created.body.id}`, { token: admin.token, body: { status: 'resolved' } }))).toEqual([
      409,
      'conflict',
    ]);
    expect(
      outcome(await env.call('PUT', '/api/moderation/reports/00000000-0000-4000-8000-000000000000', { token: admin.token, body: { status: 'resolved' } })),
    ).toEqual([404, 'not_found']);
    expect(outcome(await env.call('PUT', `/api/moderation/reports/${created.body.id}`, { token: admin.token, body: { status: 'pending' } }))).toEqual([
      422,
      'validation_failed',
    ]);
  });
});

describe('support tickets', () => {
  const open = async (token: string, subject = 'cannot withdraw') =>
    env.call<Ticket>('POST', '/api/support/tickets', {
      token,
      body: { subject, category: 'payment', description: 'the button does nothing', priority: 'high' },
    });

  it('opens a ticket with a ticket number and lists my tickets', async () => {
    const alice = await env.user('alice-t');
    const created = await open(alice.token);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ userId: alice.id, status: 'open', assignedTo: null, messages: [] });
    expect(created.body.ticketNumber).toMatch(/^T-\d{8}-[A-Z2-9]{6}$/);
    const mine = await env.call<Page<Ticket>>('GET', '/api/support/tickets?status=open', { token: alice.token });
    expect(mine.body.items.map((t) => t.id)).toEqual([created.body.id]);
  });

  it('staff replies reach the owner live; the thread grows atomically; closing stops replies (409)', async () => {
    const alice = await env.user('alice-s');
    const agent = await env.user('agent', 'admin');
    const ticket = (await open(alice.token)).body;
    const socket = await NativeClient.connect(env.gw.ws, { token: alice.token });
    await socket.request('session:info');

    const queue = await env.call<Page<Ticket>>('GET', '/api/support/queue?limit=100', { token: agent.token });
    expect(queue.body.items.map((t) => t.id)).toContain(ticket.id);
    const staff = await env.call<Ticket>('POST', `/api/support/tickets/${ticket.id}/reply`, {
      token: agent.token,
      body: { message: 'we are looking into it' },
    });
    expect(staff.status).toBe(201);
    expect(staff.body).toMatchObject({ status: 'in_progress', assignedTo: agent.id });
    expect((await socket.waitForEvent('support:reply')).data).toMatchObject({ ticketId: ticket.id, isStaff: true, message: 'we are looking into it' });

    await Promise.all([
      env.call('POST', `/api/support/tickets/${ticket.id}/reply`, { token: alice.token, body: { message: 'one' } }),
      env.call('POST', `/api/support/tickets/${ticket.id}/reply`, { token: alice.token, body: { message: 'two' } }),
    ]);
    const full = await env.call<Ticket>('GET', `/api/support/tickets/${ticket.id}`, { token: alice.token });
    expect(full.body.messages.map((m) => m.message).sort()).toEqual(['one', 'two', 'we are looking into it'].sort());
    expect(full.body.messages.find((m) => m.message === 'one')?.isStaff).toBe(false);

    const closed = await env.call<Ticket>('PUT', `/api/support/tickets/${ticket.id}/close`, { token: alice.token });
    expect(closed.body.status).toBe('closed');
    expect(outcome(await env.call('PUT', `/api/support/tickets/${ticket.id}/close`, { token: alice.token }))).toEqual([409, 'conflict']);
    expect(outcome(await env.call('POST', `/api/support/tickets/${ticket.id}/reply`, { token: alice.token, body: { message: 'hello?' } }))).toEqual([
      409,
      'conflict',
    ]);
    await socket.close();
  });

  it("refuses someone else's ticket (403), bad input (422), no token (401) and the queue to users (403)", async () => {
    const alice = await env.user('alice-o');
    const mallory = await env.user('mallory-o');
    const ticket = (await open(alice.token)).body;
    expect(outcome(await env.call('GET', `/api/support/tickets/${ticket.id}`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    expect(outcome(await env.call('POST', `/api/support/tickets/${ticket.id}/reply`, { token: mallory.token, body: { message: 'hi' } }))).toEqual([
      403,
      'forbidden',
    ]);
    expect(outcome(await env.call('PUT', `/api/support/tickets/${ticket.id}/close`, { token: mallory.token }))).toEqual([403, 'forbidden']);
    const untouched = await env.call<Ticket>('GET', `/api/support/tickets/${ticket.id}`, { token: alice.token });
    expect(untouched.body).toMatchObject({ status: 'open', messages: [] });
    expect(
      outcome(await env.call('POST', '/api/support/tickets', { token: alice.token, body: { subject: '', category: 'payment', description: 'x' } })),
    ).toEqual([422, 'validation_failed']);
    expect(
      outcome(await env.call('POST', '/api/support/tickets', { token: alice.token, body: { subject: 's', category: 'cooking', description: 'x' } })),
    ).toEqual([422, 'validation_failed']);
    expect(outcome(await env.call('POST', `/api/support/tickets/${ticket.id}/reply`, { token: alice.token, body: { message: '' } }))).toEqual([
      422,
      'validation_failed',
    ]);
    expect(outcome(await env.call('GET', '/api/support/tickets/00000000-0000-4000-8000-000000000000', { token: alice.token }))).toEqual([404, 'not_found']);
    expect(outcome(await env.call('GET', '/api/support/tickets'))).toEqual([401, 'unauthorized']);
    expect(outcome(await env.call('GET', '/api/support/queue', { token: alice.token }))).toEqual([403, 'forbidden']);
  });
});
