import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FieldCipher, randomToken } from '../../src/adapters/crypto/field-cipher.ts';

const k1 = { version: 1, key: randomBytes(32) };
const k2 = { version: 2, key: randomBytes(32) };

describe('field encryption', () => {
  it('round-trips and never stores the clear value', () => {
    const c = new FieldCipher([k1]);
    const stored = c.encrypt('11010519491231002X');
    expect(stored).toMatch(/^1:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('11010519491231002X');
    expect(c.decrypt(stored)).toBe('11010519491231002X');
    expect(c.encrypt('11010519491231002X')).not.toBe(stored); // random IV
  });

  it('keeps the key version, reads old values after rotation, refuses unknown versions', () => {
    const old = new FieldCipher([k1]).encrypt('13812345678');
    const rotated = new FieldCipher([k2, k1]);
    expect(rotated.decrypt(old)).toBe('13812345678');
    const fresh = rotated.encrypt('13812345678');
    expect(rotated.keyVersionOf(fresh)).toBe(2);
    expect(() => new FieldCipher([k1]).decrypt(fresh)).toThrow(/no data key with version 2/);
  });

  it('detects tampering', () => {
    const c = new FieldCipher([k1]);
    const stored = c.encrypt('6222020200112233445');
    const raw = Buffer.from(stored.slice(2), 'base64');
    raw[raw.length - 1]! ^= 1;
    expect(() => c.decrypt(`1:${raw.toString('base64')}`)).toThrow();
  });

  it('the cipher worker (imports) writes the stored format with the current key and fresh IVs, and the look-up hashes', async () => {
    const c = new FieldCipher([k2, k1]);
    const values = ['11010519491231002X', '13812345678', '', '6222020200112233445', '王小明'];
    const w = c.worker();
    try {
      const [first, second] = await Promise.all([w.encrypt(values), w.encrypt(values.slice(0, 2))]);
      expect(first).toHaveLength(values.length);
      expect(first[2]).toBe('');
      for (const [i, v] of values.entries()) {
        if (v === '') continue;
        expect(first[i]).toMatch(/^2:[A-Za-z0-9+/=]+$/);
        expect(first[i]).not.toContain(v);
        expect(c.decrypt(first[i]!)).toBe(v);
        // Readable by the main thread's cipher and by one holding only that key.
        expect(new FieldCipher([k2]).decrypt(first[i]!)).toBe(v);
      }
      expect(second.map((s) => c.decrypt(s))).toEqual(values.slice(0, 2));
      expect(second[0]).not.toBe(first[0]); // a new IV each time
      const ivs = new Set(
        [...first, ...second]
          .filter(Boolean)
          .map((s) => Buffer.from(s.slice(2), 'base64').subarray(0, 12).toString('hex')),
      );
      expect(ivs.size).toBe(6);
      // Look-up hashes as FieldCipher.hash gives them (the hash key: the oldest), kinds kept apart.
      expect(await w.hash('id', values)).toEqual(values.map((v) => c.hash('id', v)));
      expect(await w.hash('phone', ['13812345678'])).toEqual([
        new FieldCipher([k1]).hash('phone', '13812345678'),
      ]);
      expect((await w.hash('card', ['13812345678']))[0]).not.toBe(c.hash('phone', '13812345678'));
      await expect(w.encrypt(['a\nb'])).rejects.toThrow(/line break/);
      expect(c.decrypt((await w.encrypt(['x']))[0]!)).toBe('x');
    } finally {
      await w.close();
    }
    await expect(w.encrypt(['x'])).rejects.toThrow();
  });

  it('keyed hash: stable across rotation, separated by kind and key', () => {
    const a = new FieldCipher([k1]);
    const b = new FieldCipher([k2, k1]);
    expect(a.hash('id', '11010519491231002X')).toBe(b.hash('id', '11010519491231002X'));
    expect(a.hash('id', '11010519491231002X')).toMatch(/^[0-9a-f]{64}$/);
    expect(a.hash('id', '13812345678')).not.toBe(a.hash('phone', '13812345678'));
    expect(new FieldCipher([k2]).hash('id', 'x')).not.toBe(a.hash('id', 'x'));
  });

  it('signs and verifies short MACs', () => {
    const c = new FieldCipher([k1]);
    const mac = c.sign('1|lang|en');
    expect(mac).toHaveLength(10);
    expect(c.verify('1|lang|en', mac)).toBe(true);
    expect(c.verify('2|lang|en', mac)).toBe(false);
    expect(c.verify('1|lang|en', 'AAAAAAAAAA')).toBe(false);
    expect(c.verify('1|lang|en', '')).toBe(false);
  });

  it('random tokens are URL-safe and unguessable', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => randomToken(18)));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });
});
