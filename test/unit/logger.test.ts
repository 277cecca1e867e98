import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubString } from '../../src/adapters/logger.ts';

describe('log redaction', () => {
  it('scrubs ID numbers, phones, cards and bot tokens from any string', () => {
    const s = scrubString(
      'id 11010519491231002X phone +8613812345678 card 6222 0202 0011 2233 445 card2 6222020200112233445 url https://api.telegram.org/bot123456:AAbbCCddEEffGGhhIIjjKK/sendMessage',
    );
    expect(s).not.toMatch(/11010519491231002X|13812345678|6222020200112233445|AAbbCCdd/);
    expect(s).toContain('[ID]');
    expect(s).toContain('[PHONE]');
    expect(s).toContain('bot[TOKEN]');
  });

  it('redacts sensitive fields and scrubs errors in structured logs', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(c, _e, cb) {
          lines.push(String(c));
          cb();
        },
      }),
    });
    logger.info(
      { idNumber: '440524188001010014', nested: { phone: '13912345678', note: 'call 13912345678' } },
      'saved 440524188001010014',
    );
    logger.error({ err: new Error('duplicate key 11010519491231002X') }, 'failed');
    const out = lines.join('');
    expect(out).not.toMatch(/440524188001010014|13912345678|11010519491231002X/);
    expect(out).toContain('duplicate key [ID]');
    expect(out).toContain('"stack"');
  });

  it('scrubs full-width, spaced and dashed forms of ID numbers and phones (finding 12)', () => {
    const forms = [
      '１１０１０５１９４９１２３１００２Ｘ',
      '110105-19491231-002X',
      '110105 1949 1231 002x',
      '１１０１０５－１９４９１２３１－００２Ｘ',
      '138-1234-5678',
      '138 1234 5678',
      '１３８１２３４５６７８',
      '１３８－１２３４－５６７８',
      '+86 138 1234 5678',
      '＋８６　１３８　１２３４　５６７８',
      '6222 0202 0011 2233 445',
    ];
    for (const f of forms) {
      const out = scrubString(`value "${f}" rejected`);
      expect(out, f).toMatch(/value "\[(ID|PHONE|NUMBER)\]" rejected/);
    }
    // Ordinary numbers stay readable.
    expect(scrubString('nomination 1234 at 2026-01-15 10:00, batch PB-2026-001')).toBe(
      'nomination 1234 at 2026-01-15 10:00, batch PB-2026-001',
    );
  });
});
