# syntax=docker/dockerfile:1
# squeezegate gateway. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t squeezegate-gateway .
# The models are not in the image: mount a directory holding mobilenetv2-12-int8.onnx and
# imagenet-simple-labels.json at /models (or fill it with the fetch command in deploy/README.md).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when one of them changes. Every
# workspace's package.json is needed even though only one is installed: without them npm ci
# finds package-lock.json out of sync. .npmrc carries onnxruntime-node-install=skip (no CUDA
# download; the CPU binaries are in the npm package).
COPY package.json package-lock.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/edge/package.json packages/edge/
COPY packages/gateway/package.json packages/gateway/
COPY packages/demo/package.json packages/demo/
COPY packages/bench/package.json packages/bench/
# --omit=dev: the runtime needs no TypeScript tooling, it runs the compiled dist/ JavaScript
# (--ignore-scripts: the root's prepare step, the build, happens in the build stage). onnxruntime-node
# ships binaries for every OS and CPU (~290 MB); only this platform's are kept.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --workspace=@squeezegate/gateway --no-audit --no-fund \
 && arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} +

# The compiler runs in its own stage, with the dev dependencies, and only dist/ leaves it.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json tsconfig.build-base.json ./
COPY packages/shared/package.json packages/shared/tsconfig.build.json packages/shared/
COPY packages/gateway/package.json packages/gateway/tsconfig.build.json packages/gateway/
COPY packages/edge/package.json packages/edge/
COPY packages/gateway/package.json packages/gateway/
COPY packages/demo/package.json packages/demo/
COPY packages/bench/package.json packages/bench/
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY packages/shared/src packages/shared/src
COPY packages/gateway/src packages/gateway/src
RUN npx tsc -b packages/gateway/tsconfig.build.json

FROM ${NODE_IMAGE} AS runtime
# The gateway must listen beyond loopback to be reachable from outside its container; the
# variable wins over a config file's host.
ENV NODE_ENV=production \
    SQUEEZEGATE_MODELS_DIR=/models \
    SQUEEZEGATE_HOST=0.0.0.0
# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it. /models belongs to it so that a
# fresh named volume mounted there (compose) can be filled by the fetch command.
RUN groupadd --system --gid 10001 squeezegate \
 && useradd --system --uid 10001 --gid squeezegate --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin squeezegate \
 && mkdir /models && chown 10001:10001 /models
WORKDIR /app
# Owned by root and not writable by the gateway's user.
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages/shared/package.json ./packages/shared/
COPY --from=deps /app/packages/gateway/package.json ./packages/gateway/
COPY --from=build /app/packages/shared/dist ./packages/shared/dist
COPY --from=build /app/packages/gateway/dist ./packages/gateway/dist
USER 10001:10001
EXPOSE 8787
# No curl in the slim image: node's fetch asks the liveness route.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SQUEEZEGATE_PORT||8787)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The gateway drains on SIGTERM (stops accepting, closes edges with 1001, finishes inference).
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "packages/gateway/dist/main.js"]
