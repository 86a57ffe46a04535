/**
 * The crowdsec backend's pusher and the decision stream against a scripted LAPI (a fake
 * fetch; no network), for what the real-LAPI test (test/integrations/crowdsec-fleet.test.ts)
 * cannot steer: login once and again before the JWT expires or after a 401, the queue
 * bound (oldest dropped, counted, logged), bans that expire in the queue, requests the
 * LAPI refuses, the timeout, stop while the LAPI is down; the stream's bookkeeping of
 * several decisions per address, ranges and types it does not apply, Go durations; and
 * the manager's fleetBan/fleetLift (allowlist, BAN lines, local bans untouched).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { memLogger, facts } from './helpers';
import { CrowdsecPusher, lapiRequest, applyCrowdsecValue, CROWDSEC_DEFAULTS, type FetchFn } from '../../src/ban/crowdsec';
import { DecisionStream, goDurationSec, type FleetTarget } from '../../src/ban/decision-stream';
import { parseAddr, type BanAddr } from '../../src/ban/addr';
import { Harness } from '../helpers/engine';
import { attachBans, serviceCommands } from '../../src/ban/attach';
import { banSnapshot } from '../../src/metrics/snapshot';
import { defaultBanSettings } from '../../src/ban/config';
import { event } from '../../src/output/event';
import { IpAddr } from '../../src/net/addr';
import { ip4 } from '../helpers/packets';

interface Call {
  method: string;
  path: string;
  body: unknown;
  auth?: string;
}

/** A scripted LAPI: `down` refuses connections; `status` overrides the next answers to /v1/alerts. */
class FakeLapi {
  down = false;
  calls: Call[] = [];
  tokens = 0;
  expire = '2099-01-01T00:00:00Z';
  alertStatus: number[] = [];
  valid = new Set<string>();
  readonly fetch: FetchFn = (async (url: string | URL, init?: RequestInit) => {
    const u = new URL(String(url));
    const method = init?.method ?? 'GET';
    const headers = (init?.headers ?? {}) as Record<string, string>;
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    if (this.down) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    this.calls.push({ method, path: u.pathname + u.search, body, auth: headers.authorization });
    const json = (status: number, v: unknown) => new Response(JSON.stringify(v), { status });
    if (u.pathname === '/v1/watchers/login') {
      const token = `jwt-${++this.tokens}`;
      this.valid.add(token);
      return json(200, { code: 200, expire: this.expire, token });
    }
    if (!this.valid.has((headers.authorization ?? '').replace('Bearer ', ''))) return json(401, { message: 'token is expired' });
    if (u.pathname === '/v1/alerts') {
      const s = this.alertStatus.shift() ?? 201;
      return json(s, s === 201 ? ['1'] : { message: 'invalid alert' });
    }
    if (u.pathname === '/v1/decisions' && method === 'DELETE') return json(200, { nbDeleted: '1' });
    return json(404, { message: 'no route' });
  }) as FetchFn;
}

function pusher(lapi: FakeLapi, o: { maxQueue?: number; now?: () => number } = {}) {
  const { log, records } = memLogger();
  const p = new CrowdsecPusher(
    { url: 'http://lapi.test', machineId: 'sensor-1', password: 'pw', origin: 'iplog', scenarioPrefix: 'iplog/', maxQueue: o.maxQueue ?? 100, timeoutMs: 1000, backoffMs: 1, maxBackoffMs: 4, fetch: lapi.fetch, now: o.now },
    log,
  );
  return { p, records };
}

const posted = (lapi: FakeLapi) => lapi.calls.filter((c) => c.path === '/v1/alerts').map((c) => (c.body as { source: { value: string } }[])[0]!.source.value);

