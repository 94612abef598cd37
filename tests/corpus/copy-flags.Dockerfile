# syntax=docker/dockerfile:1.7-labs
# Every COPY and ADD flag in one place.
FROM golang:1.22 AS tools
WORKDIR /tools
COPY tools/ ./
RUN go build -o /go/bin/stringer ./cmd/stringer

FROM alpine:3.20 AS assets
WORKDIR /assets
COPY web/ ./
RUN find . -name '*.map' -delete

FROM debian:bookworm-slim
# --from by index (stage 0) and by name; --from an image.
COPY --from=0 /go/bin/stringer /usr/local/bin/stringer
COPY --from=assets --chown=www-data:www-data /assets /srv/www
COPY --from=busybox:1.36 /bin/busybox /bin/busybox

COPY --chown=1000:1000 --chmod=640 config/*.yaml /etc/app/
COPY --link --chmod=755 bin/ /usr/local/bin/
COPY --exclude=*.md --exclude=**/testdata docs/ /usr/share/doc/app/
COPY --parents ./services/*/config.json /etc/services/
COPY ["file with spaces.txt", "/opt/data/"]

ADD --checksum=sha256:1d1e2bb37bc0f38d2f9bbee2d5fbe5bd1c0cd2b5dd74e5b5bcc2e6e4d0cce8b4 \
    https://downloads.example.com/releases/v1.4.2/agent-linux-amd64.tar.gz /tmp/agent.tar.gz
ADD vendor/third_party.tar.xz /opt/third_party/
ADD --chown=root:root --chmod=0644 https://example.com/keys/release.asc /usr/share/keyrings/release.asc
ADD --keep-git-dir=true https://example.com/acme/schemas.git#v2.1.0 /opt/schemas

WORKDIR /srv/www
USER www-data
CMD ["/usr/local/bin/serve", "/srv/www"]
