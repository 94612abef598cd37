# syntax=docker/dockerfile:1
# check=skip=JSONArgsRecommended
FROM debian:bookworm-slim

# Comments and blank lines inside a continued instruction are dropped, as Docker does.
RUN apt-get update \
    # tools the health check needs
    && apt-get install -y --no-install-recommends \
        curl \
        # jq parses the status endpoint
        jq \

        netbase \
    && rm -rf /var/lib/apt/lists/*

# Trailing spaces after the backslash still continue the line.
RUN set -eux; \  
    mkdir -p /opt/app/bin; \
    echo 'done'

ENV A=1 \
    # B is derived from A
    B=2

  # Indented comment before an indented instruction.
  WORKDIR /opt/app

COPY \
    bin/ \
    /opt/app/bin/

ENTRYPOINT \
    ["/opt/app/bin/run", \
     "--config", "/etc/app.yaml"]
CMD echo \
    "this is a long", \
    "shell-form command"