describe('crowdsec pusher', () => {
  test('one login, then each ban an alert with its decision, in order; an unban deletes this origin\'s decisions', async () => {
    const lapi = new FakeLapi();
    const { p } = pusher(lapi);
    p.ban('192.0.2.7', 4, 600, { reason: 'TCP: SYN scan; score 10; offence 1', score: 10, offence: 1, events: [{ time: 1, kind: 'scan.detected', detector: 'syn-scan', weight: 10, proof: true }] });
    p.ban('2001:db8::7', 6, 60);
    p.unban('192.0.2.7', 4);
    await p.idle();
    assert.deepEqual(lapi.calls.map((c) => `${c.method} ${c.path}`), [
      'POST /v1/watchers/login',
      'POST /v1/alerts',
      'POST /v1/alerts',
      'DELETE /v1/decisions?value=192.0.2.7&origin=iplog&type=ban',
    ]);
    const alert = (lapi.calls[1]!.body as Record<string, unknown>[])[0]!;
    assert.equal(alert.scenario, 'iplog/syn-scan');
    const dec = (alert.decisions as Record<string, string>[])[0]!;
    assert.deepEqual([dec.type, dec.scope, dec.value, dec.origin, dec.duration], ['ban', 'Ip', '192.0.2.7', 'iplog', '600s']);
    const meta = Object.fromEntries((alert.meta as { key: string; value: string }[]).map((m) => [m.key, m.value]));
    assert.equal(meta.proof, 'true', 'the grade an event carries is passed through');
    assert.equal(meta.counts, 'syn-scan=1');
    assert.equal(p.stats.pushed, 2);
    assert.equal(p.stats.unbans, 1);
    assert.equal(p.stats.deletedDecisions, 1);
  });

  test('the JWT is renewed before it expires and after a 401', async () => {
    const lapi = new FakeLapi();
    let now = Date.parse('2030-01-01T00:00:00Z');
    lapi.expire = '2030-01-01T01:00:00Z';
    const { p } = pusher(lapi, { now: () => now });
    p.ban('192.0.2.1', 4, 600);
    await p.idle();
    now += 59 * 60_000 + 30_000; // within the last minute of the token
    p.ban('192.0.2.2', 4, 600);
    await p.idle();
    lapi.valid.clear(); // the LAPI restarted with a new secret
    p.ban('192.0.2.3', 4, 600);
    await p.idle();
    assert.equal(lapi.calls.filter((c) => c.path === '/v1/watchers/login').length, 3);
    assert.deepEqual(posted(lapi), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
  });

  test('LAPI down: the queue holds its bound, the oldest are dropped, counted and logged; the rest arrive in order', async () => {
    const lapi = new FakeLapi();
    lapi.down = true;
    const { p, records } = pusher(lapi, { maxQueue: 3 });
    for (let i = 1; i <= 5; i++) p.ban(`192.0.2.${i}`, 4, 600);
    assert.equal(p.stats.dropped, 2);
    assert.equal(p.stats.queued, 3);
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(p.stats.failures >= 1);
    lapi.down = false;
    await p.idle();
    assert.deepEqual(posted(lapi), ['192.0.2.3', '192.0.2.4', '192.0.2.5']);
    assert.equal(p.stats.outages, 1);
    const drops = records().filter((r) => r.msg === 'crowdsec: push queue full: the oldest entry was dropped').map((r) => r.dropped);
    assert.deepEqual(drops, ['ban 192.0.2.1', 'ban 192.0.2.2']);
    assert.ok(records().some((r) => r.msg === 'crowdsec: LAPI unreachable: pushes are queued and retried' && r.code === 'IPLOG_ERR_BAN_LAPI'));
    const back = records().find((r) => r.msg === 'crowdsec: LAPI reachable again: sending the queued pushes');
    assert.equal(back?.droppedDuringOutage, 2);
  });

  test('a ban that ends while it waits is not sent, and counted; a duration is what is left', async () => {
    const lapi = new FakeLapi();
    lapi.down = true;
    let now = 1_800_000_000_000;
    const { p, records } = pusher(lapi, { now: () => now });
    p.ban('192.0.2.1', 4, 2);
    p.ban('192.0.2.2', 4, 600);
    await new Promise((r) => setTimeout(r, 20));
    now += 5000;
    lapi.down = false;
    await p.idle();
    assert.deepEqual(posted(lapi), ['192.0.2.2']);
    const dec = ((lapi.calls.find((c) => c.path === '/v1/alerts')!.body as Record<string, unknown>[])[0]!.decisions as Record<string, string>[])[0]!;
    assert.equal(dec.duration, '595s');
    assert.equal(p.stats.expiredQueued, 1);
    assert.ok(records().some((r) => r.msg === 'crowdsec: a queued ban ended before the LAPI could take it: not sent'));
  });

  test('a push the LAPI refuses (400) is dropped, counted and logged; the next goes on', async () => {
    const lapi = new FakeLapi();
    lapi.alertStatus = [400];
    const { p, records } = pusher(lapi);
    p.ban('192.0.2.1', 4, 600);
    p.ban('192.0.2.2', 4, 600);
    await p.idle();
    assert.equal(p.stats.rejected, 1);
    assert.equal(p.stats.pushed, 1);
    assert.ok(records().some((r) => r.msg === 'crowdsec: the LAPI refused a push: dropped' && /invalid alert/.test(String(r.err))));
    // the failure counts in iplog_ban_command_failures_total (the command counters of --metrics and status)
    const c = serviceCommands(p.stats);
    assert.deepEqual({ commands: c.commands, failed: c.failed, retried: c.retried, dropped: c.dropped }, { commands: 2, failed: 1, retried: 0, dropped: 0 });
    const m = banSnapshot({}, 0, 'crowdsec', c).commands!;
    assert.deepEqual(m, { run: 2, failed: 1, retried: 0, dropped: 0 });
  });

  test('stop while the LAPI is down: waits the given time, then reports what was not sent', async () => {
    const lapi = new FakeLapi();
    lapi.down = true;
    const { p, records } = pusher(lapi);
    p.ban('192.0.2.1', 4, 600);
    await p.close(20);
    assert.equal(p.stats.dropped, 1);
    const r = records().find((x) => x.msg === 'crowdsec: LAPI unreachable at exit: queued pushes not sent');
    assert.deepEqual(r?.unsent, ['ban 192.0.2.1']);
  });

  test('a request that gets no answer fails after the timeout (retryable), the caller never waits on it', async () => {
    const hang: FetchFn = ((_u: string, init?: RequestInit) =>
      new Promise((_r, reject) => init?.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'TimeoutError' }))))) as FetchFn;
    const t0 = Date.now();
    // AbortSignal.timeout's timer does not hold the event loop (a real socket would)
    const keep = setTimeout(() => undefined, 5000);
    await assert.rejects(lapiRequest(hang, 'http://lapi.test', 'GET', '/v1/heartbeat', { timeoutMs: 50 }), (e: Error & { retry?: boolean }) => /no answer within 50 ms/.test(e.message) && e.retry === true);
    clearTimeout(keep);
    assert.ok(Date.now() - t0 < 2000);
  });

  test('options: URL without credentials, poll interval bounds', () => {
    const c = { ...CROWDSEC_DEFAULTS };
    assert.equal(applyCrowdsecValue(c, 'crowdsecUrl', 'http://198.51.100.1:8080/'), undefined);
    assert.equal(c.url, 'http://198.51.100.1:8080');
    assert.match(applyCrowdsecValue(c, 'crowdsecUrl', 'http://user:pw@198.51.100.1/') ?? '', /no credentials in the URL/);
    assert.match(applyCrowdsecValue(c, 'crowdsecUrl', 'ftp://198.51.100.1/') ?? '', /http or https/);
    assert.equal(applyCrowdsecValue(c, 'crowdsecPoll', '2m'), undefined);
    assert.equal(c.pollSec, 120);
    assert.match(applyCrowdsecValue(c, 'crowdsecPoll', '0') ?? '', /1s to 1h/);
    assert.equal(c.origins, 'iplog,crowdsec,cscli');
    assert.equal(applyCrowdsecValue(c, 'crowdsecOrigins', 'iplog, cscli'), undefined);
    assert.equal(c.origins, 'iplog,cscli');
    assert.match(applyCrowdsecValue(c, 'crowdsecOrigins', 'a b') ?? '', /Invalid CrowdSec origins/);
  });
});

