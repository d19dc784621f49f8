/**
 * Recorders of what a sender puts on the wire, fed from the sender's `onPacket` hook: every datagram as a libpcap file
 * (Wireshark and tshark open it), and the Opus payloads as an Ogg/Opus file (RFC 7845) any player opens.
 *
 * File I/O lives here, at the edge; the formats themselves are the pure writers in `wire/pcap` and `wire/ogg`.
 * Writes are buffered through a file stream and never block or throw into the send path: a write error is kept and
 * reported by `close()`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { KookRtpError } from '../errors.js';
import type { PacketKind, TransportInfo } from '../transport/transport.js';
import { OggOpusWriter } from '../wire/ogg/opusWriter.js';
import { opusPacketSamples } from '../wire/opus/toc.js';
import { encodePcapFileHeader, encodePcapRecord } from '../wire/pcap/pcap.js';
import { RTP_HEADER_SIZE, decodeRtpPacket } from '../wire/rtp/packet.js';

/** A packet sink that writes a file. */
export interface PacketRecorder {
  /**
   * Records one datagram that was just sent.
   * @param bytes - the datagram
   * @param kind - RTP or RTCP
   * @param wallMs - Unix ms when it was sent
   * @param info - the transport's addresses (source and destination of the datagram)
   */
  write(bytes: Uint8Array, kind: PacketKind, wallMs: number, info: TransportInfo): void;
  /** Packets written so far. */
  readonly packets: number;
  /** Flushes and closes the file. Rejects with `WRITE_FAILED` when a write failed (disk full, no permission...). */
  close(): Promise<void>;
}

class FileSink {
  readonly #stream: WriteStream;
  #error: Error | undefined;

  constructor(readonly path: string) {
    this.#stream = createWriteStream(path);
    this.#stream.on('error', (err) => {
      this.#error ??= err;
    });
  }

  write(bytes: Uint8Array): void {
    if (this.#error === undefined) this.#stream.write(bytes);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#stream.end(() => {
        if (this.#error !== undefined) {
          reject(new KookRtpError('WRITE_FAILED', `could not write ${this.path}: ${this.#error.message}`, { cause: this.#error }));
        } else resolve();
      });
    });
  }
}

/**
 * Writes every datagram as a libpcap file (Ethernet link type, IPv4/IPv6 + UDP headers with real checksums), so the
 * file reads like a capture on the loopback interface.
 * @param path - the file to create (truncated if it exists)
 */
export function createPcapRecorder(path: string): PacketRecorder {
  const sink = new FileSink(path);
  sink.write(encodePcapFileHeader());
  let packets = 0;
  let ipId = 0;
  return {
    get packets() {
      return packets;
    },
    write(bytes, kind, wallMs, info) {
      const rtcp = kind === 'rtcp';
      sink.write(
        encodePcapRecord(
          {
            timeMs: wallMs,
            src: { address: info.localAddress, port: rtcp ? info.rtcpLocalPort : info.localPort },
            dst: { address: info.remoteAddress, port: rtcp ? info.remoteRtcpPort : info.remotePort },
            payload: bytes,
          },
          { ipId: (ipId = (ipId + 1) & 0xffff) },
        ),
      );
      packets++;
    },
    close: () => sink.close(),
  };
}

/**
 * Writes the Opus payload of every RTP packet sent as an Ogg/Opus file (RFC 7845): what the far end heard, pauses
 * left out (an Ogg granule position cannot jump). RTCP is ignored.
 * @param path - the file to create (truncated if it exists)
 * @param options - comments for OpusTags (e.g. TITLE)
 */
export function createOggRecorder(path: string, options: { readonly comments?: readonly (readonly [string, string])[] } = {}): PacketRecorder {
  const sink = new FileSink(path);
  const writer = new OggOpusWriter({ ...(options.comments === undefined ? {} : { comments: options.comments }) });
  sink.write(writer.header());
  let packets = 0;
  return {
    get packets() {
      return packets;
    },
    write(bytes, kind) {
      if (kind !== 'rtp' || bytes.length <= RTP_HEADER_SIZE) return;
      const payload = decodeRtpPacket(bytes).payload;
      let samples: number;
      try {
        samples = opusPacketSamples(payload);
      } catch {
        return; // not Opus: nothing a player could decode
      }
      for (const page of writer.write(payload, samples)) sink.write(page);
      packets++;
    },
    close: () => {
      sink.write(writer.end());
      return sink.close();
    },
  };
}
