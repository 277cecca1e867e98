# syntax=docker/dockerfile:1
# warmth-bot: one image for the migrate step, the bot, the worker and the backup/restore commands.
# Stage 1 builds dist/ with the dev dependencies; stage 2 installs the production dependencies only;
# the runtime stage gets both, runs as a non-root user and starts from dist/ (no TypeScript at runtime).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# postinstall generates the Prisma client into src/generated (bundled into dist/ by the build).
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: the generated client is inside dist/, nothing else needs one.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
# The PostgreSQL client (pg_dump, pg_restore: major version 15, the same as the postgres service in
# docker-compose.yml) for backups. The chart's Chinese font ships in assets/fonts (GB2312 level 1); for
# rare characters in names, add `fonts-noto-cjk fontconfig` to this line: the chart then falls back to it
# (see README, CHART_FONT).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production TZ=Asia/Shanghai
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json prisma.config.ts ./
COPY prisma ./prisma
COPY locales ./locales
COPY config ./config
COPY campaigns ./campaigns
COPY assets ./assets
# Backups are written here (mount a volume); the app's files stay read-only for the runtime user.
RUN mkdir -p /app/backups && chown node:node /app/backups
USER node
EXPOSE 8080
CMD ["node", "--enable-source-maps", "dist/main.js", "bot"]
