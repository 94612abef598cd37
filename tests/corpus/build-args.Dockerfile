# syntax=docker/dockerfile:1
# Build arguments everywhere: meta args in FROM, automatic platform args, re-declared args,
# defaults that refer to other args, and one required arg.
ARG BASE_DISTRO=alpine
ARG BASE_VERSION=3.20
ARG REGISTRY_MIRROR_PATH=library
ARG APP_VERSION

FROM ${BASE_DISTRO}:${BASE_VERSION} AS base
# Meta args are not visible inside a stage until re-declared.
ARG BASE_VERSION
ARG TARGETARCH
ARG TARGETOS
RUN echo "building for ${TARGETOS}/${TARGETARCH} on ${BASE_VERSION}" > /etc/build-info

FROM base AS fetch
ARG TARGETARCH
ARG TOOL_VERSION=2.4.1
ARG TOOL_ARCH=${TARGETARCH}
ARG TOOL_URL_BASE=https://downloads.example.com/tool/v${TOOL_VERSION}
ENV TOOL_HOME=/opt/tool-${TOOL_VERSION}
RUN mkdir -p "$TOOL_HOME" \
 && wget -q -O /tmp/tool.tgz "${TOOL_URL_BASE}/tool-linux-${TOOL_ARCH}.tar.gz" \
 && tar -xzf /tmp/tool.tgz -C "$TOOL_HOME" \
 && rm /tmp/tool.tgz

FROM base AS final
ARG APP_VERSION
ARG BUILD_DATE=unknown
ARG VCS_REF=HEAD
# Required: the build fails with this message when APP_VERSION is not given.
LABEL org.opencontainers.image.version="${APP_VERSION:?pass --build-arg APP_VERSION=x.y.z}" \
      org.opencontainers.image.created=${BUILD_DATE} \
      org.opencontainers.image.revision=${VCS_REF}
ENV APP_VERSION=${APP_VERSION} \
    TOOL_HOME=/opt/tool
COPY --from=fetch /opt/tool-2.4.1 ${TOOL_HOME}
ARG LOG_LEVEL=info
ENV LOG_LEVEL=${LOG_LEVEL:-warn}
RUN echo "$APP_VERSION $LOG_LEVEL" > /etc/app-version
CMD ["sh", "-c", "cat /etc/app-version"]
