# The payments service: charges cards. Started by /srv/app/run (see base/bin/install-service).
. /srv/lib/common.sh
load_config /srv/app
if [ "${1:-}" = --check ]; then
  echo "$NAME ok"
  exit 0
fi
log "$DESCRIPTION, on port $PORT"
