FROM ubuntu:24.04

# Fail a pipeline when any command in it fails.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL https://downloads.example.com/install.sh | bash -s -- --prefix=/usr/local
RUN [[ -x /usr/local/bin/tool ]] && tool --version | tee /tool-version.txt

SHELL ["/bin/sh", "-eux", "-c"]
RUN echo "POSIX shell again"; ls /usr/local/bin

# Exec form ignores SHELL.
RUN ["/bin/bash", "-c", "echo exec form with $HOME"]
SHELL ["/bin/bash", "-l", "-c"]
ENTRYPOINT ["/usr/local/bin/tool"]
CMD tool serve --listen :9000
