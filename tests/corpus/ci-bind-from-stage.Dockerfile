# syntax=docker/dockerfile:1
# Test and coverage stages read the build output through bind mounts instead of copying it.
FROM gcc:14 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/src/build \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DENABLE_COVERAGE=ON \
 && cmake --build build -j2 \
 && cp -r build/bin /out

FROM build AS test
RUN --mount=type=bind,from=build,source=/out,target=/opt/bin \
    /opt/bin/unit_tests --reporter junit --out /junit.xml

FROM alpine:3.20 AS report
RUN apk add --no-cache python3 py3-pip && pip install --break-system-packages gcovr
RUN --mount=type=bind,from=test,source=/junit.xml,target=/in/junit.xml \
    --mount=type=bind,from=build,source=/src,target=/src,readonly \
    mkdir -p /report && cp /in/junit.xml /report/ && gcovr -r /src --html -o /report/coverage.html

FROM scratch AS export
COPY --from=report /report /
