import type { FieldCipher } from '../crypto/field-cipher.ts';

// Callback data is opaque and verified: "<action>|<args>|<mac>", where the MAC covers the user the
// button was made for, the action and its args. A client can send any callback_data, so a forged,
// altered or someone else's button fails verification and is refused. Telegram allows 64 bytes.

export interface CallbackPayload {
  action: string;
  args: string[];
}

const MAX = 64;

export class CallbackCodec {
  constructor(private readonly cipher: FieldCipher) {}

  encode(userId: number, action: string, ...args: (string | number)[]): string {
    const body = `${action}|${args.join(',')}`;
    const data = `${body}|${this.cipher.sign(`${userId}|${body}`)}`;
    if (Buffer.byteLength(data) > MAX) throw new Error(`callback data too long (${data.length}): ${action}`);
    return data;
  }

  decode(userId: number, data: string): CallbackPayload | null {
    const last = data.lastIndexOf('|');
    if (last < 0) return null;
    const body = data.slice(0, last);
    if (!this.cipher.verify(`${userId}|${body}`, data.slice(last + 1))) return null;
    const [action, args = ''] = body.split('|');
    if (!action) return null;
    return { action, args: args === '' ? [] : args.split(',') };
  }
}
