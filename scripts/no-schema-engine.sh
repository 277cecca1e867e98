#!/bin/sh
echo "warmth-bot: the native Prisma schema engine is not used here; run npm run db:migrate / db:migration / db:check" >&2
exit 1
