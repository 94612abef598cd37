#!/usr/bin/env python3
"""Writes a large, realistic Dockerfile for benchmarking kiln's frontend.

The file has exactly N instructions (default 10,000) spread over several stages: RUN in shell and
exec form with continuation lines, comments inside continuations, cache/bind mounts and
here-documents; COPY/ADD with flags and --from edges; ENV/ARG/LABEL pairs whose values use ARG and
ENV expansion; WORKDIR, USER, EXPOSE, HEALTHCHECK, CMD. The last stage copies from every earlier
stage, so lowering keeps all of them. Output is deterministic for a given seed.

Usage: gen_dockerfile.py [-n INSTRUCTIONS] [--stages S] [--seed N] [-o FILE]
"""
import argparse
import hashlib
import random
import sys

BASES = ["debian:bookworm", "alpine:3.20", "golang:1.22", "node:20-slim", "python:3.12-slim",
         "rust:1.79-slim", "ubuntu:24.04", "fedora:40"]
PACKAGES = ["curl", "git", "make", "cmake", "ninja-build", "pkg-config", "libssl-dev", "zlib1g-dev",
            "ca-certificates", "jq", "unzip", "xz-utils", "python3", "gnupg", "less", "procps"]
WORDS = ["alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "lambda", "theta", "zeta"]


class Writer:
    """Accumulates lines and counts instructions."""

    def __init__(self, rng):
        self.rng = rng
        self.lines = []
        self.count = 0

    def emit(self, *lines):
        self.lines.extend(lines)
        self.count += 1

    def comment(self, text):
        self.lines.append("# " + text)


def pick(rng, seq, k):
    return rng.sample(seq, k)


def run_apt(w, i):
    pkgs = pick(w.rng, PACKAGES, w.rng.randint(3, 7))
    body = ["RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\",
            "    --mount=type=cache,target=/var/lib/apt,sharing=locked \\",
            "    apt-get update \\",
            "    # packages for step %d" % i,
            " && apt-get install -y --no-install-recommends \\"]
    body += ["      %s \\" % p for p in pkgs]
    body.append(" && rm -rf /var/lib/apt/lists/*")
    w.emit(*body)


def run_build(w, i):
    w.emit("RUN --mount=type=cache,target=/root/.cache/build-%d \\" % (i % 7),
           "    --mount=type=bind,source=src/mod%d,target=/src/mod%d \\" % (i, i),
           "    set -eux; \\",
           "    mkdir -p ${PREFIX}/lib/mod%d; \\" % i,
           "    make -C /src/mod%d -j${JOBS} PREFIX=${PREFIX} VERSION=${APP_VERSION} install; \\" % i,
           "    echo \"built mod%d for ${TARGETARCH:-amd64}\" >> ${PREFIX}/BUILDLOG" % i)


def run_heredoc(w, i):
    word = w.rng.choice(WORDS)
    w.emit("RUN <<EOF",
           "set -e",
           "echo \"${APP_NAME}-%s-%d\" > /etc/%s-%d.conf" % (word, i, word, i),
           "for f in a b c; do touch /tmp/$f-%d; done" % i,
           "EOF")


def copy_heredoc(w, i):
    w.emit("COPY <<-'CONF' /etc/app/conf.d/%03d.ini" % (i % 1000),
           "\t[section%d]" % i,
           "\tname = ${APP_NAME}",
           "\tlevel = %d" % w.rng.randint(1, 9),
           "\tCONF")


def run_exec(w, i):
    w.emit('RUN ["/bin/sh", "-c", "echo exec-%d && test -d /tmp"]' % i)


def run_simple(w, i):
    w.emit("RUN echo \"step %d $APP_NAME\" >> /var/log/build.log && ls -la ${PREFIX} > /dev/null" % i)


def copy_ctx(w, i):
    flags = w.rng.choice(["", "--chown=app:app ", "--chmod=0644 ", "--link ",
                          "--chown=1000:1000 --chmod=755 "])
    w.emit("COPY %ssrc/mod%d/*.c src/mod%d/include/ ${PREFIX}/src/mod%d/" % (flags, i, i, i))


def add_url(w, i):
    w.emit("ADD --checksum=sha256:%s \\" % hashlib.sha256(b"asset-%d" % i).hexdigest(),
           "    https://downloads.example.com/assets/v${APP_VERSION}/asset-%d.tar.gz /opt/assets/" % i)


def env_pairs(w, i):
    # Values refer to earlier ENVs and ARGs but neither grow along the file (a PATH prepended to in
    # every ENV would make the output quadratic) nor add a new name each time: real Dockerfiles set
    # a few dozen variables, not thousands.
    w.emit("ENV MOD%d_HOME=${PREFIX}/lib/mod%d \\" % (i % 8, i),
           "    MOD%d_NAME=\"${APP_NAME} module %d\" \\" % (i % 8, i),
           "    LD_LIBRARY_PATH=${PREFIX}/lib/mod%d/lib:${PREFIX}/lib" % i)


def arg_decl(w, i):
    # A few names declared again and again, as real files re-declare args: every ARG in scope is
    # part of each later RUN's environment, so hundreds of distinct names would be unrealistic.
    w.emit("ARG OPT_%d=${APP_VERSION}-opt%d" % (i % 6, i))


def label(w, i):
    w.emit("LABEL com.example.step%d=\"%s\" \\" % (i, w.rng.choice(WORDS)),
           "      com.example.version%d=${APP_VERSION}" % i)


def workdir(w, i):
    w.emit("WORKDIR ${PREFIX}/work/%d" % i)


def misc(w, i):
    w.emit(w.rng.choice([
        "EXPOSE %d %d-%d/udp" % (8000 + i % 1000, 9000 + i % 500, 9010 + i % 500),
        "USER app:app",
        "USER root",
        "VOLUME [\"/data/%d\"]" % i,
        "STOPSIGNAL SIGTERM",
        "SHELL [\"/bin/sh\", \"-eu\", \"-c\"]",
    ]))


GENERATORS = [(run_apt, 4), (run_build, 10), (run_heredoc, 6), (copy_heredoc, 4), (run_exec, 4),
              (run_simple, 14), (copy_ctx, 12), (add_url, 3), (env_pairs, 10), (arg_decl, 6),
              (label, 6), (workdir, 6), (misc, 8)]


def stage_header(w, s, stages):
    if s > 0 and w.rng.random() < 0.3:
        w.emit("FROM stage%d AS stage%d" % (s - 1, s))
    else:
        w.emit("FROM %s AS stage%d" % (BASES[s % len(BASES)], s))
    w.emit("ARG APP_NAME")
    w.emit("ARG APP_VERSION")
    w.emit("ARG TARGETARCH")
    w.emit("ENV PREFIX=/opt/${APP_NAME}/stage%d JOBS=4 PATH=/opt/${APP_NAME}/stage%d/bin:$PATH" % (s, s))
    if s > 0:
        w.emit("COPY --from=stage%d /opt/${APP_NAME}/stage%d/ /opt/prev/" % (s - 1, s - 1))


def final_stage(w, stages):
    w.emit("FROM scratch AS final")
    w.emit("ARG APP_NAME")
    for s in range(stages):
        w.emit("COPY --from=stage%d --link /opt/${APP_NAME}/stage%d/ /opt/${APP_NAME}/stage%d/" % (s, s, s))
    w.emit("HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \\",
           "    CMD [\"/opt/app/bin/health\"]")
    w.emit("ENTRYPOINT [\"/opt/app/bin/server\"]")
    w.emit("CMD [\"--port\", \"8080\"]")


def generate(total, stages, seed):
    rng = random.Random(seed)
    w = Writer(rng)
    w.lines += ["# syntax=docker/dockerfile:1", "# Generated by bench/gen_dockerfile.py: %d instructions." % total, ""]
    w.emit("ARG APP_NAME=bench")
    w.emit("ARG APP_VERSION=1.2.3")
    final_cost = stages + 5  # FROM, ARG, COPY per stage, HEALTHCHECK, ENTRYPOINT, CMD
    budget = total - w.count - final_cost
    per_stage = budget // stages
    funcs = [g for g, weight in GENERATORS for _ in range(weight)]
    step = 0
    for s in range(stages):
        target = w.count + (per_stage if s < stages - 1 else budget - per_stage * (stages - 1))
        w.lines.append("")
        stage_header(w, s, stages)
        while w.count < target:
            if rng.random() < 0.1:
                w.comment("step %d of stage %d" % (step, s))
            rng.choice(funcs)(w, step)
            step += 1
    w.lines.append("")
    final_stage(w, stages)
    assert w.count == total, (w.count, total)
    return "\n".join(w.lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", "--instructions", type=int, default=10000)
    p.add_argument("--stages", type=int, default=12)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("-o", "--output", default="-")
    a = p.parse_args()
    if a.instructions < a.stages * 8 + a.stages + 7:
        p.error("too few instructions for %d stages" % a.stages)
    text = generate(a.instructions, a.stages, a.seed)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
