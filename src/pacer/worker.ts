/**
 * The pacer thread: a thin shell around {@link PacerCore}. It owns the UDP sockets of every stream in the process and
 * sends each packet at its deadline on its own event loop, so the host's work (a bot's JSON parse, decoding, a GC
 * pause) never reaches the wire. Being its own thread it can afford precise blocking sleeps before deadlines.
 */

import { parentPort, workerData } from 'node:worker_threads';
import { openUdpTransport } from '../transport/udp.js';
import { setThreadNice, setThreadRealtime } from '../util/threadPriority.js';
import { PacerCore } from './core.js';
import type { PacerBatch, PacerReply } from './protocol.js';
import { Scheduler, type SchedulerPrecision } from './scheduler.js';

const port = parentPort;
if (port === null) throw new Error('pacer/worker.ts runs as a worker thread');

const data = (workerData ?? {}) as { precision?: SchedulerPrecision; maxBlockShare?: number; nice?: number; realtime?: boolean };
// Deadlines first: on a busy machine this thread should run before threads that have a buffer to spend.
// Real-time scheduling where allowed: on EEVDF kernels a waking thread with a mere nice value may wait out a busy
// thread's slice (~3 ms); measured at 40 streams, p99 lateness 1.9-3.8 ms with nice -10 alone, 0.14-0.32 ms with it.
if (!(data.realtime ?? true) || !setThreadRealtime(10)) setThreadNice(data.nice ?? -10);
// Blocking sleeps cost nothing on the host here: this thread has nothing else to do, so it may sleep all the time.
const envNum = (name: string): number | undefined => {
  const v = process.env[name];
  return v === undefined || v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v);
};
const scheduler = new Scheduler({
  precision: data.precision ?? 'balanced',
  maxBlockShare: data.maxBlockShare ?? envNum('KOOK_RTP_PACER_BLOCK') ?? 1,
  ...(envNum('KOOK_RTP_PACER_BATCH') === undefined ? {} : { batchMs: envNum('KOOK_RTP_PACER_BATCH') as number }),
});

const core = new PacerCore({
  scheduler,
  openTransport: (t) =>
    openUdpTransport({
      host: t.host,
      port: t.port,
      rtcpMux: t.rtcpMux,
      ...(t.rtcpPort === undefined ? {} : { rtcpPort: t.rtcpPort }),
      ...(t.localPort === undefined ? {} : { localPort: t.localPort }),
      now: () => scheduler.clock.now(),
    }),
  post: (reply: PacerReply, transfer?: ArrayBuffer[]) => port.postMessage(reply, transfer ?? []),
  ...(envNum('KOOK_RTP_PACER_GRID') === undefined ? {} : { phaseGridMs: envNum('KOOK_RTP_PACER_GRID') as number }),
});

port.on('message', (batch: PacerBatch) => core.handleBatch(batch));
port.postMessage({ type: 'ready', timeOrigin: performance.timeOrigin } satisfies PacerReply);
