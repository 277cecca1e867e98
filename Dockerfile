# warmth-bot: one image for the migrate step, the bot and the worker.
FROM node:20-bookworm-slim
# The chart's Chinese font ships in assets/fonts (GB2312 level 1). For rare characters in names, add
# `fonts-noto-cjk fontconfig` to this line: the chart then falls back to it (see README, CHART_FONT).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --omit=dev
COPY . .
ENV NODE_ENV=production TZ=Asia/Shanghai
USER node
EXPOSE 8080
CMD ["npm", "run", "bot"]
