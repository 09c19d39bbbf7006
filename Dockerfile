# syntax=docker/dockerfile:1
# Node 26 is the Active LTS line (since 2026-10-28; Node 24 is in maintenance
# until 2028-04-30, Node 20 reached end of life on 2026-04-30). The service
# also runs on Node 20.19+ and 22.12+ ("engines" in package.json).
ARG NODE_IMAGE=node:26-bookworm-slim

# Build stage: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY public ./public
COPY scripts/build-client.ts ./scripts/
# The service to dist/src, the dashboard and the browser client to dist/public.
RUN npm run build

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: compiled code and production dependencies, run as a non-root user.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Signals go straight to node (no npm wrapper), so SIGTERM triggers the graceful shutdown.
CMD ["node", "dist/src/server.js"]
