# syntax=docker/dockerfile:1
# Multi-stage C++ service: a full toolchain builds with CMake + Ninja, a slim image runs it.

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS toolchain
ARG DEBIAN_FRONTEND=noninteractive
RUN rm -f /etc/apt/apt.conf.d/docker-clean; \
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends \
      build-essential \
      cmake \
      ninja-build \
      pkg-config \
      libssl-dev \
      libboost-program-options-dev \
      ccache

FROM toolchain AS build
ARG BUILD_TYPE=Release
ARG JOBS=4
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
COPY include/ include/
ENV CCACHE_DIR=/root/.ccache
RUN --mount=type=cache,target=/root/.ccache \
    cmake -S . -B /build -G Ninja \
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE} \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DCMAKE_INSTALL_PREFIX=/opt/app \
 && cmake --build /build -j ${JOBS} \
 && cmake --install /build --strip

FROM build AS test
RUN ctest --test-dir /build --output-on-failure

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 libboost-program-options1.74.0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system app && useradd --system --gid app --home-dir /opt/app app
COPY --from=build --chown=root:root /opt/app /opt/app
USER app
WORKDIR /opt/app
EXPOSE 8080
ENTRYPOINT ["/opt/app/bin/server"]
CMD ["--port", "8080"]
