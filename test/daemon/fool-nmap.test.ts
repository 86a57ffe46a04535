/**
 * -z fool_nmap (src/live/fool-nmap.ts): the forged replies, byte for byte, against the
 * capture the oracle made on the probing side of a veth pair
 * (pcaps/conformance/fool_nmap_veth_capture.pcap: each probe from 10.77.0.2 and, when
 * iplog 2.2.3 answered it, its reply), then the trigger, the engine hook, the rate limit
 * and the link types.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { collectFile, type CollectedFrame } from '../helpers/capture-collect';
import { FoolNmap, FOOL_NMAP_PER_SECOND, buildForgedReply, isNmapProbe } from '../../src/live/fool-nmap';
import { Harness } from '../helpers/engine';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, ether, ipv4, tcp } from '../helpers/packets';

const root = join(__dirname, '..', '..', '..');
const CAPTURE = join(root, 'pcaps', 'conformance', 'fool_nmap_veth_capture.pcap');

function isTcp4(f: CollectedFrame): boolean {
  return f.data.length >= 54 && f.data.readUInt16BE(12) === 0x0800 && f.data[23] === 6;
}

describe('the oracle capture', () => {
  test('every answered probe gets exactly the reply 2.2.3 sent, unanswered ones none', async () => {
    const { frames, error } = await collectFile(CAPTURE);
    assert.equal(error, null);
    const tcpFrames = frames.filter(isTcp4);
    const probes = tcpFrames.filter((f) => f.data[22] === 64); // TTL 64: the prober; replies have 255
    assert.equal(probes.length, 7);
    let answered = 0;
    for (const probe of probes) {
      const flags = probe.data[14 + 20 + 13]!;
      const reply = tcpFrames.find((f) => f.data[22] === 255 && f.data.readUInt16BE(34) === probe.data.readUInt16BE(36) && f.data.readUInt16BE(36) === probe.data.readUInt16BE(34));
      assert.equal(reply !== undefined, isNmapProbe(flags), `flags 0x${flags.toString(16)}`);
      if (reply === undefined) continue;
      answered++;
      // what our responder injects for this probe at the second the reply was sent
      const sent: Buffer[] = [];
      const fool = new FoolNmap();
      const h = new Harness({ fool_nmap: true });
      h.engine.foolNmap = fool;
      fool.frame(probe.data, 0, 1, (b) => (sent.push(Buffer.from(b)), true));
      h.engine.onFrame(probe.data, 0, probe.data.length, probe.data.length, reply.sec, 0, 1);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.toString('hex'), reply.data.toString('hex'), `reply to flags 0x${flags.toString(16)}`);
    }
    assert.equal(answered, 6);
  });
});

describe('trigger (spec §4.10)', () => {
  test('the flag combinations', () => {
    const yes = [0, PSH, ECE, CWR, SYN | ECE | CWR, SYN | ACK | ECE, SYN | URG, FIN | URG, RST | URG, SYN | FIN, SYN | RST, FIN | PSH | URG, SYN | FIN | PSH | URG];
    const no = [SYN, ACK, SYN | ACK, FIN, RST, FIN | ACK, PSH | ACK, URG, RST | ACK, FIN | PSH, URG | PSH];
    for (const f of yes) assert.equal(isNmapProbe(f), true, `0x${f.toString(16)}`);
    for (const f of no) assert.equal(isNmapProbe(f), false, `0x${f.toString(16)}`);
  });
});

describe('the reply', () => {
  const probe = ipv4({ src: '192.0.2.7', dst: '192.0.2.1', proto: 6, tos: 0x10, frag: 0x4000 }, tcp(40000, 22, FIN | PSH | URG));

  test('even second: no DF, window 0; odd second: DF, window 256 on the wire', () => {
    const out = Buffer.alloc(40);
    buildForgedReply(out, 0, probe, 0, 20, 1000);
    assert.equal(out.readUInt16BE(6), 0);
    assert.equal(out.readUInt16BE(20 + 14), 0);
    buildForgedReply(out, 0, probe, 0, 20, 1001);
    assert.equal(out.readUInt16BE(6), 0x4000);
    assert.equal(out.readUInt16BE(20 + 14), 256);
    assert.equal(out[1], 0x10, 'TOS copied');
    assert.equal(out.readUInt16BE(4), 0xff00, 'ID 0x00ff in host order');
    assert.equal(out[8], 255);
    assert.equal(out.readUInt32BE(12), probe.readUInt32BE(16));
    assert.equal(out.readUInt32BE(16), probe.readUInt32BE(12));
    assert.equal(out.readUInt16BE(20), 22);
    assert.equal(out.readUInt16BE(22), 40000);
    assert.equal(out[20 + 13], (1001 ^ 0x12345678) & 0xff);
    assert.equal(out.readUInt16LE(20 + 18), 1001, 'urgent pointer = time, host order');
  });

  test('the IP header checksum is right, the TCP one is over the header only (wrong)', () => {
    const out = Buffer.alloc(40);
    buildForgedReply(out, 0, probe, 0, 20, 77);
    const sum = (b: Buffer, o: number, n: number, extra = 0) => {
      let s = extra;
      for (let i = 0; i < n; i += 2) s += b.readUInt16BE(o + i);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    assert.equal(sum(out, 0, 20), 0xffff);
    assert.equal(sum(out, 20, 20), 0xffff, 'checksum over the 20 TCP bytes alone');
    const pseudo = sum(out, 12, 8) + 6 + 20;
    assert.notEqual(sum(out, 20, 20, pseudo), 0xffff, 'not valid with the pseudo header');
  });
});

describe('the responder', () => {
  function setup(linktype = 1) {
    const sent: Buffer[] = [];
    const fool = new FoolNmap();
    const h = new Harness({ fool_nmap: true, null_scan: false });
    h.engine.foolNmap = fool;
    const feed = (t: number, flags: number, frame?: Buffer) => {
      const pkt = ipv4({ src: '192.0.2.7', dst: '192.0.2.1', proto: 6 }, tcp(40000, 22, flags));
      const f = frame ?? (linktype === 1 ? ether(pkt) : pkt);
      fool.frame(f, 0, linktype, (b) => (sent.push(Buffer.from(b)), true));
      h.engine.onFrame(f, 0, f.length, f.length, t, 0, linktype);
    };
    return { sent, fool, h, feed };
  }

  test('rate limit per second of packet time; the probes are still logged', async () => {
    const { sent, fool, h, feed } = setup();
    for (let i = 0; i < FOOL_NMAP_PER_SECOND + 5; i++) feed(100, SYN | FIN);
    feed(101, SYN | FIN);
    assert.equal(sent.length, FOOL_NMAP_PER_SECOND + 1);
    assert.equal(fool.stats.limited, 5);
    const lines = await h.finish();
    assert.equal(lines[0], 'TCP: ssh connection attempt from 192.0.2.7:40000', 'the probe is still handled');
  });

  test('Ethernet: MAC addresses swapped; raw IP: no link header; SLL: not answered', () => {
    const e = setup(1);
    const pkt = ipv4({ src: '192.0.2.7', dst: '192.0.2.1', proto: 6 }, tcp(40000, 22, 0));
    const frame = Buffer.concat([Buffer.from('020000000001020000000002', 'hex'), Buffer.from([8, 0]), pkt]);
    e.feed(5, 0, frame);
    assert.equal(e.sent[0]!.subarray(0, 12).toString('hex'), '020000000002020000000001');
    assert.equal(e.sent[0]!.length, 54);
    const r = setup(101);
    r.feed(5, 0);
    assert.equal(r.sent[0]!.length, 40);
    assert.equal(r.sent[0]![0], 0x45);
    const sll = setup(113);
    const cooked = Buffer.concat([Buffer.alloc(14), Buffer.from([8, 0]), pkt]);
    sll.feed(5, 0, cooked);
    assert.equal(sll.sent.length, 0);
    assert.equal(sll.fool.stats.unsupported, 1);
  });

  test('a failed injection is counted, not thrown', () => {
    const fool = new FoolNmap();
    const h = new Harness({ fool_nmap: true });
    h.engine.foolNmap = fool;
    const f = ether(ipv4({ src: '192.0.2.7', dst: '192.0.2.1', proto: 6 }, tcp(1, 2, 0)));
    fool.frame(f, 0, 1, () => {
      throw new Error('pcap_inject: Network is down');
    });
    h.engine.onFrame(f, 0, f.length, f.length, 1, 0, 1);
    assert.equal(fool.stats.failed, 1);
  });
});
