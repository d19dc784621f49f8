/**
 * A KOOK voice session: `voice/join`, then ONE sender on the answered ip/port/rtcp_port/rtcp_mux with the final SSRC
 * and payload type and the bitrate guard at the answered bitrate, a player on it, `voice/keep-alive` every 45 s while
 * joined, and `voice/leave` on {@link VoiceSession.leave}, on dispose, or on SIGINT/SIGTERM when asked to.
 *
 * When the far side closes the stream (KOOK or the emulator kicks it, or reclaims the address: the connected socket
 * then gets ICMP port-unreachable, or keep-alive answers that the bot is not in the channel), the session reports
 * `streamClosed`, and with `rejoin` enabled it joins again (a new address needs a new socket: KOOK binds an address to
 * the first sender) and the player continues the queue where it stopped, on the new sender.
 */
import { EventEmitter } from 'node:events';
import { KookRtpError, isKookRtpError } from '../errors.js';
import { createPlayer, type Player, type PlayerOptions } from '../engine/player.js';
import { createRtpSender, type RtpSender, type RtpSenderOptions } from '../engine/sender.js';
import type { SendErrorEvent } from '../pacer/stats.js';
import { createKookClient, type KookClient, type KookVoiceJoin } from './client.js';

/** Why the far side stopped taking the stream. */
export type StreamClosedReason = 'unreachable' | 'reclaimed';

/** Options of {@link createVoiceSession}. */
export interface VoiceSessionOptions {
  /** A client to use; otherwise one is made from `token` (and `apiBase`). */
  readonly client?: KookClient;
  /** Bot token (never logged). Required without `client`. */
  readonly token?: string;
  /** API base URL, default KOOK's. */
  readonly apiBase?: string;
  /** Voice channel to join. */
  readonly channelId: string;
  /** Requested SSRC (KOOK's default 1111); the answered one is used. */
  readonly audioSsrc?: number;
  /** Requested payload type (KOOK's default 111); the answered one is used. */
  readonly audioPt?: number;
  /** RTCP on the RTP port (RFC 5761), default true. */
  readonly rtcpMux?: boolean;
  /** Room password, when it has one. */
  readonly password?: string;
  /** Keep-alive interval, ms. Default 45 000 (KOOK's advice). 0 disables it. */
  readonly keepAliveMs?: number;
  /** Join again after the far side closed the stream, and continue the queue. Default false. */
  readonly rejoin?: boolean | { readonly maxAttempts?: number };
  /** Consecutive port-unreachable send errors that mean the far side closed the stream. Default 3. */
  readonly unreachableAfter?: number;
  /** Sender settings (guard, RTCP, silence frames, clock, onPacket...); target/ssrc/pt/bitrate come from join. */
  readonly sender?: Omit<RtpSenderOptions, 'target' | 'ssrc' | 'payloadType' | 'roomBitrate' | 'transport'>;
  /** Player settings (volume, loop, tap). */
  readonly player?: Omit<PlayerOptions, 'sender' | 'roomBitrate'>;
  /** Leave on SIGINT/SIGTERM, then let the signal take its course. Default false (the CLI sets it). */
  readonly handleSignals?: boolean;
}

/** Typed event map of {@link VoiceSession}. */
export interface VoiceSessionEvents {
  joined: [join: KookVoiceJoin];
  keepAlive: [];
  /** The far side stopped taking the stream. */
  streamClosed: [event: { readonly reason: StreamClosedReason; readonly detail: string }];
  rejoined: [join: KookVoiceJoin];
  left: [];
  /** Emitted only when someone listens. */
  error: [error: KookRtpError];
}

