import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createShumeiEmulator, type ShumeiEmulator } from '../../../src/emulator/services/shumei.js';
import { createShumeiClient } from '../../../src/services/shumei.js';
import { createModerationTap, type ModerationTap } from '../../../src/services/tap.js';
import { feed, waitFor } from '../../services/helpers.js';

let emu: ShumeiEmulator | undefined;
let tap: ModerationTap | undefined;
let sink: Server | undefined;
afterEach(async () => {
  await emu?.close();
  await tap?.close();
  sink?.closeAllConnections();
  sink?.close();
  emu = tap = sink = undefined;
});

/** A callback receiver that answers 500 to the first `failFirst` requests. */
async function receiver(failFirst: number): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  let n = 0;
  sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
      res.writeHead(n++ < failFirst ? 500 : 200).end();
    });
  });
  await new Promise<void>((r) => sink!.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}/cb`, bodies };
}

describe('Shumei emulator', () => {
  it('re-sends a callback until it gets HTTP 200, in the flat shape when asked', async () => {
    const r = await receiver(3);
    emu = await createShumeiEmulator({ accessKeys: ['ak'], segmentMs: 300, callbackIntervalMs: 20, callbackShape: 'flat', rejectAboveDb: -100 });
    tap = await createModerationTap();
    tap.start();
    const t = tap;
    const stop = feed((f) => t.writePcm(f), () => 3000);
    try {
      await createShumeiClient({ accessKey: 'ak', baseUrl: emu.baseUrl }).submit({ type: 'PORN', callback: r.url, data: { tokenId: 't', btId: 'b', url: tap.url } });
      await waitFor(() => emu!.deliveries.length >= 1, 10_000, 'a delivery');
    } finally {
      stop();
    }
    expect(emu.deliveries[0]).toMatchObject({ delivered: true, attempts: 4 });
    expect(r.bodies[0]).toEqual(r.bodies[3]);
    expect(r.bodies[0]).toMatchObject({ code: 1100, btid: 'b', riskLevel: 'REJECT' });
    expect(String(r.bodies[0]!.requestId)).toMatch(/^[0-9a-f]{32}_0$/);
  });

  it('gives up after the configured number of attempts', async () => {
    const r = await receiver(1000);
    emu = await createShumeiEmulator({ accessKeys: ['ak'], callbackIntervalMs: 5, callbackAttempts: 20 });
    await createShumeiClient({ accessKey: 'ak', baseUrl: emu.baseUrl }).submit({ type: 'PORN', callback: r.url, data: { tokenId: 't', btId: 'b', url: 'http://127.0.0.1:1/none.flv' } });
    await waitFor(() => emu!.deliveries.length === 1, 10_000, 'the 1904 delivery');
    expect(emu.deliveries[0]).toMatchObject({ delivered: false, attempts: 20 });
    expect(r.bodies).toHaveLength(20);
    expect(r.bodies[0]).toMatchObject({ code: 1904 }); // the pull failed
  });
});
