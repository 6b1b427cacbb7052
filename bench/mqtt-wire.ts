/**
 * The few MQTT 3.1.1 packets the device benchmark sends and reads, encoded by hand: a general
 * client library (mqtt.js costs several times the CPU per message) would take the cores that the
 * broker under test needs, since both share one small machine.
 */

export const PACKET = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBACK: 9,
  PINGRESP: 13,
} as const;

export interface ConnectOptions {
  clientId: string;
  /** Sent with the password; MQTT 3.1.1 allows a password only together with a user name. */
  username?: string;
  password?: string;
  /** Seconds; 0 turns the server's keep-alive timeout off. */
  keepalive: number;
}

export interface Packet {
  type: number;
  flags: number;
  body: Buffer;
}

function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function utf8Field(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const field = Buffer.alloc(2 + bytes.length);
  field.writeUInt16BE(bytes.length, 0);
  bytes.copy(field, 2);
  return field;
}

function packet(firstByte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([firstByte, ...remainingLength(body.length)]), body]);
}

export function encodeConnect(options: ConnectOptions): Buffer {
  const withPassword = options.password !== undefined;
  // Clean session; user name and password flags together, as 3.1.1 requires.
  const flags = 0x02 | (withPassword ? 0xc0 : 0);
  const header = Buffer.alloc(10);
  utf8Field('MQTT').copy(header, 0);
  header.writeUInt8(4, 6); // protocol level 4 = 3.1.1
  header.writeUInt8(flags, 7);
  header.writeUInt16BE(options.keepalive, 8);
  const fields = [header, utf8Field(options.clientId)];
  if (withPassword) fields.push(utf8Field(options.username ?? ''), utf8Field(options.password ?? ''));
  return packet(0x10, Buffer.concat(fields));
}

/**
 * A QoS 1 PUBLISH whose packet identifier sits at a fixed offset, so that a sender can stamp a
 * copy of the template with each new identifier (see `stampPacketId`) instead of re-encoding it.
 */
export function publishTemplate(topic: string, payload: string): { bytes: Buffer; idOffset: number } {
  const topicField = utf8Field(topic);
  const body = Buffer.concat([topicField, Buffer.alloc(2), Buffer.from(payload, 'utf8')]);
  const bytes = packet(0x32, body);
  return { bytes, idOffset: bytes.length - body.length + topicField.length };
}

export function stampPacketId(target: Buffer, offset: number, id: number): void {
  target.writeUInt16BE(id, offset);
}

export function encodePuback(id: number): Buffer {
  return Buffer.from([0x40, 2, id >> 8, id & 0xff]);
}

export const DISCONNECT = Buffer.from([0xe0, 0]);

/**
 * Splits a byte stream into packets. Feed it every chunk the socket reads; it hands back the
 * complete packets and keeps the bytes of an unfinished one for the next chunk.
 */
export class PacketReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Packet[] {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const packets: Packet[] = [];
    let at = 0;
    for (;;) {
      if (data.length - at < 2) break;
      let length = 0;
      let multiplier = 1;
      let index = at + 1;
      let complete = false;
      while (index < data.length && index < at + 5) {
        const byte = data[index++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        if (index >= at + 5) throw new Error('malformed MQTT remaining length');
        break;
      }
      if (data.length - index < length) break;
      const first = data[at]!;
      packets.push({ type: first >> 4, flags: first & 0x0f, body: data.subarray(index, index + length) });
      at = index + length;
    }
    this.pending = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    return packets;
  }
}

/** The packet identifier of a PUBACK, or of a QoS 1 PUBLISH (after its topic). */
export function packetIdOf(p: Packet): number {
  if (p.type === PACKET.PUBACK) return p.body.readUInt16BE(0);
  const topicLength = p.body.readUInt16BE(0);
  return p.body.readUInt16BE(2 + topicLength);
}