/** See the module comment; create with {@link createVoiceSession}. */
export class VoiceSession extends EventEmitter<VoiceSessionEvents> {
  readonly #opts: VoiceSessionOptions;
  readonly #client: KookClient;
  #join: KookVoiceJoin | undefined;
  #sender: RtpSender | undefined;
  #player: Player | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #left = false;
  #leaving: Promise<void> | undefined;
  #rejoins = 0;
  #handlingClose = false;
  readonly #signalHandler = (signal: NodeJS.Signals): void => {
    // leave() is meant never to reject, but a player or socket failing to close must not turn the signal into an
    // unhandled rejection: the signal is re-raised whatever happened.
    void this.leave()
      .catch((err: unknown) => this.#emitError(err))
      .finally(() => {
        process.off('SIGINT', this.#signalHandler);
        process.off('SIGTERM', this.#signalHandler);
        // With our handler gone, re-raising the signal lets any other handler or the default action run.
        process.kill(process.pid, signal);
      });
  };

  constructor(options: VoiceSessionOptions) {
    super();
    if (!options.channelId) throw new KookRtpError('INVALID_ARGUMENT', 'channelId is required');
    if (options.client === undefined && !options.token) {
      throw new KookRtpError('INVALID_ARGUMENT', 'a voice session needs a KOOK client or a bot token (--token or KOOK_TOKEN)');
    }
    this.#opts = options;
    this.#client =
      options.client ??
      createKookClient({ token: options.token ?? '', ...(options.apiBase === undefined ? {} : { apiBase: options.apiBase }) });
  }

  /** The join answer in force (after {@link VoiceSession.join}). */
  get joinInfo(): KookVoiceJoin | undefined {
    return this.#join;
  }

  /**
   * The player: queue tracks here.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` before {@link VoiceSession.join}.
   */
  get player(): Player {
    if (this.#player === undefined) throw new KookRtpError('INVALID_ARGUMENT', 'join() the voice channel before using the player');
    return this.#player;
  }

  /** The sender in force (it changes on rejoin). */
  get sender(): RtpSender | undefined {
    return this.#sender;
  }

  /**
   * Joins the channel, opens the sender on the answered address, starts keep-alive.
   * @returns the join answer (final SSRC, payload type, bitrate...)
   * @throws the client's errors (`KookApiError`, `KookHttpError`, `TIMEOUT`...) and `SOCKET_ERROR`
   */
  async join(): Promise<KookVoiceJoin> {
    if (this.#left) throw new KookRtpError('STREAM_CLOSED', 'this session has left its channel: create a new one');
    if (this.#join !== undefined) return this.#join;
    const join = await this.#doJoin();
    let sender: RtpSender;
    try {
      sender = await this.#openSender(join);
    } catch (err) {
      // The push address was granted but cannot be used: give it back rather than hold one of the bot's pushes.
      await this.#client.leave(this.#opts.channelId).catch(() => undefined);
      throw err;
    }
    this.#player = createPlayer({ ...this.#opts.player, sender, roomBitrate: join.bitrate });
    this.#startKeepAlive();
    if (this.#opts.handleSignals) {
      process.on('SIGINT', this.#signalHandler);
      process.on('SIGTERM', this.#signalHandler);
    }
    this.emit('joined', join);
    return join;
  }

  /**
   * Stops the player, sends the RTCP BYE, closes the socket(s) and calls `voice/leave`. Idempotent; never rejects
   * (a failing leave is reported as an `error` event).
   */
  leave(): Promise<void> {
    this.#leaving ??= this.#doLeave();
    return this.#leaving;
  }

  /** Same as {@link VoiceSession.leave}. */
  dispose(): Promise<void> {
    return this.leave();
  }

  async #doLeave(): Promise<void> {
    this.#left = true;
    this.#stopKeepAlive();
    process.off('SIGINT', this.#signalHandler);
    process.off('SIGTERM', this.#signalHandler);
    if (this.#player !== undefined) await this.#player.destroy();
    else await this.#sender?.close();
    if (this.#join !== undefined) {
      try {
        await this.#client.leave(this.#opts.channelId);
      } catch (err) {
        this.#emitError(err);
      }
    }
    this.emit('left');
  }

  #doJoin(): Promise<KookVoiceJoin> {
    const o = this.#opts;
    return this.#client.join({
      channelId: o.channelId,
      ...(o.audioSsrc === undefined ? {} : { audioSsrc: o.audioSsrc }),
      ...(o.audioPt === undefined ? {} : { audioPt: o.audioPt }),
      ...(o.rtcpMux === undefined ? {} : { rtcpMux: o.rtcpMux }),
      ...(o.password === undefined ? {} : { password: o.password }),
    });
  }

  async #openSender(join: KookVoiceJoin): Promise<RtpSender> {
    const sender = createRtpSender({
      ...this.#opts.sender,
      target: { host: join.ip, port: join.port, rtcpMux: join.rtcpMux, rtcpPort: join.rtcpPort },
      ssrc: join.audioSsrc,
      payloadType: join.audioPt,
      roomBitrate: join.bitrate,
    });
    const threshold = this.#opts.unreachableAfter ?? 3;
    sender.on('sendError', (e: SendErrorEvent) => {
      if (sender !== this.#sender) return;
      if (e.code === 'ECONNREFUSED' && e.consecutive >= threshold) {
        void this.#farSideClosed('unreachable', `${e.consecutive} sends in a row refused (ICMP port unreachable)`);
      }
    });
    await sender.start();
    this.#join = join;
    this.#sender = sender;
    return sender;
  }

  #startKeepAlive(): void {
    const every = this.#opts.keepAliveMs ?? 45_000;
    if (every <= 0) return;
    this.#keepAlive = setInterval(() => {
      this.#client
        .keepAlive(this.#opts.channelId)
        .then(
          () => this.emit('keepAlive'),
          (err: unknown) => {
            // KOOK answers a business error when the address is gone; network trouble is only reported.
            if (isKookRtpError(err, 'KOOK_API')) void this.#farSideClosed('reclaimed', `keep-alive refused: ${err.message}`);
            else this.#emitError(err);
          },
        )
        .catch(() => {
          // A throwing 'keepAlive' or 'error' listener: user code, but not worth an unhandled rejection every 45 s.
        });
    }, every);
    this.#keepAlive.unref();
  }

  #stopKeepAlive(): void {
    if (this.#keepAlive !== undefined) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  async #farSideClosed(reason: StreamClosedReason, detail: string): Promise<void> {
    if (this.#handlingClose || this.#left) return;
    this.#handlingClose = true;
    try {
      this.emit('streamClosed', { reason, detail });
      const rejoin = this.#opts.rejoin;
      const maxAttempts = typeof rejoin === 'object' ? (rejoin.maxAttempts ?? 3) : 3;
      if (!rejoin || this.#rejoins >= maxAttempts) {
        this.#player?.stop();
        return;
      }
      this.#rejoins++;
      const old = this.#sender;
      const join = await this.#doJoin();
      const sender = await this.#openSender(join);
      this.#player?.switchSender(sender);
      await old?.close();
      this.emit('rejoined', join);
    } catch (err) {
      this.#emitError(err);
      this.#player?.stop();
    } finally {
      this.#handlingClose = false;
    }
  }

  #emitError(err: unknown): void {
    if (this.listenerCount('error') === 0) return;
    const e = isKookRtpError(err) ? err : new KookRtpError('STREAM_CLOSED', err instanceof Error ? err.message : String(err));
    this.emit('error', e);
  }
}

/**
 * Creates a voice session (not yet joined: call `join()`).
 *
 * @example
 * const session = createVoiceSession({ token: process.env.KOOK_TOKEN, channelId: '123' });
 * await session.join();
 * session.player.enqueue('song.mp3');
 */
export function createVoiceSession(options: VoiceSessionOptions): VoiceSession {
  return new VoiceSession(options);
}
