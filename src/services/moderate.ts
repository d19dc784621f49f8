/**
 * Glue between a {@link ModerationTap}, the moderation clients and the {@link CallbackServer}: submit the tap URL,
 * route the callbacks for this stream (matched by requestId) to one emitter, close the moderation when the tap stops.
 *
 * Verdicts for the last seconds of a stream come after the stop (the services analyse what they pulled, then call
 * back): callbacks keep being routed for {@link DEFAULT_VERDICT_GRACE_MS} (30 s, `verdictGraceMs`) after the close
 * began, and those verdicts carry `afterStop: true`.
 */
import { isKookRtpError } from '../errors.js';
import type { RiskLevel, ShumeiCallbackEvent, TupuCallbackEvent } from './callbacks.js';
import type { CallbackServer } from './callbackServer.js';
import { ServiceError } from './errors.js';
import { TypedEmitter } from './events.js';
import type { ShumeiClient, ShumeiSubmitOptions, ShumeiStreamData } from './shumei.js';
import type { ModerationTap } from './tap.js';
import type { TupuClient, TupuStream } from './tupu.js';

/** How long verdicts are still delivered after the moderation was closed, ms, by default. */
export const DEFAULT_VERDICT_GRACE_MS = 30_000;

/** A moderation result for the player to forward. */
export interface ModerationEvent {
  /** True when the verdict arrived after the stream was stopped (the close had begun): it is about its last seconds. */
  readonly afterStop: boolean;
  readonly provider: 'shumei' | 'tupu';
  /** The submit's requestId. */
  readonly requestId: string;
  readonly riskLevel: RiskLevel;
  /** A short label when the service gave one (Shumei riskLabel1, Tupu task id). */
  readonly label: string | undefined;
  /** Transcribed text, when the service gave some. */
  readonly text: string | undefined;
  /** The parsed callback. */
  readonly callback: ShumeiCallbackEvent | TupuCallbackEvent;
}

/** Events of a {@link ModerationSession}. */
export type ModerationSessionEvents = {
  moderation: [ModerationEvent];
  submitted: [{ provider: 'shumei' | 'tupu'; requestId: string }];
  /** The service ended the stream on its side (Tupu end callback, Shumei statCode 1, Shumei 1904). */
  ended: [{ provider: 'shumei' | 'tupu'; requestId: string; code: number | undefined }];
  closed: [{ provider: 'shumei' | 'tupu'; requestId: string }];
  error: [ServiceError | Error];
};

/** Options of {@link moderate}. */
export interface ModerateOptions {
  tap: ModerationTap;
  callbackServer: CallbackServer;
  /** Shumei: the submit options without `callback` and `data.url`, which come from the server and the tap. */
  shumei?: {
    client: ShumeiClient;
    submitOptions: Omit<ShumeiSubmitOptions, 'callback' | 'data'> & { data: Omit<ShumeiStreamData, 'url' | 'streamType'> };
  };
  /** Tupu: the stream fields besides `url` and `callback`, plus task ids. */
  tupu?: { client: TupuClient; stream?: Omit<TupuStream, 'url' | 'callback'>; tasks?: readonly string[] };
  /**
   * How long after the close began verdicts are still delivered (marked `afterStop`), ms. Default
   * {@link DEFAULT_VERDICT_GRACE_MS} (30 000). The timer does not keep the process alive.
   */
  verdictGraceMs?: number;
}

/** A running moderation of one tap. */
export interface ModerationSession extends TypedEmitter<ModerationSessionEvents> {
  /** Resolves when every submit has been answered (or failed: see the `error` event). */
  readonly ready: Promise<void>;
  /** The ids of the submits in force. */
  requestIds(): { shumei: string | undefined; tupu: string | undefined };
  /**
   * Closes the moderations at the services; verdicts still arriving within the grace period are delivered (marked
   * `afterStop`), then the session stops listening. Called automatically when the tap stops. Idempotent. Resolves
   * when the services answered the close, not at the end of the grace.
   */
  close(): Promise<void>;
}

/**
 * Starts moderating `tap`: submits its URL to each configured service as soon as the tap is live.
 * Errors are emitted as `error` events (add a listener), never thrown.
 */
