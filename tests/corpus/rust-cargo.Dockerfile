# syntax=docker/dockerfile:1
ARG RUST_VERSION=1.79
ARG APP_NAME=ferris-api

FROM rust:${RUST_VERSION}-slim-bookworm AS build
ARG APP_NAME
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
# The target dir and registry survive between builds; the binary is copied out of the cache.
RUN --mount=type=bind,source=src,target=src \
    --mount=type=bind,source=Cargo.toml,target=Cargo.toml \
    --mount=type=bind,source=Cargo.lock,target=Cargo.lock \
    --mount=type=cache,target=/app/target/,id=rust-target-${APP_NAME} \
    --mount=type=cache,target=/usr/local/cargo/git/db \
    --mount=type=cache,target=/usr/local/cargo/registry/,sharing=locked \
    <<EOF
set -e
cargo build --locked --release
cp ./target/release/$APP_NAME /bin/server
EOF

FROM debian:bookworm-slim AS final
ARG UID=10001
RUN useradd --uid "${UID}" --no-create-home --shell /usr/sbin/nologin appuser
USER appuser
COPY --from=build /bin/server /bin/
EXPOSE 3000
STOPSIGNAL SIGINT
CMD ["/bin/server"]
