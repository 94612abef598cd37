# syntax=docker/dockerfile:1-labs
FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# The token never lands in a layer: it is mounted only while npm runs.
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
    --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev

FROM alpine:3.20 AS private-src
RUN apk add --no-cache git openssh-client \
 && mkdir -p -m 0700 ~/.ssh \
 && echo "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" >> ~/.ssh/known_hosts
RUN --mount=type=ssh,id=default git clone --depth 1 git@git.example.com:acme/private-lib.git /src/private-lib

FROM node:20-slim
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=private-src /src/private-lib ./vendor/private-lib
COPY . .
RUN --mount=type=secret,id=sentry_token,env=SENTRY_AUTH_TOKEN,required=true \
    --network=none \
    npm run build
RUN --mount=type=secret,id=aws,target=/root/.aws/credentials,mode=0400,uid=0 \
    --security=sandbox \
    node scripts/upload-assets.js || true
USER node
CMD ["node", "server.js"]
