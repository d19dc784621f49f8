import { createPublicKey, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTupuEmulator, TupuEmulatorCode, type TupuEmulator } from '../../src/emulator/services/tupu.js';
import { ServiceError } from '../../src/services/errors.js';
import { createTupuClient, loadPrivateKey, rsaSha256Sign, rsaSha256Verify, tupuSignString, unwrapTupuSigned } from '../../src/services/tupu.js';
import { keys } from './helpers.js';

// Made with: printf 'secret-1,1541499770,123456789' | openssl dgst -sha256 -sign fixtures/keys/test-client.pkcs1.pem | base64 -w0
const VECTOR =
  'ZV7yjN5Kmyjnz743qLO01p4SC/zOAaJ/WDtcV6NF+wS44/xK3r9usTSyw49mkEt+ocd+cGWtjw+8XgtNuIlAEFaVXLiEReArevHSeW2e2EttKnhS5ZUvcd7XOJyLOOOXbwNNEFe0ftASbAyOe2Ty9Qej5UDd2pmHSOH0NTFro+tFQBDvINyNe19kE9T9bKPiE598ap6oR8IIUiG6FClFOIWnwLVI37DTuT1O9ehiDOcFNJ9vBVGPlkTiWZwVgpBV0ajnXkMZuYoXdykaecPGWHR+8rxJjtNt+7o7H7VlA+bZYqJyx4pFTeayd/t5BFPUntD/P2/wFCrrGXNHlWVtiA==';

let emu: TupuEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('Tupu signing', () => {
  it.each([['PKCS#1', keys.clientPkcs1], ['PKCS#8', keys.clientPkcs8]])('matches the openssl vector with a %s key', (_n, pem) => {
    const text = tupuSignString('secret-1', 1541499770, 123456789);
    expect(text).toBe('secret-1,1541499770,123456789');
    const sig = rsaSha256Sign(text, loadPrivateKey(pem));
    expect(sig).toBe(VECTOR);
    // checked independently with node:crypto
    expect(verify('sha256', Buffer.from(text), createPublicKey(keys.clientPublic), Buffer.from(sig, 'base64'))).toBe(true);
  });

  it('verification fails on any change and never throws on junk', () => {
    const k = createPublicKey(keys.clientPublic);
    expect(rsaSha256Verify('secret-1,1541499770,123456789', VECTOR, k)).toBe(true);
    expect(rsaSha256Verify('secret-1,1541499770,123456780', VECTOR, k)).toBe(false);
    expect(rsaSha256Verify('x', '!!not base64!!', k)).toBe(false);
    expect(rsaSha256Verify('x', '', k)).toBe(false);
  });

  it('refuses a bad private key without echoing it', () => {
    const bad = '-----BEGIN RSA PRIVATE KEY-----\nSECRETSTUFF\n-----END RSA PRIVATE KEY-----';
    let err: unknown;
    try {
      createTupuClient({ secretId: 's', privateKey: bad });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'VALIDATION_FAILED', field: 'privateKey' });
    expect(String((err as Error).message)).not.toContain('SECRETSTUFF');
  });

  it('unwraps signed answers only when they verify', () => {
    const inner = { code: 0, message: 'success', result: [], nonce: '0.1', timestamp: 1552391372490 };
    const json = JSON.stringify(inner);
    const signature = rsaSha256Sign(json, loadPrivateKey(keys.tupuPkcs1));
    const tupuKey = createPublicKey(keys.tupuPublic);
    expect(unwrapTupuSigned({ signature, json }, tupuKey)).toEqual(inner);
    expect(unwrapTupuSigned(inner, tupuKey)).toEqual(inner); // plain answers too
    expect(() => unwrapTupuSigned({ signature, json: json.replace('success', 'succesz') }, tupuKey)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    expect(() => unwrapTupuSigned({ signature, json }, undefined)).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });
});

describe('Tupu client against the emulator', () => {
  const stream = { url: 'http://127.0.0.1:9/s.flv', callback: 'http://127.0.0.1:9/cb', roomId: '1', callbackRules: 0 as const };

  it.each([true, false])('submits and closes (signed answers: %s)', async (signAnswers) => {
    emu = await createTupuEmulator({ customers: { sid: keys.clientPublic }, signingKey: keys.tupuPkcs8, signAnswers });
    const c = createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs8, tupuPublicKey: keys.tupuPublic, host: emu.baseUrl });
    const [r] = await c.submit([stream], { tasks: ['5caee6b2a76925c55a09a6d2'] });
    expect(r).toMatchObject({ url: stream.url, roomId: '1' });
    expect(r!.requestId.length).toBeGreaterThan(10);
    expect(await c.close([r!.requestId])).toEqual([{ requestId: r!.requestId, status: 'closed' }]);
  });

  it('a signature the emulator cannot verify is a typed SERVICE_API error with its code', async () => {
    emu = await createTupuEmulator({ customers: { sid: keys.tupuPublic }, signingKey: keys.tupuPkcs8 });
    const c = createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs1, host: emu.baseUrl });
    await expect(c.submit([stream])).rejects.toMatchObject({ code: 'SERVICE_API', apiCode: TupuEmulatorCode.signatureInvalid });
    const unknown = createTupuClient({ secretId: 'nobody', privateKey: keys.clientPkcs1, host: emu.baseUrl });
    await expect(unknown.close(['x'])).rejects.toMatchObject({ code: 'SERVICE_API', apiCode: TupuEmulatorCode.unknownSecretId });
  });

  it('rejects over-concurrency instead of queueing', async () => {
    emu = await createTupuEmulator({ customers: { sid: keys.clientPublic }, signingKey: keys.tupuPkcs8, maxConcurrent: 1 });
    const c = createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs1, host: emu.baseUrl });
    const source = 'http://127.0.0.1:9/never.flv';
    await expect(c.submit([{ ...stream, url: source }, { ...stream, url: source }])).rejects.toMatchObject({ apiCode: TupuEmulatorCode.overConcurrency });
  });

  it('refuses a signed answer made with the wrong key', async () => {
    emu = await createTupuEmulator({ customers: { sid: keys.clientPublic }, signingKey: keys.clientPkcs8, signAnswers: true });
    const c = createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs1, tupuPublicKey: keys.tupuPublic, host: emu.baseUrl });
    await expect(c.submit([stream])).rejects.toBeInstanceOf(ServiceError);
    await expect(c.submit([stream])).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
  });

  it.each([
    { name: 'no streams', streams: [], field: 'speechStream' },
    { name: 'bad url', streams: [{ ...stream, url: 'file:///x' }], field: 'speechStream[0].url' },
    { name: 'bad callback', streams: [{ ...stream, callback: 'rtmp://x' }], field: 'speechStream[0].callback' },
    { name: 'bad callbackRules', streams: [{ ...stream, callbackRules: 4 }], field: 'speechStream[0].callbackRules' },
  ])('validates before sending: $name', async ({ streams, field }) => {
    const c = createTupuClient({ secretId: 'sid', privateKey: keys.clientPkcs1, host: 'http://127.0.0.1:1' });
    await expect(c.submit(streams as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', field });
  });
});
