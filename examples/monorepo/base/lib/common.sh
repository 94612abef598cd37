# Shell helpers every service shares: sourced by the service scripts and by install-service.

# log MESSAGE...: one line on stderr, prefixed with the service's name.
log() {
  echo "${SERVICE_NAME:-srv}: $*" >&2
}

# load_config DIR: reads DIR/service.conf (NAME=..., PORT=..., ...) and checks the keys every
# service needs; exits non-zero with a message when one is missing or malformed.
load_config() {
  conf="$1/service.conf"
  [ -f "$conf" ] || { echo "no $conf" >&2; return 1; }
  . "$conf"
  [ -n "${NAME:-}" ] || { echo "$conf: NAME is not set" >&2; return 1; }
  case "${PORT:-}" in
    '' | *[!0-9]*) echo "$conf: PORT must be a number, not '${PORT:-}'" >&2; return 1 ;;
  esac
  SERVICE_NAME=$NAME
}
