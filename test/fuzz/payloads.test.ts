/**
 * The JSON answer and callback parsers with arbitrary values: a typed result (or undefined where the parser says so),
 * or a KookRtpError — never a TypeError from poking at a value of the wrong shape.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJoin, parseListPage } from '../../src/kook/client.js';
import { parseAnyRtcCallback, parseShumeiCallback, parseTupuCallback, splitShumeiRequestId, tupuRiskLevel } from '../../src/services/callbacks.js';
import { checkShumeiAnswer } from '../../src/services/shumei.js';
import { anyRtcError } from '../../src/services/anyrtc.js';
import { unwrapTupuSigned } from '../../src/services/tupu.js';
import { onlyOurErrors, SEED } from './helpers.js';

/** Arbitrary JS values, including the odd ones (null prototypes, boxed values, bigints, sparse arrays). */
const anything = fc.anything({
  maxDepth: 4,
  withBoxedValues: true,
  withNullPrototype: true,
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withSparseArray: true,
  withObjectString: true,
});
/** Values in the neighbourhood of the real payloads: the right keys with arbitrary values. */
const keyed = (keys: readonly string[]) => fc.dictionary(fc.constantFrom(...keys), fc.oneof(fc.jsonValue({ maxDepth: 3 }), anything), { maxKeys: keys.length });

const SHUMEI_KEYS = ['requestId', 'btId', 'btid', 'code', 'message', 'riskLevel', 'audioDetail', 'riskDetail', 'riskLabel1', 'audioText', 'statCode', 'passThrough', 'detail'];
const TUPU_KEYS = ['status', 'requestId', 'code', 'task1', 'texts', 'label', 'review', '__proto__', 'constructor'];
const ANYRTC_KEYS = ['type', 'mediaType', 'userId', 'groupId', 'fileName', 'fileSize', 'duration', 'userData', 'downloadUrl'];
const JOIN_KEYS = ['ip', 'port', 'rtcp_mux', 'rtcp_port', 'bitrate', 'audio_ssrc', 'audio_pt'];
const LIST_KEYS = ['items', 'meta', 'page', 'page_total'];

const values = (keys: readonly string[]) => fc.oneof(fc.jsonValue({ maxDepth: 5 }), anything, keyed(keys), keyed(keys).map((v) => ({ audioDetail: v, texts: [v], items: [v], meta: v, ...v })));

describe('service callback parsers fuzz', () => {
  it('parseShumeiCallback', () => {
    fc.assert(
      fc.property(values(SHUMEI_KEYS), (v) => {
        const ev = onlyOurErrors(() => {
          const e = parseShumeiCallback(v);
          if (e !== undefined) {
            expect(typeof e.requestId).toBe('string');
            expect(['PASS', 'REVIEW', 'REJECT', undefined]).toContain(e.riskLevel);
          }
        });
        expect(ev).toBeUndefined();
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('parseTupuCallback (also with non-objects, as a caller with an unverified value might pass)', () => {
    fc.assert(
      fc.property(values(TUPU_KEYS), (v) => {
        expect(
          onlyOurErrors(() => {
            const e = parseTupuCallback(v as Record<string, unknown>);
            if (e?.kind === 'result') expect(['PASS', 'REVIEW', 'REJECT']).toContain(e.riskLevel);
            if (e?.kind === 'result') tupuRiskLevel(e.tasks.flatMap((t) => t.slices));
          }),
        ).toBeUndefined();
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('parseAnyRtcCallback', () => {
    fc.assert(
      fc.property(values(ANYRTC_KEYS), fc.jsonValue(), (v, userData) => {
        expect(onlyOurErrors(() => parseAnyRtcCallback(v))).toBeUndefined();
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
          expect(onlyOurErrors(() => parseAnyRtcCallback({ ...v, userData: JSON.stringify(userData) }))).toBeUndefined();
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('answer checkers: checkShumeiAnswer, anyRtcError, unwrapTupuSigned throw only typed errors', () => {
    fc.assert(
      fc.property(values(SHUMEI_KEYS), fc.option(fc.integer()), fc.string(), (v, code, msg) => {
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) onlyOurErrors(() => checkShumeiAnswer(v as Record<string, unknown>));
        expect(anyRtcError(code ?? undefined, msg)).toMatchObject({ provider: 'anyrtc' });
        onlyOurErrors(() => unwrapTupuSigned(v, undefined));
        onlyOurErrors(() => unwrapTupuSigned({ signature: msg, json: msg }, undefined));
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('splitShumeiRequestId never throws and round-trips ids without a suffix', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (id) => {
        const r = splitShumeiRequestId(id);
        if (r.segment === undefined) expect(r.requestId).toBe(id);
        else expect(`${r.requestId}_`.length).toBeLessThan(id.length);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('KOOK answer parsers fuzz', () => {
  it('parseJoin: a typed answer or VALIDATION_FAILED', () => {
    fc.assert(
      fc.property(values(JOIN_KEYS), (v) => {
        const err = onlyOurErrors(() => {
          const j = parseJoin(v);
          expect(Number.isInteger(j.port) && j.port >= 1 && j.port <= 65535).toBe(true);
          expect(Number.isInteger(j.audioSsrc) && j.audioPt >= 0 && j.audioPt <= 127).toBe(true);
        });
        if (err !== undefined) expect(err.code).toBe('VALIDATION_FAILED');
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('parseJoin: near-valid answers with one field replaced', () => {
    const good = { ip: '10.0.0.1', port: '30000', rtcp_mux: false, rtcp_port: 30001, bitrate: 48000, audio_ssrc: '1111', audio_pt: '111' };
    fc.assert(
      fc.property(fc.constantFrom(...JOIN_KEYS), anything, (key, value) => {
        const err = onlyOurErrors(() => parseJoin({ ...good, [key]: value }));
        if (err !== undefined) expect(err.code).toBe('VALIDATION_FAILED');
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('parseListPage: a page (finite numbers) or VALIDATION_FAILED', () => {
    fc.assert(
      fc.property(values(LIST_KEYS), (v) => {
        const err = onlyOurErrors(() => {
          const p = parseListPage(v);
          for (const n of Object.values(p.meta)) expect(Number.isFinite(n)).toBe(true);
          for (const it of p.items) expect(typeof it.id).toBe('string');
        });
        if (err !== undefined) expect(err.code).toBe('VALIDATION_FAILED');
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  // Regression: a bigint (or any value JSON.stringify refuses) in a join answer made the error message itself throw
  // a TypeError ("Do not know how to serialize a BigInt") instead of VALIDATION_FAILED.
  it('parseJoin describes unserialisable values instead of throwing TypeError', () => {
    expect(onlyOurErrors(() => parseJoin({ ip: '1.2.3.4', port: 10n }))?.code).toBe('VALIDATION_FAILED');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(onlyOurErrors(() => parseJoin({ ip: '1.2.3.4', port: cyclic }))?.code).toBe('VALIDATION_FAILED');
  });
});
