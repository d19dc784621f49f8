import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { KookRtpError } from '../../../src/errors.js';
import { codeOf } from '../../helpers.js';
import {
  PCAP_FILE_HEADER_SIZE,
  decodePcap,
  encodePcap,
  encodePcapFileHeader,
  encodePcapRecord,
  type PcapUdpRecord,
} from '../../../src/wire/pcap/pcap.js';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../../fixtures/pcap/${name}`, import.meta.url)));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const rtp = Uint8Array.of(0x80, 0x6f, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xf8, 0xff, 0xfe);

describe('encodePcapFileHeader / encodePcapRecord', () => {
  it('writes the microsecond, little-endian, Ethernet file header', () => {
    expect(Array.from(encodePcapFileHeader())).toEqual([
      0xd4, 0xc3, 0xb2, 0xa1, // magic 0xa1b2c3d4 little-endian (microseconds)
      0x02, 0x00, 0x04, 0x00, // version 2 | 4
      0x00, 0x00, 0x00, 0x00, // thiszone
      0x00, 0x00, 0x00, 0x00, // sigfigs
      0x00, 0x00, 0x04, 0x00, // snaplen 262144
      0x01, 0x00, 0x00, 0x00, // linktype 1 (Ethernet)
    ]);
  });

  it('writes one IPv4 UDP record with lengths and checksums', () => {
    const record = encodePcapRecord({
      timeMs: 1700000000123.456,
      src: { address: '127.0.0.1', port: 5004 },
      dst: { address: '10.0.0.2', port: 40404 },
      payload: rtp,
    });
    expect(Array.from(record)).toEqual([
      0x00, 0xf1, 0x53, 0x65, // ts_sec 1700000000
      0x40, 0xe2, 0x01, 0x00, // ts_usec 123456
      0x39, 0x00, 0x00, 0x00, // caplen 57
      0x39, 0x00, 0x00, 0x00, // len 57
      0x00, 0x00, 0x00, 0x00, // Ethernet: dst MAC..
      0x00, 0x00, 0x00, 0x00, // ..dst MAC | src MAC..
      0x00, 0x00, 0x00, 0x00, // ..src MAC
      0x08, 0x00, 0x45, 0x00, // ethertype IPv4 | IPv4: version 4 IHL 5 | TOS 0
      0x00, 0x2b, 0x00, 0x00, // total length 43 | identification 0
      0x40, 0x00, 0x40, 0x11, // DF, offset 0 | TTL 64 | protocol UDP
      0xb1, 0xbf, 0x7f, 0x00, // header checksum | source 127.0..
      0x00, 0x01, 0x0a, 0x00, // ..0.1 | destination 10.0..
      0x00, 0x02, 0x13, 0x8c, // ..0.2 | UDP: source port 5004
      0x9d, 0xd4, 0x00, 0x17, // destination port 40404 | length 23
      0x4d, 0xea, 0x80, 0x6f, // checksum | payload (RTP)..
      0x00, 0x01, 0x00, 0x00, //
      0x00, 0x00, 0x00, 0x00, //
      0x00, 0x01, 0xf8, 0xff, //
      0xfe, //
    ]);
  });

  it.each([
    ['mixed address families', { src: { address: '127.0.0.1', port: 1 }, dst: { address: '::1', port: 2 } }],
    ['a bad address', { src: { address: 'localhost', port: 1 }, dst: { address: '127.0.0.1', port: 2 } }],
    ['port 65536', { src: { address: '127.0.0.1', port: 65536 }, dst: { address: '127.0.0.1', port: 2 } }],
    ['negative time', { timeMs: -1 }],
    ['NaN time', { timeMs: Number.NaN }],
    ['a 65528-byte payload', { payload: new Uint8Array(65528) }],
  ])('rejects %s with INVALID_ARGUMENT', (_name, change) => {
    const record: PcapUdpRecord = {
      timeMs: 0, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, payload: rtp, ...change,
    };
    expect(codeOf(() => encodePcapRecord(record))).toBe('INVALID_ARGUMENT');
  });

  it('rejects a bad snaplen and IP id with INVALID_ARGUMENT', () => {
    expect(codeOf(() => encodePcapFileHeader(0))).toBe('INVALID_ARGUMENT');
    const r = { timeMs: 0, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, payload: rtp };
    expect(codeOf(() => encodePcapRecord(r, { ipId: 70000 }))).toBe('INVALID_ARGUMENT');
  });
});

const endpoint = (v6: boolean): fc.Arbitrary<{ address: string; port: number }> =>
  fc.record({
    address: v6 ? fc.ipV6() : fc.ipV4(),
    port: fc.integer({ min: 0, max: 0xffff }),
  });
const record: fc.Arbitrary<PcapUdpRecord> = fc.boolean().chain((v6) =>
  fc.record({
    // Whole microseconds so the stored time is exact.
    timeMs: fc.integer({ min: 0, max: 4_000_000_000_000_000 }).map((us) => us / 1000),
    src: endpoint(v6),
    dst: endpoint(v6),
    payload: fc.uint8Array({ maxLength: 200 }),
  }),
);

describe('pcap round trip', () => {
  it('decodePcap(encodePcap(records)) gives the records back', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 8 }), (records) => {
        const file = decodePcap(encodePcap(records));
        expect(file.linktype).toBe(1);
        expect(file.skipped).toBe(0);
        expect(file.records.length).toBe(records.length);
        file.records.forEach((got, i) => {
          const want = records[i]!;
          expect(got.timeMs).toBeCloseTo(want.timeMs, 3);
          expect(got.src.port).toBe(want.src.port);
          expect(got.dst.port).toBe(want.dst.port);
          // Compare addresses as bytes: fc.ipV6() is not always in RFC 5952 form.
          expect(encodePcapRecord({ ...got, timeMs: 0 })).toEqual(encodePcapRecord({ ...want, timeMs: 0 }));
          expect(got.payload).toEqual(want.payload);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('reads a big-endian file (headers byte-swapped) the same', () => {
    const records: PcapUdpRecord[] = [
      { timeMs: 1000.5, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, payload: rtp },
      { timeMs: 2000.25, src: { address: '::1', port: 3 }, dst: { address: '::1', port: 4 }, payload: Uint8Array.of(7) },
    ];
    const le = encodePcap(records);
    const be = le.slice();
    const swap32 = (at: number): void => { be.set([le[at + 3]!, le[at + 2]!, le[at + 1]!, le[at]!], at); };
    const swap16 = (at: number): void => { be.set([le[at + 1]!, le[at]!], at); };
    swap32(0); swap16(4); swap16(6); swap32(8); swap32(12); swap32(16); swap32(20);
    let at = PCAP_FILE_HEADER_SIZE;
    while (at < le.length) {
      const caplen = new DataView(le.buffer).getUint32(at + 8, true);
      for (let i = 0; i < 16; i += 4) swap32(at + i);
      at += 16 + caplen;
    }
    expect(be[0]).toBe(0xa1);
    expect(decodePcap(be)).toEqual(decodePcap(le));
  });

  it('skips non-UDP frames, IP fragments and records cut by the snaplen', () => {
    const good = encodePcapRecord({ timeMs: 1, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, payload: rtp });
    const arp = good.slice();
    arp.set([0x08, 0x06], 16 + 12); // ethertype ARP
    const tcp = good.slice();
    tcp[16 + 14 + 9] = 6; // protocol TCP
    const fragment = good.slice();
    fragment.set([0x20, 0x00], 16 + 14 + 6); // MF set
    const cut = good.slice(0, good.length - 4);
    new DataView(cut.buffer).setUint32(8, cut.length - 16, true); // caplen < len
    const file = new Uint8Array([...encodePcapFileHeader(), ...arp, ...tcp, ...fragment, ...cut, ...good]);
    const decoded = decodePcap(file);
    expect(decoded.skipped).toBe(4);
    expect(decoded.records.length).toBe(1);
    expect(decoded.records[0]!.payload).toEqual(rtp);
  });

  it.each([
    ['a short file header', encodePcapFileHeader().subarray(0, 23), 'PACKET_TOO_SHORT'],
    ['a pcapng file', Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, ...new Array<number>(24).fill(0)), 'INVALID_PACKET'],
    ['link type 105 (802.11)', (() => { const h = encodePcapFileHeader(); h[20] = 105; return h; })(), 'UNSUPPORTED_FORMAT'],
    ['a cut record header', Uint8Array.of(...encodePcapFileHeader(), 1, 2, 3), 'PACKET_TOO_SHORT'],
    ['a cut record body', encodePcap([{ timeMs: 0, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, payload: rtp }]).slice(0, -1), 'PACKET_TOO_SHORT'],
  ])('rejects %s with %s', (_name, bytes, code) => {
    expect(codeOf(() => decodePcap(bytes))).toBe(code);
  });

  it('never throws anything but KookRtpError on arbitrary records', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0, 1, 12, 101, 113, 228, 229, 276), (body, linktype) => {
        const h = encodePcapFileHeader();
        h[20] = linktype & 0xff;
        h[21] = linktype >> 8;
        const rec = new Uint8Array(16 + body.length);
        new DataView(rec.buffer).setUint32(8, body.length, true);
        new DataView(rec.buffer).setUint32(12, body.length, true);
        rec.set(body, 16);
        try {
          decodePcap(new Uint8Array([...h, ...rec]));
        } catch (err) {
          expect(err).toBeInstanceOf(KookRtpError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('reading real dumpcap captures (fixtures/pcap)', () => {
  it('Ethernet loopback with IPv4 and IPv6 datagrams', () => {
    const file = decodePcap(fixture('dumpcap-lo.pcap'));
    expect(file.linktype).toBe(1);
    expect(file.skipped).toBe(0);
    expect(file.records.map((r) => [r.src.address, r.dst.address, r.dst.port, text(r.payload)])).toEqual([
      ['127.0.0.1', '127.0.0.1', 40404, 'hello0'],
      ['::1', '::1', 40404, 'v6-0'],
      ['127.0.0.1', '127.0.0.1', 40404, 'hello1'],
      ['::1', '::1', 40404, 'v6-1'],
      ['127.0.0.1', '127.0.0.1', 40404, 'hello2'],
      ['::1', '::1', 40404, 'v6-2'],
    ]);
    const times = file.records.map((r) => r.timeMs);
    expect(times[0]).toBeGreaterThan(Date.UTC(2024, 0, 1));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
  });

  it('the nanosecond variant gives the same records and times', () => {
    const us = decodePcap(fixture('dumpcap-lo.pcap'));
    const ns = decodePcap(fixture('editcap-lo-nsec.pcap'));
    expect(ns.records.map((r) => text(r.payload))).toEqual(us.records.map((r) => text(r.payload)));
    ns.records.forEach((r, i) => expect(r.timeMs).toBeCloseTo(us.records[i]!.timeMs, 6));
  });

  it('Linux cooked capture v1 (-i any)', () => {
    const file = decodePcap(fixture('dumpcap-any-sll.pcap'));
    expect(file.linktype).toBe(113);
    expect(file.records.map((r) => text(r.payload))).toEqual(['any0', 'any1', 'any2']);
    expect(file.records[0]!.dst).toEqual({ address: '127.0.0.1', port: 40406 });
  });

  it('Linux cooked capture v2 (-i any -y LINUX_SLL2)', () => {
    const file = decodePcap(fixture('dumpcap-any-sll2.pcap'));
    expect(file.linktype).toBe(276);
    expect(file.records.map((r) => text(r.payload))).toEqual(['sll2']);
    expect(file.records[0]!.dst).toEqual({ address: '127.0.0.1', port: 40408 });
  });
});

/** A record whose UDP checksum computes to 0, so it must be written as 0xffff (RFC 768). */
function zeroChecksumRecord(): PcapUdpRecord {
  const payload = Uint8Array.of(1, 2, 3, 4, 0, 0);
  const r: PcapUdpRecord = { timeMs: 5, src: { address: '127.0.0.1', port: 9 }, dst: { address: '127.0.0.1', port: 10 }, payload };
  const encoded = encodePcapRecord(r);
  const checksum = new DataView(encoded.buffer).getUint16(16 + 14 + 20 + 6);
  // The checksum is 0xffff - sum; putting it in an aligned payload word makes the sum 0xffff and the checksum 0.
  payload.set([checksum >> 8, checksum & 0xff], 4);
  return r;
}

it('writes a computed UDP checksum of 0 as 0xffff', () => {
  const encoded = encodePcapRecord(zeroChecksumRecord());
  expect(new DataView(encoded.buffer).getUint16(16 + 14 + 20 + 6)).toBe(0xffff);
});

const hasTshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasTshark) {
  if (process.env.CI === 'true') throw new Error('tshark is required in CI (apt-get install tshark)');
  console.warn('tshark not found: skipping the pcap interop tests (install tshark to run them)');
}

describe.runIf(hasTshark)('tshark reads what the writer writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-pcap-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const tshark = (file: string, ...args: string[]): string =>
    execFileSync('tshark', ['-r', file, '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });

  const records: PcapUdpRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const v6 = i % 3 === 1;
    records.push({
      timeMs: 1700000000000 + i * 20 + 0.001 * i,
      src: { address: v6 ? '::1' : '127.0.0.1', port: 5004 },
      dst: { address: v6 ? 'fe80::1234' : '10.1.2.3', port: 40000 + i },
      // Odd, even and empty payloads.
      payload: new Uint8Array(i === 0 ? 0 : i * 7).map((_, j) => (i * 31 + j) & 0xff),
    });
  }
  records.push(zeroChecksumRecord());
  const file = join(dir, 'out.pcap');
  writeFileSync(file, encodePcap(records));

  it('every packet with the right ports, lengths and good checksums', () => {
    const rows = tshark(file, '-T', 'fields', '-E', 'separator=,', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'udp.length',
      '-e', 'ip.checksum.status', '-e', 'udp.checksum.status', '-e', 'frame.time_epoch')
      .trim().split('\n').map((line) => line.split(','));
    expect(rows.length).toBe(records.length);
    rows.forEach(([src, dst, len, ipStatus, udpStatus, epoch], i) => {
      const r = records[i]!;
      expect([src, dst, len]).toEqual([String(r.src.port), String(r.dst.port), String(8 + r.payload.length)]);
      expect(ipStatus).toBe(r.src.address.includes(':') ? '' : '1'); // 1 = Good
      expect(udpStatus).toBe('1');
      expect(Number(epoch) * 1000).toBeCloseTo(r.timeMs, 2);
    });
  });

  it('no expert warnings or errors (checksums validated)', () => {
    const expert = tshark(file, '-q', '-z', 'expert');
    expect(expert).not.toMatch(/Errors|Warns|Malformed/);
  });

  it('dissects the payload as RTP with -d udp.port==...,rtp', () => {
    const rtpFile = join(dir, 'rtp.pcap');
    writeFileSync(rtpFile, encodePcap([
      { timeMs: 1, src: { address: '127.0.0.1', port: 5004 }, dst: { address: '127.0.0.1', port: 40404 }, payload: rtp },
    ]));
    const out = tshark(rtpFile, '-d', 'udp.port==40404,rtp', '-T', 'fields', '-e', 'rtp.p_type', '-e', 'rtp.seq', '-e', 'rtp.ssrc');
    expect(out.trim()).toBe('111\t1\t0x00000001');
  });
});
