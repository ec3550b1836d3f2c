# The operator image: Node.js 24, the operator compiled to JavaScript
# (tsconfig.build.json) and its production dependencies. Node could run the
# TypeScript sources directly, but type stripping keeps a transpiler in memory
# (about 30 MiB more resident), so the image runs tsc's output. docs/image.md
# describes the content; the local cluster's image (test/env/images) is built
# to the same description.
#
#   docker build -t flightdeck-operator:0.1.0 .
#
# The same Node.js release as the `node` devDependency the tests run on.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked. None needs an install
# script; skipping them keeps the build from running code off the registry.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Every dependency, for the compiler and @types/node. No install script is
# needed: the only one, the `node` devDependency's, would download a second
# Node binary, and this image's own Node runs tsc.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc directly on this image's node, not `npm run build`: npm would put
# node_modules/.bin first on PATH, where the skipped install script left no
# working `node`.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

FROM node:${NODE_VERSION}-bookworm-slim
# The operator never runs npm, yarn or corepack: leave them out, so that
# neither they nor their dependencies are in the running image.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
      /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# See operatorRuntime in test/env/build.ts for why (measured memory figures):
# two malloc arenas are plenty for Node's few native threads.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
WORKDIR /app
# package.json says "type": "module", which Node needs to load dist/ as ES modules.
COPY package.json package-lock.json ./
COPY --from=dependencies /app/node_modules ./node_modules
# Only the compiled operator: no sources, no tests, no compiler.
COPY --from=build /app/dist ./dist
# A numeric user, so that runAsNonRoot can verify it; the files stay owned by
# root and read-only to it. The operator writes nothing at run time, so the
# container runs with a read-only root file system.
USER 65532:65532
# A young generation of at most 2 x 8 MiB, and gc() for the operator to give
# back what a burst of reconciles left in the heap once it is at rest
# (operatorRuntime in test/env/build.ts has the reasons and the figures).
ENTRYPOINT ["/usr/local/bin/node", "--max-semi-space-size=8", "--expose-gc", "/app/dist/cli/main.js", "operator"]
