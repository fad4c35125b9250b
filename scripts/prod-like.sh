#!/usr/bin/env bash
# The production topology on this machine, from the project's own files and Debian's
# packages: nginx (TLS, self-signed certificate made now) load-balancing two
# `canteen serve` processes (CANTEEN_ENV=production), two Celery workers and one beat,
# a fresh PostgreSQL database and a private Redis. No Docker needed.
#
#   scripts/prod-like.sh start [WORK]   start everything; prints and writes WORK/stack.env
#   scripts/prod-like.sh stop  [WORK]   stop what `start` started (by pid) and drop the database
#
# WORK defaults to var/prod-like. Settings are written to WORK/canteen.env, the same
# variables deploy/compose.yaml reads from its env file. What differs from a campus
# deployment, and why:
#   - Razorpay is the local sandbox (python -m canteen_sandbox) reached through
#     CANTEEN_RAZORPAY_BASE_URL, with fresh random keys; its webhooks come back through nginx.
#   - SMS (Twilio) and push (FCM) are the real adapters pointed at the project's HTTP
#     stand-ins (deploy/local/standins.py): production refuses the development providers.
#     SMS and pushes land in WORK/sms.jsonl and WORK/push.jsonl.
#   - Everything listens on 127.0.0.1 ports chosen at start; nginx on a high port.
# Environment: CANTEEN_PROD_PG (default postgresql://postgres@127.0.0.1:5432),
# CANTEEN_PROD_DB (database name, default canteen_prod_like), PROD_LIKE_VENV (below),
# PROD_LIKE_TIMEZONE (the canteen's zone, default Asia/Kolkata; its test picks one where it
# is mid-morning, since production refuses a clock shift and its slots end at midnight).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
WORK=$(mkdir -p "${2:-$ROOT/var/prod-like}" && cd "${2:-$ROOT/var/prod-like}" && pwd)
PG=${CANTEEN_PROD_PG:-postgresql://postgres@127.0.0.1:5432}
DB=${CANTEEN_PROD_DB:-canteen_prod_like}
# `stop` drops the database `start` made in this WORK, whatever CANTEEN_PROD_DB says now.
[ "${1:-}" = stop ] && [ -f "${2:-$ROOT/var/prod-like}/database" ] &&
  DB=$(cat "${2:-$ROOT/var/prod-like}/database")
# PROD_LIKE_VENV: run from another environment, e.g. one laid out as the Dockerfile does
# (uv sync --no-dev --no-editable), to check the image's packages without Docker.
BIN=${PROD_LIKE_VENV:-$ROOT/.venv}/bin
PIDS=$WORK/pids
say() { printf '==> %s\n' "$*" >&2; }

stop_all() {
  [ -f "$PIDS" ] || return 0
  # Reverse start order: nginx first, then the API, jobs, providers, Redis. Each entry
  # is a process group we started (setsid), so uvicorn's and Celery's children go too.
  tac "$PIDS" | while read -r name pid; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    alive=0
    while read -r name pid; do kill -0 "$pid" 2>/dev/null && alive=1; done <"$PIDS"
    [ $alive = 0 ] && break
    sleep 0.2
  done
  while read -r name pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done <"$PIDS"
  rm -f "$PIDS"
}

drop_db() {
  "$BIN/python" - "$PG" "$DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1] + "/postgres", autocommit=True) as c:
    c.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
PY
}

if [ "$cmd" = stop ]; then
  stop_all
  drop_db
  exit 0
fi
if [ "$cmd" != start ]; then
  echo "usage: $0 start|stop [WORK]" >&2
  exit 2
fi

for tool in nginx openssl redis-server; do
  command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin
  command -v "$tool" >/dev/null || { echo "error: $tool is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
stop_all  # a previous run in the same WORK
rm -rf "$WORK/logs" "$WORK/nginx" "$WORK"/*.jsonl "$WORK/standins.env"
mkdir -p "$WORK/logs" "$WORK/nginx/canteen" "$WORK/nginx/tmp" "$WORK/tls" "$WORK/media"

# Start `name cmd...` in its own process group, logging to logs/name.log.
spawn() {
  local name=$1
  shift
  (cd "$WORK" && exec setsid "$@" >"$WORK/logs/$name.log" 2>&1 </dev/null) &
  echo "$name $!" >>"$PIDS"
}
wait_for() {  # wait_for NAME SECONDS TEST-COMMAND...
  local name=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "error: $name did not come up; see $WORK/logs/$name.log" >&2
      tail -n 30 "$WORK/logs/$name.log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}
trap 'status=$?; [ $status = 0 ] || stop_all' EXIT

# Ports below the kernel's ephemeral range: a port the kernel handed out (bind to 0) could be
# given to an outgoing connection before its server starts, seconds later ("address already
# in use" once in CI); no outgoing connection is given one of these.
read -r P_NGINX P_HOOKS P_API1 P_API2 P_REDIS P_SANDBOX P_W1 P_W2 < <("$BIN/python" -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
socks = []
while len(socks) < 8:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(10000, low) if low > 11000 else 0))
    except OSError:
        s.close()
        continue
    socks.append(s)
print(*[s.getsockname()[1] for s in socks])')
BASE_URL=https://127.0.0.1:$P_NGINX

say "TLS certificate (self-signed, CN=127.0.0.1)"
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$WORK/tls/privkey.pem" -out "$WORK/tls/fullchain.pem" 2>/dev/null

say "private Redis on :$P_REDIS"
spawn redis redis-server --port "$P_REDIS" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$WORK" --protected-mode yes
wait_for redis 20 redis-cli -p "$P_REDIS" ping

say "fresh PostgreSQL database $DB"
drop_db
echo "$DB" >"$WORK/database"
"$BIN/python" - "$PG" "$DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1] + "/postgres", autocommit=True) as c:
    c.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY

say "SMS and push stand-ins"
spawn standins "$BIN/python" "$ROOT/deploy/local/standins.py" "$WORK"
wait_for standins 60 test -f "$WORK/standins.env"

# The settings, as a campus would put them in deploy/canteen.env (secrets made now).
ADMIN_PHONE=+919000000001
ADMIN_PASSWORD=$(openssl rand -hex 12)
METRICS_TOKEN=$(openssl rand -hex 24)
{
  echo "CANTEEN_ENV=production"
  echo "CANTEEN_DATABASE_URL=$PG/$DB"
  echo "CANTEEN_REDIS_URL=redis://127.0.0.1:$P_REDIS/0"
  echo "CANTEEN_CELERY_BROKER_URL=redis://127.0.0.1:$P_REDIS/1"
  echo "CANTEEN_SECRET_KEY=$(openssl rand -hex 32)"
  echo "CANTEEN_PUBLIC_BASE_URL=$BASE_URL"
  echo "CANTEEN_TRUST_FORWARDED_FOR=true"
  echo "CANTEEN_DATA_DIR=$WORK"
  echo "CANTEEN_TIMEZONE=${PROD_LIKE_TIMEZONE:-Asia/Kolkata}"
  echo "CANTEEN_PORTAL_DIST=$ROOT/portal/dist"
  echo "CANTEEN_METRICS_TOKEN=$METRICS_TOKEN"
  echo "CANTEEN_PAYMENT_GATEWAY=razorpay"
  echo "CANTEEN_RAZORPAY_BASE_URL=http://127.0.0.1:$P_SANDBOX"
  echo "CANTEEN_RAZORPAY_KEY_ID=rzp_live_$(openssl rand -hex 7)"
  echo "CANTEEN_RAZORPAY_KEY_SECRET=$(openssl rand -hex 16)"
  echo "CANTEEN_RAZORPAY_WEBHOOK_SECRET=$(openssl rand -hex 16)"
  cat "$WORK/standins.env"
} >"$WORK/canteen.env"
chmod 600 "$WORK/canteen.env"
# Each process gets exactly these settings (and none of the caller's CANTEEN_*).
APP_ENV=(env -u PROMETHEUS_MULTIPROC_DIR $(env | grep -o '^CANTEEN_[A-Z0-9_]*' | sed 's/^/-u /')
  $(cat "$WORK/canteen.env") PYTHONUNBUFFERED=1)

# Its webhooks come back through nginx, on a plain-HTTP listener of the same server
# block on 127.0.0.1: the sandbox's HTTP client ignores SSL_CERT_FILE, so it cannot be
# told to trust our self-signed certificate (Razorpay itself calls the HTTPS address).
say "Razorpay sandbox on :$P_SANDBOX (webhooks through nginx :$P_HOOKS)"
spawn sandbox "${APP_ENV[@]}" "$BIN/python" -m canteen_sandbox --port "$P_SANDBOX" \
  --webhook-url "http://127.0.0.1:$P_HOOKS/api/v1/payments/webhooks/razorpay"

say "migrations and the first admin"
"${APP_ENV[@]}" "$BIN/canteen" migrate >"$WORK/logs/migrate.log" 2>&1
"${APP_ENV[@]}" "$BIN/canteen" create-admin --phone "$ADMIN_PHONE" --password "$ADMIN_PASSWORD" \
  --name "Prod-like admin" >>"$WORK/logs/migrate.log" 2>&1

say "two API processes (:$P_API1, :$P_API2), two Celery workers, one beat"
spawn api1 "${APP_ENV[@]}" "$BIN/canteen" serve --port "$P_API1"
spawn api2 "${APP_ENV[@]}" "$BIN/canteen" serve --port "$P_API2"
# Each worker serves its metrics on a port of its own (no token: not published).
spawn worker1 "${APP_ENV[@]}" CANTEEN_WORKER_METRICS_ADDR="127.0.0.1:$P_W1" "$BIN/canteen" worker
spawn worker2 "${APP_ENV[@]}" CANTEEN_WORKER_METRICS_ADDR="127.0.0.1:$P_W2" "$BIN/canteen" worker
spawn beat "${APP_ENV[@]}" "$BIN/canteen" beat

say "nginx on :$P_NGINX (deploy/nginx/canteen.conf)"
cp "$ROOT/deploy/nginx/canteen.conf" "$WORK/nginx/canteen.conf"
cat >"$WORK/nginx/canteen/upstream.conf" <<EOF
upstream canteen_api {
    server 127.0.0.1:$P_API1 max_fails=1 fail_timeout=10s;
    server 127.0.0.1:$P_API2 max_fails=1 fail_timeout=10s;
}
EOF
cat >"$WORK/nginx/canteen/site.conf" <<EOF
listen 127.0.0.1:$P_NGINX ssl;
listen 127.0.0.1:$P_HOOKS;
server_name 127.0.0.1 localhost;
ssl_certificate $WORK/tls/fullchain.pem;
ssl_certificate_key $WORK/tls/privkey.pem;
EOF
cat >"$WORK/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log $WORK/logs/nginx-access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    include /etc/nginx/mime.types;
    include canteen.conf;
}
EOF
[ "$(id -u)" = 0 ] && sed -i '1a user root;' "$WORK/nginx/nginx.conf"  # workers read WORK
nginx -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/logs/nginx-test.log" 2>&1 ||
  { cat "$WORK/logs/nginx-test.log" >&2; exit 1; }
spawn nginx nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"

ready() { curl -fsS --cacert "$WORK/tls/fullchain.pem" "$1" ; }
wait_for api1 180 curl -fsS "http://127.0.0.1:$P_API1/readyz"
wait_for api2 180 curl -fsS "http://127.0.0.1:$P_API2/readyz"
wait_for nginx 30 ready "$BASE_URL/readyz"
wait_for sandbox 60 curl -fsS -o /dev/null "http://127.0.0.1:$P_SANDBOX/"
for w in worker1 worker2; do wait_for "$w" 120 grep -q 'ready\.' "$WORK/logs/$w.log"; done
wait_for beat 60 grep -q 'beat: Starting' "$WORK/logs/beat.log"

pid_of() { awk -v n="$1" '$1 == n { print $2 }' "$PIDS"; }
cat >"$WORK/stack.env" <<EOF
BASE_URL=$BASE_URL
CA_FILE=$WORK/tls/fullchain.pem
ADMIN_PHONE=$ADMIN_PHONE
ADMIN_PASSWORD=$ADMIN_PASSWORD
METRICS_TOKEN=$METRICS_TOKEN
SANDBOX_URL=http://127.0.0.1:$P_SANDBOX
API1_URL=http://127.0.0.1:$P_API1
API2_URL=http://127.0.0.1:$P_API2
API1_PID=$(pid_of api1)
API2_PID=$(pid_of api2)
WORKER1_METRICS_URL=http://127.0.0.1:$P_W1/metrics
WORKER2_METRICS_URL=http://127.0.0.1:$P_W2/metrics
SMS_LOG=$WORK/sms.jsonl
PUSH_LOG=$WORK/push.jsonl
DATABASE_URL=$PG/$DB
EOF
say "up: $BASE_URL (portal: $BASE_URL/portal/, admin $ADMIN_PHONE, see $WORK/stack.env)"
