# syntax=docker/dockerfile:1
# Cross-compiling C with clang on the build platform for the target platform.
FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.4.0 AS xx

FROM --platform=$BUILDPLATFORM alpine:3.20 AS build
COPY --from=xx / /
RUN apk add --no-cache clang lld make
ARG TARGETPLATFORM
RUN xx-apk add --no-cache musl-dev gcc zlib-dev
WORKDIR /src
COPY . .
RUN xx-clang --print-target-triple \
 && make CC=xx-clang LDFLAGS=-static \
 && xx-verify --static ./bin/hello

FROM --platform=$TARGETPLATFORM alpine:3.20 AS debug
COPY --from=build /src/bin/hello /usr/local/bin/hello
ENTRYPOINT ["hello"]

FROM scratch
COPY --from=build /src/bin/hello /hello
ENTRYPOINT ["/hello"]
