/**
 * The GDB remote serial protocol's framing: `$data#cs` packets (cs, the data's byte sum
 * modulo 256 in two hex digits; `}` escapes the next byte, XORed with 0x20), `+` and `-`
 * acknowledgements, and the 0x03 byte a client sends to interrupt a running target.
 * Strings hold bytes as latin1 characters, so binary data passes unchanged.
 */

/** What the byte stream from a client holds, in order. */
export type RspItem = { kind: "packet"; data: string } | { kind: "bad-checksum" } | { kind: "interrupt" } | { kind: "ack" } | { kind: "nak" };

const INTERRUPT = "\x03";
/** A packet longer than this is refused unread (PacketSize in qSupported is well below it). */
export const MAX_PACKET_BYTES = 1 << 20;

/** The byte sum of `data` modulo 256, as two lowercase hex digits. */
export function checksum(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum.toString(16).padStart(2, "0");
}

/** A packet for `data`, with the bytes the protocol reserves escaped. */
export function framePacket(data: string): string {
  const escaped = data.replace(/[#$}*]/g, (byte) => `}${String.fromCharCode(byte.charCodeAt(0) ^ 0x20)}`);
  return `$${escaped}#${checksum(escaped)}`;
}

/** Splits the client's byte stream into items, keeping an unfinished packet for the next chunk. */
export class RspReader {
  private pending = "";

  /** The items completed by `chunk`; throws an Error for a packet past MAX_PACKET_BYTES. */
  push(chunk: Buffer): RspItem[] {
    this.pending += chunk.toString("latin1");
    const items: RspItem[] = [];
    for (;;) {
      if (this.pending.length === 0) break;
      const first = this.pending[0];
      if (first === "+" || first === "-" || first === INTERRUPT) {
        items.push({ kind: first === "+" ? "ack" : first === "-" ? "nak" : "interrupt" });
        this.pending = this.pending.slice(1);
        continue;
      }
      const start = this.pending.indexOf("$");
      if (start < 0) {
        this.pending = ""; // noise between packets
        break;
      }
      if (start > 0) {
        this.pending = this.pending.slice(start);
        continue;
      }
      const hash = this.pending.indexOf("#");
      if (hash < 0 || this.pending.length < hash + 3) {
        if (this.pending.length > MAX_PACKET_BYTES) throw new Error(`a packet of more than ${MAX_PACKET_BYTES} bytes`);
        break;
      }
      const raw = this.pending.slice(1, hash);
      const sum = this.pending.slice(hash + 1, hash + 3);
      this.pending = this.pending.slice(hash + 3);
      if (sum.toLowerCase() !== checksum(raw)) items.push({ kind: "bad-checksum" });
      else items.push({ kind: "packet", data: raw.replace(/}([\s\S])/g, (_, byte: string) => String.fromCharCode(byte.charCodeAt(0) ^ 0x20)) });
    }
    return items;
  }
}
