# syntax=docker/dockerfile:1
# One Dockerfile, several targets: dev, test, lint, docs and the release image.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-slim AS base
WORKDIR /repo
COPY package.json package-lock.json ./
COPY packages/api/package.json packages/api/
COPY packages/web/package.json packages/web/
RUN --mount=type=cache,target=/root/.npm npm ci

FROM base AS dev
ENV NODE_ENV=development
COPY . .
CMD ["npm", "run", "dev"]

FROM base AS lint
COPY . .
RUN npm run lint

FROM base AS test
COPY . .
RUN --mount=type=tmpfs,target=/tmp npm test -- --ci

FROM base AS build-api
COPY packages/api packages/api
RUN npm run build --workspace=packages/api

FROM base AS build-web
COPY packages/web packages/web
ARG PUBLIC_URL=/
RUN PUBLIC_URL=${PUBLIC_URL} npm run build --workspace=packages/web

FROM python:3.12-slim AS docs
RUN pip install --no-cache-dir mkdocs-material
COPY docs /docs
RUN mkdocs build -f /docs/mkdocs.yml -d /site

FROM nginx:1.27-alpine AS web
COPY --from=build-web /repo/packages/web/dist /usr/share/nginx/html
COPY --from=docs /site /usr/share/nginx/html/docs

FROM node:${NODE_VERSION}-slim AS release
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build-api /repo/packages/api/dist ./dist
COPY --from=build-api /repo/packages/api/package.json ./
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev
USER node
CMD ["node", "dist/index.js"]
