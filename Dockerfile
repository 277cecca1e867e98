# warmth-bot: one image for the migrate step, the bot and the worker.
FROM node:20-bookworm-slim
# CJK font for charts with Chinese labels (evaluation report images).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-microhei ca-certificates \
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
