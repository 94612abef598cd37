FROM postgres:16 AS db
ENV POSTGRES_DB=app \
    POSTGRES_USER=app
COPY --chmod=0644 initdb/*.sql /docker-entrypoint-initdb.d/
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --start-interval=2s --retries=5 \
    CMD ["pg_isready", "-U", "app", "-d", "app"]

FROM redis:7-alpine AS cache
COPY redis.conf /usr/local/etc/redis/redis.conf
HEALTHCHECK --interval=1m30s --timeout=10s CMD redis-cli ping | grep -q PONG
CMD ["redis-server", "/usr/local/etc/redis/redis.conf"]

FROM nginx:1.27-alpine AS proxy
COPY nginx.conf /etc/nginx/nginx.conf
HEALTHCHECK CMD wget -q --spider http://127.0.0.1/healthz || exit 1

# A derived image that turns off the parent's health check.
FROM proxy AS proxy-nocheck
HEALTHCHECK NONE