export function moderate(options: ModerateOptions): ModerationSession {
  const session = new TypedEmitter<ModerationSessionEvents>() as TypedEmitter<ModerationSessionEvents> & {
    ready: Promise<void>;
    requestIds: ModerationSession['requestIds'];
    close: ModerationSession['close'];
  };
  const { tap, callbackServer } = options;
  let shumeiId: string | undefined;
  let tupuId: string | undefined;
  let closing: Promise<void> | undefined;
  let afterStop = false;
  const graceMs = options.verdictGraceMs ?? DEFAULT_VERDICT_GRACE_MS;
  const report = (e: unknown): void => {
    if (session.listenerCount('error') > 0) session.safeEmit('error', e instanceof Error ? e : new Error(String(e)));
  };

  const onShumei = (ev: ShumeiCallbackEvent): void => {
    if (shumeiId === undefined || ev.requestId !== shumeiId) return;
    if (ev.code !== undefined && ev.code !== 1100) {
      session.safeEmit('ended', { provider: 'shumei', requestId: ev.requestId, code: ev.code });
      return;
    }
    if (ev.riskLevel !== undefined) {
      session.safeEmit('moderation', { provider: 'shumei', requestId: ev.requestId, riskLevel: ev.riskLevel, label: ev.riskLabel1, text: ev.audioText, callback: ev, afterStop });
    }
    if (ev.statCode === 1) session.safeEmit('ended', { provider: 'shumei', requestId: ev.requestId, code: ev.code });
  };
  const onTupu = (ev: TupuCallbackEvent): void => {
    if (tupuId === undefined || ev.requestId !== tupuId) return;
    if (ev.kind === 'end') {
      session.safeEmit('ended', { provider: 'tupu', requestId: tupuId, code: ev.code });
      return;
    }
    const slices = ev.tasks.flatMap((t) => t.slices);
    session.safeEmit('moderation', {
      provider: 'tupu',
      requestId: tupuId,
      riskLevel: ev.riskLevel,
      label: ev.tasks[0]?.taskId,
      text: slices.map((s) => s.content ?? '').join(''),
      callback: ev,
      afterStop,
    });
  };
  callbackServer.on('shumei', onShumei);
  callbackServer.on('tupu', onTupu);

  async function submitShumei(): Promise<void> {
    const s = options.shumei;
    if (!s) return;
    const opts: ShumeiSubmitOptions = { ...s.submitOptions, callback: callbackServer.urls.shumei, data: { ...s.submitOptions.data, streamType: 'NORMAL', url: tap.url } };
    try {
      shumeiId = (await s.client.submit(opts)).requestId;
    } catch (err) {
      // A lost first answer leaves the stream under review: close it and submit again, once.
      if (err instanceof ServiceError && err.code === 'DUPLICATE_STREAM' && err.dupRequestId !== undefined) {
        await s.client.close(err.dupRequestId).catch(report);
        shumeiId = (await s.client.submit(opts)).requestId;
      } else throw err;
    }
    session.safeEmit('submitted', { provider: 'shumei', requestId: shumeiId });
  }

  async function submitTupu(): Promise<void> {
    const t = options.tupu;
    if (!t) return;
    const res = await t.client.submit([{ ...(t.stream ?? {}), url: tap.url, callback: callbackServer.urls.tupu }], t.tasks ? { tasks: t.tasks } : {});
    tupuId = res[0]?.requestId;
    if (tupuId) session.safeEmit('submitted', { provider: 'tupu', requestId: tupuId });
  }

  const submitAll = async (): Promise<void> => {
    await Promise.all([submitShumei().catch(report), submitTupu().catch(report)]);
  };
  session.ready = tap.stats().live
    ? submitAll()
    : new Promise<void>((resolve) => tap.once('start', () => void submitAll().then(resolve)));

  const onStop = (): void => void session.close();
  tap.once('stop', onStop);

  session.requestIds = () => ({ shumei: shumeiId, tupu: tupuId });
  session.close = () => {
    closing ??= (async () => {
      afterStop = true;
      tap.off('stop', onStop);
      // The last seconds' verdicts arrive after the stop: keep routing them for the grace period, then detach.
      const grace = setTimeout(() => {
        callbackServer.off('shumei', onShumei);
        callbackServer.off('tupu', onTupu);
      }, Math.max(0, graceMs));
      grace.unref();
      await session.ready;
      const jobs: Promise<void>[] = [];
      if (options.shumei && shumeiId !== undefined) {
        const id = shumeiId;
        jobs.push(options.shumei.client.close(id).then(() => void session.safeEmit('closed', { provider: 'shumei', requestId: id }), report));
      }
      if (options.tupu && tupuId !== undefined) {
        const id = tupuId;
        jobs.push(options.tupu.client.close([id]).then(() => void session.safeEmit('closed', { provider: 'tupu', requestId: id }), report));
      }
      await Promise.all(jobs);
    })();
    return closing;
  };
  return session;
}

/** True when `err` is a duplicate-push error carrying the id to close. */
export function isDuplicatePush(err: unknown): err is ServiceError & { dupRequestId: string } {
  return isKookRtpError(err, 'DUPLICATE_STREAM') && err instanceof ServiceError && err.dupRequestId !== undefined;
}
