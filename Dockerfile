# One image, three commands: `node dist/web.js` (default), `node dist/worker.js`, and
# `node dist/main.js` (both roles with the embedded defaults). See docker-compose.yaml.
# Run it with an init process (`docker run --init`, compose `init: true`): FFmpeg children are
# reaped and SIGTERM reaches node, which shuts down gracefully.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci: exactly the lock (it has entries for every @napi-rs/canvas platform, so x64 and arm64
# both resolve). No install scripts are needed: canvas ships prebuilt binaries as optional
# packages, and ffmpeg-static's download is skipped (the image uses Debian's FFmpeg).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
# scripts/build.mjs is `npm run build` (tsc, the Lua scripts, the stamp `npm start` checks).
COPY scripts ./scripts
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# Debian's FFmpeg; curl for the health check.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg curl ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production FFMPEG_PATH=/usr/bin/ffmpeg DATA_DIR=/app/data PORT=3000
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY public ./public
# The embedded database (when DATABASE_URL is unset) writes here: owned by the runtime user.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/api/health" || exit 1
CMD ["node", "dist/web.js"]
