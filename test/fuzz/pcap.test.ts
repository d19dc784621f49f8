/**
 * pcap fuzzing with mutated real captures (fixtures/pcap: dumpcap on lo, any/SLL, any/SLL2, editcap nanosecond).
 */
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePcap } from '../../src/wire/pcap/pcap.js';
import { fixture, mutate, mutationArb, onlyOurErrors, SEED } from './helpers.js';

const FILES = readdirSync(new URL('../../fixtures/pcap/', import.meta.url))
  .filter((f) => f.endsWith('.pcap'))
  .map((f) => fixture(`pcap/${f}`).subarray(0, 16 * 1024));

describe('pcap fuzz', () => {
  it('the corpus decodes (sanity)', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(4);
    for (const f of FILES) expect(onlyOurErrors(() => decodePcap(f))?.code ?? 'ok').toMatch(/ok|PACKET_TOO_SHORT/);
  });

  it('mutated real captures decode or throw KookRtpError; payloads stay inside the file', () => {
    fc.assert(
      fc.property(fc.nat(FILES.length - 1), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), (which, ms) => {
        const bytes = mutate(FILES[which]!, ms);
        onlyOurErrors(() => {
          const { records } = decodePcap(bytes);
          for (const r of records) {
            expect(r.payload.buffer).toBe(bytes.buffer);
            expect(r.payload.byteOffset + r.payload.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
          }
        });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('random bytes behind a valid file header', () => {
    fc.assert(
      fc.property(fc.nat(FILES.length - 1), fc.uint8Array({ maxLength: 2048 }), (which, tail) => {
        onlyOurErrors(() => decodePcap(new Uint8Array(Buffer.concat([FILES[which]!.subarray(0, 24), tail]))));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});
