# syntax=docker/dockerfile:1
# squeezegate edge agent. Build from the repository root:
#   docker build -f deploy/docker/edge.Dockerfile -t squeezegate-edge .
# Run with the models at /models (squeezenet1.1.onnx, imagenet-simple-labels.json) and the frames
# mounted read-only, e.g.
#   docker run --rm -v "$PWD/models:/models:ro" -v /var/frames:/frames:ro -e SQUEEZEGATE_TOKEN=… \
#     squeezegate-edge --source /frames --gateway ws://gateway:8787/v1/edge --device-id cam-1
# Results are JSON lines on stdout, logs on stderr. The agent has no HTTP server, hence no
# EXPOSE and no HEALTHCHECK; it exits once the frames are replayed.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# Manifests first, so the dependency layer is rebuilt only when one of them changes. Every
# workspace's package.json is needed even though only one is installed: without them npm ci
# finds package-lock.json out of sync. .npmrc carries onnxruntime-node-install=skip.
COPY package.json package-lock.json .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/edge/package.json packages/edge/
COPY packages/gateway/package.json packages/gateway/
COPY packages/demo/package.json packages/demo/
COPY packages/bench/package.json packages/bench/
# --omit=dev: the runtime needs no TypeScript tooling, it runs the compiled dist/ JavaScript
# (--ignore-scripts: the root's prepare step, the build, happens in the build stage). onnxruntime-node
# ships binaries for every OS and CPU; only this platform's are kept, which matters on the arm64
# devices the agent runs on.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --workspace=@squeezegate/edge --no-audit --no-fund \
 && arch="$(node -p process.arch)" \
 && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} +

# The compiler runs in its own stage, with the dev dependencies, and only dist/ leaves it.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.base.json tsconfig.build-base.json ./
COPY packages/shared/package.json packages/shared/tsconfig.build.json packages/shared/
COPY packages/edge/package.json packages/edge/tsconfig.build.json packages/edge/
COPY packages/edge/package.json packages/edge/
COPY packages/gateway/package.json packages/gateway/
COPY packages/demo/package.json packages/demo/
COPY packages/bench/package.json packages/bench/
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY packages/shared/src packages/shared/src
COPY packages/edge/src packages/edge/src
RUN npx tsc -b packages/edge/tsconfig.build.json

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    SQUEEZEGATE_MODELS_DIR=/models
# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 squeezegate \
 && useradd --system --uid 10001 --gid squeezegate --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin squeezegate \
 && mkdir /models /frames && chown 10001:10001 /models
WORKDIR /app
# Owned by root and not writable by the agent's user.
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/packages/shared/package.json ./packages/shared/
COPY --from=deps /app/packages/edge/package.json ./packages/edge/
COPY --from=build /app/packages/shared/dist ./packages/shared/dist
COPY --from=build /app/packages/edge/dist ./packages/edge/dist
USER 10001:10001
# SIGTERM stops capture; frames in flight finish (at most the cloud deadline) before exit.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "packages/edge/dist/main.js"]