describe('decision stream', () => {
  test('Go durations', () => {
    assert.equal(goDurationSec('3h59m58.5s'), 14398.5);
    assert.equal(goDurationSec('500ms'), 0.5);
    assert.equal(goDurationSec('-1.5s'), -1.5);
    assert.equal(goDurationSec('1m0s'), 60);
    assert.ok(Number.isNaN(goDurationSec('soon')));
  });

  test('startup then deltas; an address held by two decisions is lifted with the last; ranges, captchas and other scopes are not applied', async () => {
    const answers: unknown[] = [
      {
        new: [
          { id: 1, type: 'ban', scope: 'Ip', value: '203.0.113.5', duration: '3h59m0.5s', scenario: 'iplog/syn-scan', origin: 'iplog' },
          { id: 2, type: 'ban', scope: 'Ip', value: '203.0.113.5', duration: '1h', scenario: 'manual', origin: 'cscli' },
          { id: 3, type: 'ban', scope: 'Range', value: '198.51.100.0/24', duration: '1h', scenario: 'x', origin: 'cscli' },
          { id: 4, type: 'ban', scope: 'Range', value: '198.51.100.9/32', duration: '1h', scenario: 'x', origin: 'cscli' },
          { id: 5, type: 'captcha', scope: 'Ip', value: '203.0.113.6', duration: '1h', scenario: 'x', origin: 'cscli' },
          { id: 6, type: 'ban', scope: 'Ip', value: '203.0.113.7', duration: '-2s', scenario: 'x', origin: 'cscli' },
        ],
        deleted: [{ id: 9, type: 'ban', scope: 'Ip', value: '203.0.113.99', duration: '-1h' }],
      },
      { new: null, deleted: [{ id: 1, type: 'ban', scope: 'Ip', value: '203.0.113.5', duration: '-1s' }] },
      { new: [], deleted: [{ id: 2, type: 'ban', scope: 'Ip', value: '203.0.113.5', duration: '-1s' }] },
    ];
    const paths: string[] = [];
    const f: FetchFn = (async (url: string, init?: RequestInit) => {
      paths.push(new URL(url).search);
      assert.equal((init?.headers as Record<string, string>)['x-api-key'], 'KEY');
      return new Response(JSON.stringify(answers.shift()), { status: 200 });
    }) as FetchFn;
    const did: string[] = [];
    const target: FleetTarget = {
      fleetBan: (a: BanAddr, s: number, why: string) => (did.push(`ban ${a.text} ${s} ${why}`), true),
      fleetLift: (a: BanAddr, why: string) => (did.push(`lift ${a.text} ${why}`), true),
    };
    const { log } = memLogger();
    const st = new DecisionStream({ url: 'http://lapi.test', apiKey: 'KEY', pollMs: 60_000, timeoutMs: 1000, fetch: f, origins: 'all' }, target, log);
    await st.poll();
    await st.poll();
    await st.poll();
    await st.stop();
    assert.deepEqual(paths, ['?startup=true&dedup=false&scopes=ip%2Crange', '?startup=false&dedup=false&scopes=ip%2Crange', '?startup=false&dedup=false&scopes=ip%2Crange']);
    assert.deepEqual(did, [
      'ban 203.0.113.5 14340 iplog/syn-scan from iplog, decision 1',
      'ban 203.0.113.5 3600 manual from cscli, decision 2',
      'ban 198.51.100.9 3600 x from cscli, decision 4',
      'lift 203.0.113.5 decision 2 deleted or expired',
    ]);
    assert.equal(st.stats.ignored, 3);
    assert.equal(st.stats.lifted, 1);
  });

  test('a failing LAPI: retried with backoff, said once, startup again until one succeeds', async () => {
    let fail = 2;
    const paths: string[] = [];
    const f: FetchFn = (async (url: string) => {
      paths.push(new URL(url).searchParams.get('startup')!);
      assert.equal(new URL(url).searchParams.get('origins'), 'iplog,cscli');
      if (fail-- > 0) throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      return new Response(JSON.stringify({ new: [], deleted: [] }), { status: 200 });
    }) as FetchFn;
    const { log, records } = memLogger();
    const st = new DecisionStream({ url: 'http://lapi.test', apiKey: 'K', pollMs: 60_000, timeoutMs: 1000, fetch: f, origins: 'iplog,cscli' }, { fleetBan: () => true, fleetLift: () => true }, log);
    await st.poll();
    await st.poll();
    await st.poll();
    await st.poll();
    await st.stop();
    assert.deepEqual(paths, ['true', 'true', 'true', 'false']);
    assert.equal(records().filter((r) => r.msg === 'crowdsec: decision stream failing: retrying with backoff').length, 1);
    assert.equal(records().filter((r) => r.msg === 'crowdsec: decision stream reachable again').length, 1);
    assert.equal(st.stats.outages, 1);
  });
});

