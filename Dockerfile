# The webhook receiver as a container image, in two stages:
#   build    installs every dependency (better-sqlite3 compiles its native addon here, with
#            python3, make and g++), compiles the TypeScript, then drops the dev dependencies;
#   runtime  the same Node base without compilers: dist/, migrations/, package.json and the
#            production node_modules, run by the unprivileged `node` user.
# The SQLite database lives on the /data volume. Build and run: `make up` (docker compose).

FROM node:24-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
# compile, drop the dev dependencies, and keep only better-sqlite3's compiled addon (not its
# sources and object files)
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
           node_modules/better-sqlite3/build/Release/obj node_modules/better-sqlite3/build/Release/obj.target \
           node_modules/better-sqlite3/build/Release/test_extension.node \
           node_modules/better-sqlite3/build/Release/sqlite3.a \
 && test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATABASE_URL=sqlite:////data/app.db
WORKDIR /app
# the application files belong to root and are read-only for the user that runs them
COPY package.json ./
COPY migrations ./migrations
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8000
# no curl in the image: Node's fetch asks the readiness probe on the configured PORT
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health/ready', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec form: node is the container's main process and receives SIGTERM itself
CMD ["node", "dist/server.js"]
