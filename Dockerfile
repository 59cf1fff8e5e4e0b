# syntax=docker/dockerfile:1
# ratelimiter node image. One image, three containers (see docker-compose.yml):
# each container is told who it is by NODE_ID / SERVER_PORT / RAFT_PORT /
# CLUSTERS, exactly as scripts/cluster-env.mjs describes for a local cluster.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript, then drop dev dependencies ----------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# classic-level ships prebuilt N-API binaries for linux x64/arm64 (glibc), so
# no compiler is needed on those platforms.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime --------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX and the node flag in CMD: see NODE_RUNTIME_* in scripts/cluster-env.mjs.
ENV NODE_ENV=production \
    BIND_HOST=0.0.0.0 \
    DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# Application files stay owned by root (read-only for the process); only the
# data directory belongs to the unprivileged `node` user of the base image.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Created and chowned before VOLUME so that a new named volume starts out
# owned by node.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node

# HTTP 20001..20005 and Raft 50001..50005 in the standard layout; the ports a
# container really uses come from SERVER_PORT and RAFT_PORT.
EXPOSE 20001 20002 20003 20004 20005 50001 50002 50003 50004 50005

# The slim image has no curl: ask node itself. Ready means a leader is known
# and the log is applied.
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.SERVER_PORT + '/readyz', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

STOPSIGNAL SIGTERM
CMD ["node", "--heap-growing-percent=20", "dist/main.js"]
