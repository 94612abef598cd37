FROM debian:bookworm-slim
ARG METRICS_PORT=9090
RUN useradd --system --create-home --home-dir /var/lib/media media
# Ranges, protocols and expanded ports.
EXPOSE 80 443/tcp
EXPOSE 8000-8010
EXPOSE 5353/udp 10000-10100/udp
EXPOSE ${METRICS_PORT}
VOLUME ["/var/lib/media", "/var/log/media"]
VOLUME /cache /tmp/transcode
VOLUME ["/config"]
STOPSIGNAL SIGTERM
USER media:media
ENTRYPOINT ["mediad", "--metrics-port=9090"]
