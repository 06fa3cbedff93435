# Sluice runtime image: `sluice serve` as a non-root user on node:20-slim, JavaScript only (dist/).
#
#   docker build -t sluice .
#   docker run -p 8082:8082 -e SLUICE_STORE=https://releases.example.com/store -e SLUICE_STORE_TOKEN=… sluice
#   docker run -p 8082:8082 -v "$PWD/bundles:/bundles:ro" -e SLUICE_BUNDLES=/bundles sluice
#
# Every `serve` flag can be given as SLUICE_<FLAG> (docs/guides/operations.md); the bundle source
# (SLUICE_STORE, SLUICE_BUNDLES or SLUICE_BUNDLE) is the deployment's to choose.

# --- build: compile TypeScript to dist/, then keep only the runtime dependencies ---
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# --- runtime ---
FROM node:20-slim
ENV NODE_ENV=production \
    SLUICE_HOST=0.0.0.0 \
    SLUICE_PORT=8082 \
    SLUICE_ADMIN_HOST=0.0.0.0 \
    SLUICE_ADMIN_PORT=18082 \
    SLUICE_DRAIN_DELAY=5
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/bin ./bin
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/schemas ./schemas
# The image's files belong to root and are read-only to the process; it runs as `node` (uid 1000).
USER node
EXPOSE 8082 18082
# No curl in slim images: node asks the admin port's /healthz (the process answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.SLUICE_ADMIN_PORT || 18082) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/sluice.js"]
CMD ["serve", "--log-level", "info"]
