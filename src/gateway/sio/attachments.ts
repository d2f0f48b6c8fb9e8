/**
 * Binary attachments of Socket.IO packets (BINARY_EVENT 5, BINARY_ACK 6): after the text packet
 * come `n` binary WebSocket messages. Bounded before anything is buffered: a packet declaring more
 * than `maxAttachments` is refused on its header (CVE-2026-33151 in socket.io-parser was an
 * unbounded count), and the attachments of one packet may add up to `maxBytes`. A refused packet's
 * attachments are still read off the socket and dropped, so the connection stays usable: the app
 * gets a typed error, not a reconnect.
 */
import { AppError } from '../../kernel/errors.js';
import { fillPlaceholders, type SioPacket } from '../codecs/socketio.js';

export type BinaryPacket = Extract<SioPacket, { kind: 'event' | 'ack' }>;

export interface AttachmentLimits {
  maxAttachments: number;
  maxBytes: number;
}

/** What one binary message did to the packet being read. */
export type AttachmentStep =
  | { kind: 'more' }
  | { kind: 'done'; packet: BinaryPacket }
  /** The packet failed now (report once); its remaining attachments are skipped. */
  | { kind: 'failed'; packet: BinaryPacket; error: AppError }
  /** Skipped: an attachment of a packet that already failed. */
  | { kind: 'skipped' };

interface Reading {
  packet: BinaryPacket;
  expected: number;
  received: number;
  bytes: number;
  parts: Uint8Array[] | undefined;
}

export class AttachmentReader {
  private reading: Reading | undefined;

  constructor(private readonly limits: AttachmentLimits) {}

  /** True while binary messages of a packet are expected. */
  get busy(): boolean {
    return this.reading !== undefined;
  }

  /** A binary packet's header arrived. Returns the error when its count is over the limit. */
  begin(packet: BinaryPacket): AppError | undefined {
    const over = packet.attachments > this.limits.maxAttachments;
    if (packet.attachments > 0) this.reading = { packet, expected: packet.attachments, received: 0, bytes: 0, parts: over ? undefined : [] };
    return over ? new AppError('payload_too_large', `a packet may carry at most ${this.limits.maxAttachments} binary attachments`) : undefined;
  }

  /**
   * One binary message; `bytes` is copied when kept. `frameLimit`: the most bytes one message may
   * have (a larger one fails the packet).
   */
  add(bytes: ArrayBuffer, frameLimit: number): AttachmentStep | undefined {
    const reading = this.reading;
    if (!reading) return undefined;
    reading.received++;
    reading.bytes += bytes.byteLength;
    const last = reading.received === reading.expected;
    if (last) this.reading = undefined;
    if (!reading.parts) return { kind: 'skipped' };
    if (reading.bytes > this.limits.maxBytes || bytes.byteLength > frameLimit) {
      reading.parts = undefined;
      const error =
        bytes.byteLength > frameLimit
          ? new AppError('payload_too_large', `a binary attachment may have at most ${frameLimit} bytes`)
          : new AppError('payload_too_large', `binary attachments of one packet may add up to ${this.limits.maxBytes} bytes`);
      return { kind: 'failed', packet: reading.packet, error };
    }
    reading.parts.push(Buffer.from(bytes.slice(0)));
    if (!last) return { kind: 'more' };
    const args = fillPlaceholders(reading.packet.args, reading.parts);
    if (typeof args === 'string') return { kind: 'failed', packet: reading.packet, error: new AppError('bad_request', args) };
    return { kind: 'done', packet: { ...reading.packet, args } };
  }
}
