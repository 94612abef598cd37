# syntax=docker/dockerfile:1
# Here-documents: scripts, config files, tab-stripped bodies and quoted delimiters.
FROM debian:bookworm-slim

ARG APP_HOME=/srv/app
ENV GREETING=hello

RUN <<EOF
set -eux
apt-get update
apt-get install -y --no-install-recommends nginx ca-certificates
rm -rf /var/lib/apt/lists/*
mkdir -p ${APP_HOME}
EOF

# A config file written by COPY; $GREETING is expanded because the delimiter is unquoted.
COPY <<EOF /etc/app/app.conf
greeting = ${GREETING}
home = ${APP_HOME}
EOF

# Quoted delimiter: the body is kept literally.
COPY <<'EOF' /usr/local/bin/entrypoint.sh
#!/bin/sh
set -e
echo "starting with $GREETING in $APP_HOME"
exec "$@"
EOF

RUN <<-"SCRIPT" bash
	set -euo pipefail
	chmod +x /usr/local/bin/entrypoint.sh
	for d in logs tmp cache; do
		install -d -m 0750 "/srv/app/$d"
	done
	SCRIPT

# Two files from one COPY.
COPY <<robots.txt <<humans.txt /usr/share/nginx/html/
User-agent: *
Disallow: /admin
robots.txt
Team: platform
humans.txt

RUN python3 - <<PY || true
import json
print(json.dumps({"ok": True}))
PY

WORKDIR ${APP_HOME}
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