describe('fleet decisions in the ban manager', () => {
  test('allowlist refuses with a BAN line; a stranger is banned with its reason; a lift removes only fleet bans', async () => {
    const T0 = 1_700_000_000;
    const h = new Harness({}, { replayFile: undefined, ban: { ...defaultBanSettings(), backend: 'dry-run', allow: ['192.0.2.0/24'], evidence: 'any' } });
    const { log } = memLogger();
    const m = await attachBans(h.engine, h.engine.settings, { mode: 'live', log, probe: () => facts(), wallNow: () => T0 });
    assert.ok(m);
    h.engine.advance(T0);
    assert.equal(m.fleetBan(parseAddr('203.0.113.242')!, 600, 'x from cscli, decision 1'), false);
    assert.equal(m.fleetBan(parseAddr('192.0.2.9')!, 600, 'x from cscli, decision 2'), false);
    assert.equal(m.fleetBan(parseAddr('203.0.113.5')!, 600, 'iplog/syn-scan from iplog, decision 3'), true);
    // a local ban is not lifted by the fleet
    h.engine.out.text(event('scan.detected', T0, IpAddr.v4(ip4('203.0.113.6')), { dst: IpAddr.v4(ip4('198.51.100.10')), detector: 'syn-scan', count: 12, bytes: 240, detail: { title: 'TCP: SYN scan' } }), 'TCP: SYN scan detected [ports 20,21] from 203.0.113.6');
    assert.equal(m.fleetLift(parseAddr('203.0.113.6')!, 'decision 4 deleted or expired'), false);
    assert.equal(m.fleetLift(parseAddr('203.0.113.5')!, 'decision 3 deleted or expired'), true);
    assert.deepEqual(h.lines().filter((l) => l.startsWith('BAN:')), [
      'BAN: not banning 203.0.113.242 (own address)',
      'BAN: not banning 192.0.2.9 (allowlisted by 192.0.2.0/24)',
      'BAN: banned 203.0.113.5 for 600 seconds (fleet: iplog/syn-scan from iplog, decision 3)',
      'BAN: banned 203.0.113.6 for 3600 seconds (TCP: SYN scan; score 10; offence 1; spoofable evidence)',
      'BAN: unbanned 203.0.113.5 (fleet: decision 3 deleted or expired)',
    ]);
    assert.deepEqual(m.list().map((b) => b.addr.text), ['203.0.113.6']);
    assert.equal(m.stats.fleetBans, 1);
    assert.equal(m.stats.fleetLifts, 1);
    assert.equal(m.stats.refusedAllow, 2);
  });
});
