FROM alpine:3.20

LABEL org.opencontainers.image.title="toolbox" \
      org.opencontainers.image.description="Small debugging toolbox"

RUN apk add --no-cache \
        bash \
        bind-tools \
        curl \
        iproute2 \
        jq \
        netcat-openbsd \
        tcpdump \
    && apk add --no-cache --virtual .build-deps gcc musl-dev make \
    && make -C /usr/src/tools install 2>/dev/null || true \
    && apk del .build-deps

RUN --mount=type=cache,target=/etc/apk/cache apk add --update-cache py3-pip

RUN addgroup -S tool && adduser -S -G tool -h /home/tool tool
COPY --chown=tool:tool scripts/ /usr/local/bin/
USER tool
WORKDIR /home/tool
ENTRYPOINT ["/bin/bash"]
