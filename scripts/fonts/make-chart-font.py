#!/usr/bin/env python3
"""Builds assets/fonts/WarmthChartSans-Regular.otf, the Chinese font the report chart ships with.

A subset of Noto Sans CJK SC Regular (SIL Open Font License 1.1) covering:
  - ASCII and Latin-1 (digits, Latin letters, the English chart labels);
  - GB2312 rows 1-9 (Chinese punctuation, full-width forms, symbols);
  - GB2312 level 1 (the 3,755 most common hanzi);
  - every character in locales/*.json, campaigns/*.yaml and src/adapters/files/*.ts (chart titles,
    category names, report labels), so the texts the project itself writes are always covered.
A character outside the subset (a rare name, e.g. a grassroots union's) is drawn from the system's
Chinese font when one is installed (see src/adapters/files/chart-font.ts); `npm run doctor` names the fix.

The family is renamed "Warmth Chart Sans" (a modified version under the OFL keeps no Reserved Font
Name; Noto CJK's is "Source", so this also keeps it apart from a full Noto install).

The licence is in assets/fonts/OFL.txt. Run once, by hand, from the repository root (needs Debian's fonts-noto-cjk and python3-fonttools):
  apt-get install fonts-noto-cjk python3-fonttools     # or: apt-get download + dpkg-deb -x
  python3 scripts/fonts/make-chart-font.py [path/to/NotoSansCJK-Regular.ttc]
Built from fonts-noto-cjk 1:20220127+repack1-1 (Debian bookworm), font number 2 (SC) of the .ttc.
"""
import glob
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

SRC = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc'
OUT = 'assets/fonts/WarmthChartSans-Regular.otf'
FAMILY = 'Warmth Chart Sans'


def gb2312(rows):
    out = set()
    for hi in rows:
        for lo in range(0xA1, 0xFF):
            try:
                out.add(bytes([hi, lo]).decode('gb2312'))
            except UnicodeDecodeError:
                pass
    return out


chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
chars |= gb2312(range(0xA1, 0xAA))  # rows 1-9: punctuation, full-width forms, symbols
chars |= gb2312(range(0xB0, 0xD8))  # rows 16-55: level 1 hanzi
for pattern in ('locales/*.json', 'campaigns/*.yaml', 'src/adapters/files/*.ts'):
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding='utf-8') as f:
            chars |= {c for c in f.read() if ord(c) >= 0x20}

opts = subset.Options()
opts.font_number = 2  # Noto Sans CJK SC in NotoSansCJK-Regular.ttc
opts.layout_features = ['kern', 'liga', 'locl', 'palt', 'halt', 'vert']
opts.name_IDs = ['*']
opts.name_languages = ['*']
opts.hinting = False
opts.desubroutinize = False
font = subset.load_font(SRC, opts)
sub = subset.Subsetter(opts)
sub.populate(unicodes=sorted(ord(c) for c in chars))
sub.subset(font)

name = font['name']
for rec in list(name.names):
    if rec.nameID in (1, 4, 16):
        rec.string = FAMILY
    elif rec.nameID == 6:
        rec.string = 'WarmthChartSans-Regular'
    elif rec.nameID == 3:
        rec.string = 'WarmthChartSans-Regular;subset of Noto Sans CJK SC'
    elif rec.nameID == 2:
        rec.string = 'Regular'
    elif rec.nameID == 17:
        rec.string = 'Regular'
font['CFF '].cff.fontNames = ['WarmthChartSans-Regular']
top = font['CFF '].cff.topDictIndex[0]
top.FullName = FAMILY
top.FamilyName = FAMILY
subset.save_font(font, OUT, opts)

covered = TTFont(OUT).getBestCmap()
print(f'{OUT}: {len(covered)} characters ({len([c for c in covered if 0x4E00 <= c <= 0x9FFF])} hanzi)')
