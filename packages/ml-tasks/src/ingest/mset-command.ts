// One MSET encoded straight into RESP bytes, sent through ioredis as a Command whose bytes are
// already written — the same mechanism ioredis uses for its own script commands (a Command
// subclass overriding toWritable). ioredis still owns the connection, authentication, database
// selection, reconnection and the reply; only the encoding of this one bulk command is ours.
// It matters because ingest is the hot path: ioredis encodes each argument with a byteLength call
// and a string concatenation; here key bytes are copied in plain loops (a native copy per 64-byte
// key costs more than the copy), each label's bytes are encoded once, and command buffers are
// reused once Redis has answered the command that used them.
import { Command } from 'ioredis';

const LABEL_CACHE_LIMIT = 4096;
const POOL_LIMIT = 32;

/** An MSET whose RESP bytes are given. */
class EncodedCommand extends Command {
  private readonly payload: Uint8Array;

  constructor(payload: Uint8Array) {
    super('mset', []);
    this.payload = payload;
  }

  override toWritable(): Buffer {
    return this.payload as Buffer;
  }
}

/** A sender for `redis.sendCommand`, accepting an encoded MSET. */
export interface CommandSender {
  sendCommand(command: Command): unknown;
}

/** Sends pre-encoded MSET bytes; resolves with Redis' reply ('OK'). */
export function sendEncodedMset(redis: CommandSender, payload: Uint8Array): Promise<unknown> {
  const command = new EncodedCommand(payload);
  redis.sendCommand(command);
  return command.promise;
}

function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}

/** Encodes MSET commands of `prefix + key → label` pairs. Reusable across batches. */
export class MsetEncoder {
  private readonly prefix: Uint8Array;
  private readonly labels = new Map<string, Uint8Array>();
  private readonly pool: Buffer[] = [];

  constructor(prefix: string) {
    this.prefix = ascii(prefix);
  }

  /** Gives a command's buffer back once Redis has replied to it, for a later batch to reuse. */
  release(payload: Uint8Array): void {
    if (this.pool.length < POOL_LIMIT && payload.byteOffset === 0) this.pool.push(Buffer.from(payload.buffer));
  }

  private buffer(size: number): Buffer {
    for (let i = this.pool.length - 1; i >= 0; i--) {
      const candidate = this.pool[i] as Buffer;
      if (candidate.length >= size) {
        this.pool.splice(i, 1);
        return candidate;
      }
    }
    // Own ArrayBuffer (not the shared pool slab) so `release` can hand the whole buffer back.
    return Buffer.from(new ArrayBuffer(Math.max(size, 1 << 16)));
  }

  // `$<len>\r\n<label>\r\n`, cached per distinct label (class names repeat; regression values may not).
  private labelBytes(label: string): Uint8Array {
    let bytes = this.labels.get(label);
    if (bytes) return bytes;
    bytes = ascii(`$${Buffer.byteLength(label)}\r\n${label}\r\n`);
    if (this.labels.size < LABEL_CACHE_LIMIT) this.labels.set(label, bytes);
    return bytes;
  }

  /** `MSET prefix+keys[i] labels[i] …` for rows [start, end), keys given as strings. */
  encodeStrings(keys: readonly string[], labels: readonly string[], start: number, end: number): Uint8Array {
    const pairs = end - start;
    let size = 32;
    for (let row = start; row < end; row++) {
      size +=
        24 + this.prefix.length + 3 * (keys[row] as string).length + this.labelBytes(labels[row] as string).length;
    }
    const out = this.buffer(size);
    let at = out.write(`*${1 + 2 * pairs}\r\n$4\r\nMSET\r\n`, 0, 'latin1');
    for (let row = start; row < end; row++) {
      const key = keys[row] as string;
      at += out.write(`$${this.prefix.length + Buffer.byteLength(key)}\r\n`, at, 'latin1');
      at = copy(this.prefix, out, at);
      at += out.write(key, at, 'utf8');
      out[at++] = 13;
      out[at++] = 10;
      at = copy(this.labelBytes(labels[row] as string), out, at);
    }
    return out.subarray(0, at);
  }

  /**
   * `MSET prefix+key(row) labels[labelStart + row - start] …` for table rows [start, end), each
   * 64-character key hashed straight into the command bytes: no key is ever copied.
   */
  encodeRows(
    keyWriter: InPlaceKeyWriter,
    data: ArrayLike<number>,
    width: number,
    start: number,
    end: number,
    features: { offset: number; length: number },
    labels: readonly string[],
    labelStart: number,
  ): Uint8Array {
    const prefix = this.prefix;
    const count = end - start;
    const header = ascii(`$${prefix.length + 64}\r\n`);
    let size = 32;
    for (let i = 0; i < count; i++) {
      size += header.length + prefix.length + 66 + this.labelBytes(labels[labelStart + i] as string).length;
    }
    const out = this.buffer(size);
    let at = out.write(`*${1 + 2 * count}\r\n$4\r\nMSET\r\n`, 0, 'latin1');
    let last = '';
    let lastBytes: Uint8Array = header;
    for (let i = 0; i < count; i++) {
      at = copy(header, out, at);
      at = copy(prefix, out, at);
      keyWriter.encodeRowInto(data, width, start + i, features, out, at);
      at += 64;
      out[at++] = 13;
      out[at++] = 10;
      const label = labels[labelStart + i] as string;
      if (label !== last) {
        last = label;
        lastBytes = this.labelBytes(label);
      }
      at = copy(lastBytes, out, at);
    }
    return out.subarray(0, at);
  }

  /**
   * `MSET prefix+key_i label_i …` for `count` keys packed at `stride` bytes each in `keys`
   * (e.g. 64 hex characters from RowKeyEncoder), labels[labelStart + i].
   */
  encodePacked(
    keys: Uint8Array,
    stride: number,
    count: number,
    labels: readonly string[],
    labelStart: number,
  ): Uint8Array {
    const prefix = this.prefix;
    const header = ascii(`$${prefix.length + stride}\r\n`);
    let size = 32;
    for (let i = 0; i < count; i++) {
      size += header.length + prefix.length + stride + 2 + this.labelBytes(labels[labelStart + i] as string).length;
    }
    const out = this.buffer(size);
    let at = out.write(`*${1 + 2 * count}\r\n$4\r\nMSET\r\n`, 0, 'latin1');
    let last = '';
    let lastBytes: Uint8Array = header;
    for (let i = 0; i < count; i++) {
      at = copy(header, out, at);
      at = copy(prefix, out, at);
      const from = i * stride;
      for (let j = 0; j < stride; j++) out[at + j] = keys[from + j] as number;
      at += stride;
      out[at++] = 13;
      out[at++] = 10;
      const label = labels[labelStart + i] as string;
      if (label !== last) {
        last = label;
        lastBytes = this.labelBytes(label);
      }
      at = copy(lastBytes, out, at);
    }
    return out.subarray(0, at);
  }
}

/** What encodeRows needs of a key encoder: 64-character keys written in place (RowKeyEncoder). */
export interface InPlaceKeyWriter {
  encodeRowInto(
    data: ArrayLike<number>,
    width: number,
    row: number,
    features: { offset: number; length: number },
    out: Uint8Array,
    at: number,
  ): void;
}

function copy(from: Uint8Array, to: Uint8Array, at: number): number {
  for (let i = 0; i < from.length; i++) to[at + i] = from[i] as number;
  return at + from.length;
}
