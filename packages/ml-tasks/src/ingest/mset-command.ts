// One MSET encoded straight into RESP bytes, sent through ioredis as a Command whose bytes are
// already written — the same mechanism ioredis uses for its own script commands (a Command
// subclass overriding toWritable). ioredis still owns the connection, authentication, database
// selection, reconnection and the reply; only the encoding of this one bulk command is ours.
// It matters because ingest is the hot path: ioredis encodes each argument with a byteLength call
// and a string concatenation; here key bytes are copied and each label's bytes are encoded once.
import { Command } from 'ioredis';

const CRLF_LENGTH = 2;
const LABEL_CACHE_LIMIT = 4096;

/** An MSET whose RESP bytes are given. */
class EncodedCommand extends Command {
  private readonly payload: Buffer;

  constructor(payload: Buffer) {
    super('mset', []);
    this.payload = payload;
  }

  override toWritable(): Buffer {
    return this.payload;
  }
}

/** A sender for `redis.sendCommand`, accepting an encoded MSET. */
export interface CommandSender {
  sendCommand(command: Command): unknown;
}

/** Sends pre-encoded MSET bytes; resolves with Redis' reply ('OK'). */
export function sendEncodedMset(redis: CommandSender, payload: Buffer): Promise<unknown> {
  const command = new EncodedCommand(payload);
  redis.sendCommand(command);
  return command.promise;
}

/** Encodes MSET commands of `prefix + key → label` pairs. Reusable across batches. */
export class MsetEncoder {
  private readonly prefix: Buffer;
  private readonly labels = new Map<string, Buffer>();

  constructor(prefix: string) {
    this.prefix = Buffer.from(prefix, 'utf8');
  }

  // `$<len>\r\n<label>\r\n`, cached per distinct label (class names repeat; regression values may not).
  private labelBytes(label: string): Buffer {
    let bytes = this.labels.get(label);
    if (bytes) return bytes;
    const body = Buffer.from(label, 'utf8');
    bytes = Buffer.from(`$${body.length}\r\n${label}\r\n`, 'utf8');
    if (this.labels.size < LABEL_CACHE_LIMIT) this.labels.set(label, bytes);
    return bytes;
  }

  /** `MSET prefix+keys[i] labels[i] …` for rows [start, end), keys given as strings. */
  encodeStrings(keys: readonly string[], labels: readonly string[], start: number, end: number): Buffer {
    const pairs = end - start;
    let size = 32;
    for (let row = start; row < end; row++) {
      size +=
        16 +
        this.prefix.length +
        Buffer.byteLength(keys[row] as string) +
        this.labelBytes(labels[row] as string).length;
    }
    const out = Buffer.allocUnsafe(size);
    let at = out.write(`*${1 + 2 * pairs}\r\n$4\r\nMSET\r\n`, 0, 'latin1');
    for (let row = start; row < end; row++) {
      const key = keys[row] as string;
      const keyLength = this.prefix.length + Buffer.byteLength(key);
      at += out.write(`$${keyLength}\r\n`, at, 'latin1');
      at += this.prefix.copy(out, at);
      at += out.write(key, at, 'utf8');
      out[at++] = 13;
      out[at++] = 10;
      at += this.labelBytes(labels[row] as string).copy(out, at);
    }
    return out.subarray(0, at);
  }

  /**
   * `MSET prefix+key_i label_i …` for `count` keys packed at `stride` bytes each in `keys`
   * (e.g. 64 hex characters from RowKeyEncoder), labels[labelStart + i].
   */
  encodePacked(keys: Uint8Array, stride: number, count: number, labels: readonly string[], labelStart: number): Buffer {
    const keyLength = this.prefix.length + stride;
    const header = `$${keyLength}\r\n`;
    let size = 32;
    for (let i = 0; i < count; i++) {
      size += header.length + keyLength + CRLF_LENGTH + this.labelBytes(labels[labelStart + i] as string).length;
    }
    const out = Buffer.allocUnsafe(size);
    const headerBytes = Buffer.from(header, 'latin1');
    let at = out.write(`*${1 + 2 * count}\r\n$4\r\nMSET\r\n`, 0, 'latin1');
    for (let i = 0; i < count; i++) {
      at += headerBytes.copy(out, at);
      at += this.prefix.copy(out, at);
      out.set(keys.subarray(i * stride, (i + 1) * stride), at);
      at += stride;
      out[at++] = 13;
      out[at++] = 10;
      at += this.labelBytes(labels[labelStart + i] as string).copy(out, at);
    }
    return out.subarray(0, at);
  }
}
