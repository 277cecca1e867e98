import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { CallbackCodec } from '../../src/adapters/telegram/callback-data.ts';

const codec = new CallbackCodec(new FieldCipher([{ version: 1, key: randomBytes(32) }]));

describe('callback data', () => {
  it('round-trips for the user it was made for, within 64 bytes', () => {
    const data = codec.encode(123456789, 'rv_ok', 4711, 3);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(codec.decode(123456789, data)).toEqual({ action: 'rv_ok', args: ['4711', '3'] });
    expect(codec.decode(123456789, codec.encode(123456789, 'lang'))).toEqual({ action: 'lang', args: [] });
  });

  it('refuses other users, altered args, altered action and garbage', () => {
    const data = codec.encode(1, 'rv_ok', 10);
    expect(codec.decode(2, data)).toBeNull();
    expect(codec.decode(1, data.replace('|10|', '|11|'))).toBeNull();
    expect(codec.decode(1, data.replace('rv_ok', 'rv_no'))).toBeNull();
    for (const junk of ['', '|', 'x', 'a|b|c', '||', 'rv_ok|10']) expect(codec.decode(1, junk)).toBeNull();
  });

  it('refuses to build data Telegram would reject', () => {
    expect(() => codec.encode(1, 'x'.repeat(60))).toThrow(/too long/);
  });
});
