#!/usr/bin/env bash
# Private PostgreSQL / Redis / RabbitMQ instances for EventSourcedChat development and tests.
#
#   scripts/services.sh up       start (idempotent), wait until every service answers, print env
#   scripts/services.sh down     stop what `up` started (by the PIDs recorded in .data/*.pid)
#   scripts/services.sh status   print running/stopped per service (exit 0 only if all run)
#   scripts/services.sh env      print the `export ConnectionStrings__...` lines
#
# It also runs a local SMTP server (scripts/smtp-sink.py, Debian's python3-aiosmtpd) on 127.0.0.1:55025 that writes
# every mail it gets to .data/smtp/mail/*.eml and a line per mail to .data/smtp/mail.log (see docs/notifications.md).
#
# And an S3-compatible server (npm s3rver 3.7.1, installed by this script under scripts/s3rver/node_modules) on
# 127.0.0.1:55090 with its data under .data/s3 and one bucket, `esc`: the S3 object store's tests run against it
# (see docs/files.md). `env` exports its settings as Files__S3__*; the application uses it only with Files__Store=s3.
#
# Usage: eval "$(scripts/services.sh up)"
#
# ESC_PG_STAT_STATEMENTS=1 scripts/services.sh up  (PostgreSQL not yet running) loads pg_stat_statements, for measurements.
#
# Everything lives under <repo>/.data, listens on 127.0.0.1 only and uses ports that cannot
# collide with default instances (PostgreSQL 55432, Redis 56379, RabbitMQ 55672 + dist 55673,
# epmd 54369). System services are never touched. Progress goes to stderr; only the export
# lines go to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/.data"

PG_PORT=55432
REDIS_PORT=56379
AMQP_PORT=55672
RABBIT_DIST_PORT=55673
RABBIT_CTL_DIST_MIN=55674
RABBIT_CTL_DIST_MAX=55684
EPMD_PORT=54369
RABBIT_NODE=esc@localhost
DB_USER=esc
DB_PASS=esc
DB_NAME=esc

WAIT_SECONDS="${ESC_SERVICES_WAIT_SECONDS:-60}"
STOP_SECONDS="${ESC_SERVICES_STOP_SECONDS:-30}"

PG_DIR="$DATA/postgres"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/run"
REDIS_DIR="$DATA/redis"
RABBIT_DIR="$DATA/rabbitmq"
RABBIT_LIB=/usr/lib/rabbitmq/bin

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

print_env() {
    cat <<EOF
export ConnectionStrings__Postgres='Host=127.0.0.1;Port=${PG_PORT};Username=${DB_USER};Password=${DB_PASS};Database=${DB_NAME}'
export ConnectionStrings__Redis='127.0.0.1:${REDIS_PORT}'
export ConnectionStrings__RabbitMq='amqp://${DB_USER}:${DB_PASS}@127.0.0.1:${AMQP_PORT}/'
EOF
    smtp_print_env
    s3_print_env
}

now() { date +%s%N; }
elapsed_since() { local ms=$(( ($(now) - $1) / 1000000 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }

# ---------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------
find_pgbin() {
    local d
    if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then echo /usr/lib/postgresql/15/bin; return 0; fi
    while IFS= read -r d; do
        [[ -x "$d/postgres" && -x "$d/initdb" ]] && { echo "$d"; return 0; }
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5nr)
    return 1
}

missing_packages() {
    local missing=() pgbin
    if pgbin="$(find_pgbin)" && [[ -x "$pgbin/psql" && -x "$pgbin/pg_isready" ]]; then
        local ver; ver="$(basename "$(dirname "$pgbin")")"
        [[ -f "/usr/share/postgresql/$ver/extension/pg_trgm.control" ]] || missing+=(postgresql-contrib)
    else
        missing+=(postgresql postgresql-contrib)
    fi
    command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || missing+=(redis-server)
    [[ -x "$RABBIT_LIB/rabbitmq-server" ]] && command -v epmd >/dev/null 2>&1 || missing+=(rabbitmq-server)
    smtp_missing_packages
    s3_missing_packages
    # runuser/setpriv/flock/setsid are util-linux (essential on Debian); timeout/od are coreutils.
    echo "${missing[*]:-}"
}

ensure_packages() {
    local missing pkgs; missing="$(missing_packages)"
    [[ -z "$missing" ]] && return 0
    read -r -a pkgs <<<"$missing"
    log "installing missing packages: $missing"
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "packages missing ($missing) and not root / no sudo"
        sudo=(sudo)
    fi
    # Keep apt from starting the *system* services (we only run private instances):
    # a temporary policy-rc.d that denies service starts, unless one already exists.
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod 755 "$policy"
        created_policy=1
    fi
    local rc=0
    {
        "${sudo[@]}" apt-get update -q >&2 &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${pkgs[@]}" >&2
    } || rc=$?
    [[ $created_policy -eq 1 ]] && "${sudo[@]}" rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install failed ($missing)"
    missing="$(missing_packages)"
    [[ -z "$missing" ]] || die "still missing after install: $missing"
}

# ---------------------------------------------------------------------------------------------
# PID helpers
# ---------------------------------------------------------------------------------------------
# pid_of <svc> <expected-cmdline-substring>: prints the recorded PID if that process is alive
# and really is the expected program (guards against PID reuse); returns 1 otherwise.
pid_of() {
    local file="$DATA/$1.pid" pid cmdline
    [[ -f "$file" ]] || return 1
    pid="$(tr -dc '0-9' <"$file")"
    [[ -n "$pid" ]] || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$2"* ]] || return 1
    echo "$pid"
}

PG_MATCH="-p $PG_PORT"
REDIS_MATCH="redis-server"
RABBIT_MATCH="rabbitmq-server"
EPMD_MATCH="epmd"

# Keep the previous run's log as <svc>.log.1 so a failure shows only this run's output.
fresh_log() { [[ -f "$DATA/$1.log" ]] && mv -f "$DATA/$1.log" "$DATA/$1.log.1"; return 0; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

fail_with_log() {
    local name="$1" logfile="$2"
    printf '[services] ERROR: %s did not become ready within %ss. Last lines of %s:\n' \
        "$name" "$WAIT_SECONDS" "$logfile" >&2
    tail -n 40 "$logfile" >&2 2>/dev/null || true
    exit 1
}

# stop_pid <name> <pid> <signal> : graceful signal, bounded wait, then SIGKILL of its process group
stop_pid() {
    local name="$1" pid="$2" sig="$3" i
    log "stopping $name (pid $pid, SIG$sig)"
    kill -s "$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_SECONDS * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    log "$name did not stop within ${STOP_SECONDS}s, killing"
    # Started with setsid, so the PID is also its process-group id: take its children too.
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
PGBIN=""
PG_OWNER=""

pg_as_owner() {
    if [[ $EUID -eq 0 ]]; then runuser -u "$PG_OWNER" -- "$@"; else "$@"; fi
}

pg_psql() {
    PGPASSWORD="$DB_PASS" PGCONNECT_TIMEOUT=3 "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" \
        -U "$DB_USER" -v ON_ERROR_STOP=1 "$@"
}

pg_ready() {
    "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1 &&
        [[ "$(pg_psql -d postgres -tAc 'select 1' 2>/dev/null)" == 1 ]]
}

# The postgres OS user must be able to reach .data/postgres: add o+x (traverse only, no read)
# to any ancestor directory lacking it.
pg_ensure_traversable() {
    [[ $EUID -eq 0 ]] || return 0
    runuser -u "$PG_OWNER" -- test -x "$PG_DIR" 2>/dev/null && return 0
    local d="$PG_DIR" dirs=()
    while [[ "$d" != "/" ]]; do dirs=("$d" "${dirs[@]}"); d="$(dirname "$d")"; done
    for d in "${dirs[@]}"; do
        if [[ -d "$d" && "$(stat -c %A "$d")" != *x ]]; then
            log "chmod o+x $d (so the '$PG_OWNER' user can reach $PG_DIR)"
            chmod o+x "$d"
        fi
    done
    runuser -u "$PG_OWNER" -- test -x "$PG_DIR" || die "user '$PG_OWNER' cannot access $PG_DIR"
}

pg_start() {
    PGBIN="$(find_pgbin)" || die "PostgreSQL binaries not found"
    if [[ $EUID -eq 0 ]]; then
        PG_OWNER=postgres
        id -u "$PG_OWNER" >/dev/null 2>&1 || die "OS user 'postgres' does not exist (install postgresql)"
    else
        PG_OWNER="$(id -un)"
    fi
    if pid_of postgres "$PG_MATCH" >/dev/null; then
        return 0
    fi
    rm -f "$DATA/postgres.pid"
    port_in_use "$PG_PORT" && die "port $PG_PORT is already used by a process not started by this script"

    mkdir -p "$PG_DIR" "$PG_SOCK"
    chmod 755 "$DATA" "$PG_DIR"
    [[ $EUID -eq 0 ]] && chown "$PG_OWNER:" "$PG_SOCK"
    chmod 700 "$PG_SOCK"
    pg_ensure_traversable

    local binver; binver="$(basename "$(dirname "$PGBIN")")"
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        local dataver; dataver="$(cat "$PG_DATA/PG_VERSION")"
        [[ "$dataver" == "$binver" ]] ||
            die "$PG_DATA was created by PostgreSQL $dataver but binaries are $binver; remove $PG_DIR"
    else
        log "initdb $PG_DATA (PostgreSQL $binver, superuser '$DB_USER')"
        rm -rf "$PG_DATA"
        mkdir -p "$PG_DATA"
        [[ $EUID -eq 0 ]] && chown "$PG_OWNER:" "$PG_DATA"
        chmod 700 "$PG_DATA"
        local pwfile="$PG_DIR/initdb.pw"
        printf '%s\n' "$DB_PASS" >"$pwfile"
        [[ $EUID -eq 0 ]] && chown "$PG_OWNER:" "$pwfile"
        chmod 600 "$pwfile"
        if ! pg_as_owner "$PGBIN/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$pwfile" \
                -E UTF8 --locale=C --lc-ctype=C.UTF-8 --auth-local=scram-sha-256 --auth-host=scram-sha-256 \
                >"$DATA/initdb.log" 2>&1; then
            rm -f "$pwfile"
            tail -n 30 "$DATA/initdb.log" >&2
            rm -rf "$PG_DATA"
            die "initdb failed (see $DATA/initdb.log)"
        fi
        rm -f "$pwfile"
        # Password auth only; TCP only from 127.0.0.1 (the server listens nowhere else).
        cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# EventSourcedChat private instance (scripts/services.sh)
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
EOF
        [[ $EUID -eq 0 ]] && chown "$PG_OWNER:" "$PG_DATA/pg_hba.conf"
    fi

    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    local sock_path="$PG_SOCK/.s.PGSQL.$PG_PORT"
    ((${#sock_path} < 100)) || die "socket path too long ($sock_path); move the repository to a shorter path"
    # Settings on the command line so they always apply. fsync/synchronous_commit stay default.
    local cmd=("$PGBIN/postgres" -D "$PG_DATA" -p "$PG_PORT"
        -c listen_addresses=127.0.0.1 -c "unix_socket_directories=$PG_SOCK"
        -c max_connections=300 -c shared_buffers=256MB)
    # Opt-in for measurements (docs/benchmarks.md): per-statement counts and times in pg_stat_statements.
    if [[ "${ESC_PG_STAT_STATEMENTS:-}" == 1 ]]; then
        cmd+=(-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all)
    fi
    if [[ $EUID -eq 0 ]]; then
        cmd=(setpriv --reuid="$PG_OWNER" --regid="$PG_OWNER" --init-groups -- "${cmd[@]}")
    fi
    fresh_log postgres
    (cd "$PG_DIR" && exec setsid "${cmd[@]}" </dev/null >>"$DATA/postgres.log" 2>&1 9>&-) &
    echo $! >"$DATA/postgres.pid"
}

pg_wait() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until pg_ready; do
        pid_of postgres "$PG_MATCH" >/dev/null || fail_with_log "PostgreSQL (process exited)" "$DATA/postgres.log"
        ((SECONDS < deadline)) || fail_with_log PostgreSQL "$DATA/postgres.log"
        sleep 0.2
    done
    # Idempotent bootstrap: the application database (role esc is the initdb superuser).
    if [[ "$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]]; then
        log "creating database $DB_NAME"
        pg_psql -d postgres -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\"" >&2
    fi
    [[ "$(pg_psql -d "$DB_NAME" -tAc 'select 1')" == 1 ]] || die "cannot connect to database $DB_NAME"
}

pg_stop() {
    local pid
    if pid="$(pid_of postgres "$PG_MATCH")"; then
        # SIGINT = "fast" shutdown: disconnects clients (test connection pools), then checkpoints.
        stop_pid PostgreSQL "$pid" INT
    else
        log "PostgreSQL not running (by this script)"
    fi
    rm -f "$DATA/postgres.pid"
}

# ---------------------------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------------------------
redis_ready() { [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

redis_start() {
    if pid_of redis "$REDIS_MATCH" >/dev/null; then return 0; fi
    rm -f "$DATA/redis.pid"
    port_in_use "$REDIS_PORT" && die "port $REDIS_PORT is already used by a process not started by this script"
    mkdir -p "$REDIS_DIR"
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    # Cache / pub-sub only: no RDB snapshots, no AOF.
    fresh_log redis
    (cd "$REDIS_DIR" && exec setsid redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --protected-mode yes --daemonize no --dir "$REDIS_DIR" --save '' --appendonly no \
        --logfile '' --maxclients 10000 \
        </dev/null >>"$DATA/redis.log" 2>&1 9>&-) &
    echo $! >"$DATA/redis.pid"
}

redis_wait() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until redis_ready; do
        pid_of redis "$REDIS_MATCH" >/dev/null || fail_with_log "Redis (process exited)" "$DATA/redis.log"
        ((SECONDS < deadline)) || fail_with_log Redis "$DATA/redis.log"
        sleep 0.1
    done
}

redis_stop() {
    local pid
    if pid="$(pid_of redis "$REDIS_MATCH")"; then stop_pid Redis "$pid" TERM; else log "Redis not running (by this script)"; fi
    rm -f "$DATA/redis.pid"
}

# ---------------------------------------------------------------------------------------------
# RabbitMQ (+ its own epmd)
# ---------------------------------------------------------------------------------------------
# Runs /usr/lib/rabbitmq/bin/* directly (not the /usr/sbin wrappers, which switch to the
# 'rabbitmq' user); everything it writes is redirected under .data/rabbitmq via RABBITMQ_* vars.
rabbit_env() {
    export HOME="$RABBIT_DIR/home"                       # .erlang.cookie lives here
    export ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1
    export RABBITMQ_CONF_ENV_FILE="$RABBIT_DIR/rabbitmq-env.conf"   # ignore /etc/rabbitmq/rabbitmq-env.conf
    export RABBITMQ_NODENAME="$RABBIT_NODE" RABBITMQ_USE_LONGNAME=false
    export RABBITMQ_CONFIG_FILE="$RABBIT_DIR/rabbitmq.conf"
    export RABBITMQ_ADVANCED_CONFIG_FILE="$RABBIT_DIR/advanced.config"
    export RABBITMQ_ENABLED_PLUGINS_FILE="$RABBIT_DIR/enabled_plugins"
    export RABBITMQ_MNESIA_BASE="$RABBIT_DIR/mnesia"
    export RABBITMQ_LOG_BASE="$RABBIT_DIR/log" RABBITMQ_LOGS=-
    export RABBITMQ_PID_FILE="$RABBIT_DIR/beam.pid"
    export RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT"
    export RABBITMQ_CTL_DIST_PORT_MIN="$RABBIT_CTL_DIST_MIN" RABBITMQ_CTL_DIST_PORT_MAX="$RABBIT_CTL_DIST_MAX"
    export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
    export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# AMQP-level probe: send the AMQP 0-9-1 protocol header; a live broker answers with a
# Connection.Start method frame (frame type 0x01).
amqp_ready() {
    local first
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    first="$(timeout 3 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        head -c 1 <&3 | od -An -tx1' _ "$AMQP_PORT" 2>/dev/null | tr -d ' \n')" || true
    [[ "$first" == 01 ]]
}

epmd_start() {
    if pid_of epmd "$EPMD_MATCH" >/dev/null; then return 0; fi
    rm -f "$DATA/epmd.pid"
    port_in_use "$EPMD_PORT" && die "port $EPMD_PORT (epmd) is already used by a process not started by this script"
    fresh_log epmd
    (exec setsid epmd -port "$EPMD_PORT" -address 127.0.0.1 </dev/null >>"$DATA/epmd.log" 2>&1 9>&-) &
    echo $! >"$DATA/epmd.pid"
    local i
    for ((i = 0; i < 50; i++)); do port_in_use "$EPMD_PORT" && return 0; sleep 0.1; done
    fail_with_log epmd "$DATA/epmd.log"
}

rabbit_start() {
    if pid_of rabbitmq "$RABBIT_MATCH" >/dev/null; then return 0; fi
    rm -f "$DATA/rabbitmq.pid"
    port_in_use "$AMQP_PORT" && die "port $AMQP_PORT is already used by a process not started by this script"
    port_in_use "$RABBIT_DIST_PORT" && die "port $RABBIT_DIST_PORT is already used by a process not started by this script"
    mkdir -p "$RABBIT_DIR/home" "$RABBIT_DIR/mnesia" "$RABBIT_DIR/log"
    chmod 700 "$RABBIT_DIR/home"
    : >"$RABBIT_DIR/rabbitmq-env.conf"
    echo '[].' >"$RABBIT_DIR/enabled_plugins"
    cat >"$RABBIT_DIR/rabbitmq.conf" <<EOF
# EventSourcedChat private instance (scripts/services.sh) - loopback only
listeners.tcp.1 = 127.0.0.1:${AMQP_PORT}
default_vhost = /
default_user = ${DB_USER}
default_pass = ${DB_PASS}
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
log.console = true
log.console.level = info
log.file = false
EOF
    epmd_start
    log "starting RabbitMQ ($RABBIT_NODE) on 127.0.0.1:$AMQP_PORT"
    fresh_log rabbitmq
    (rabbit_env; cd "$RABBIT_DIR" && exec setsid "$RABBIT_LIB/rabbitmq-server" \
        </dev/null >>"$DATA/rabbitmq.log" 2>&1 9>&-) &
    echo $! >"$DATA/rabbitmq.pid"
}

rabbit_wait() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until amqp_ready; do
        pid_of rabbitmq "$RABBIT_MATCH" >/dev/null || fail_with_log "RabbitMQ (process exited)" "$DATA/rabbitmq.log"
        ((SECONDS < deadline)) || fail_with_log RabbitMQ "$DATA/rabbitmq.log"
        sleep 0.3
    done
}

rabbit_stop() {
    local pid
    # The wrapper turns SIGTERM into a graceful broker stop and exits when the VM has exited.
    if pid="$(pid_of rabbitmq "$RABBIT_MATCH")"; then stop_pid RabbitMQ "$pid" TERM; else log "RabbitMQ not running (by this script)"; fi
    rm -f "$DATA/rabbitmq.pid"
    if pid="$(pid_of epmd "$EPMD_MATCH")"; then stop_pid epmd "$pid" TERM; fi
    rm -f "$DATA/epmd.pid"
}

# ---------------------------------------------------------------------------------------------
# SMTP (a local mail sink: every mail to .data/smtp/mail/*.eml, a line each in .data/smtp/mail.log)
# ---------------------------------------------------------------------------------------------
SMTP_PORT=55025
SMTP_DIR="$DATA/smtp"
SMTP_MATCH="smtp-sink.py"

# Debian's python3-aiosmtpd, imported by the system python3 (not a pyenv one). Adds to missing_packages' list.
smtp_missing_packages() {
    /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || missing+=(python3-aiosmtpd)
}

smtp_print_env() {
    cat <<EOF
export Mail__Smtp__Host='127.0.0.1'
export Mail__Smtp__Port='${SMTP_PORT}'
export ESC_SMTP_MAILDIR='${SMTP_DIR}/mail'
EOF
}

smtp_ready() { [[ "$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && head -c 3 <&3' _ "$SMTP_PORT" 2>/dev/null)" == 220 ]]; }

smtp_start() {
    if pid_of smtp "$SMTP_MATCH" >/dev/null; then return 0; fi
    rm -f "$DATA/smtp.pid"
    port_in_use "$SMTP_PORT" && die "port $SMTP_PORT is already used by a process not started by this script"
    mkdir -p "$SMTP_DIR/mail"
    log "starting the SMTP sink on 127.0.0.1:$SMTP_PORT (mail in $SMTP_DIR/mail, log $SMTP_DIR/mail.log)"
    fresh_log smtp
    (exec setsid /usr/bin/python3 "$ROOT/scripts/smtp-sink.py" "$SMTP_PORT" "$SMTP_DIR/mail" \
        </dev/null >>"$DATA/smtp.log" 2>&1 9>&-) &
    echo $! >"$DATA/smtp.pid"
}

smtp_wait() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until smtp_ready; do
        pid_of smtp "$SMTP_MATCH" >/dev/null || fail_with_log "SMTP sink (process exited)" "$DATA/smtp.log"
        ((SECONDS < deadline)) || fail_with_log "SMTP sink" "$DATA/smtp.log"
        sleep 0.1
    done
}

smtp_stop() {
    local pid
    if pid="$(pid_of smtp "$SMTP_MATCH")"; then stop_pid "SMTP sink" "$pid" TERM; else log "SMTP sink not running (by this script)"; fi
    rm -f "$DATA/smtp.pid"
}

smtp_status() {
    local pid
    if pid="$(pid_of smtp "$SMTP_MATCH")"; then
        if smtp_ready; then printf '%-10s %-8s %s\n' smtp running "pid $pid, 127.0.0.1:$SMTP_PORT, mail in $SMTP_DIR/mail"
        else printf '%-10s %-8s %s\n' smtp starting "pid $pid, not answering yet"; return 1; fi
    else printf '%-10s %-8s %s\n' smtp stopped ""; return 1; fi
}

# ---------------------------------------------------------------------------------------------
# S3 (npm s3rver: an S3-compatible server for the S3 object store's tests; data in .data/s3)
# ---------------------------------------------------------------------------------------------
S3_PORT=55090
S3_DIR="$DATA/s3"
S3_BUCKET=esc
S3_KEY=S3RVER            # s3rver's built-in account: access key and secret are both S3RVER
S3_PKG="$ROOT/scripts/s3rver"
S3_BIN="$S3_PKG/node_modules/s3rver/bin/s3rver.js"
S3_MATCH="s3rver.js -d $S3_DIR"

# Debian's nodejs and npm (npm installs s3rver). Adds to missing_packages' list.
s3_missing_packages() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
}

s3_print_env() {
    cat <<EOF
export Files__S3__ServiceUrl='http://127.0.0.1:${S3_PORT}'
export Files__S3__Bucket='${S3_BUCKET}'
export Files__S3__AccessKey='${S3_KEY}'
export Files__S3__SecretKey='${S3_KEY}'
export Files__S3__Region='us-east-1'
EOF
}

# The server's command line, one word a line (also how to run a private one by hand, on another port and folder:
# mapfile -t cmd < <(scripts/services.sh s3-command 55091 /tmp/my-s3); "${cmd[@]}" &).
s3_command() { # <port> <data dir>
    printf '%s\n' node "$S3_BIN" -d "$2" -a 127.0.0.1 -p "$1" --silent --no-vhost-buckets --configure-bucket "$S3_BUCKET"
}

# Installs s3rver locally (scripts/s3rver/node_modules, from its package-lock.json) unless it is there.
s3_install() {
    [[ -f "$S3_BIN" ]] && return 0
    log "installing s3rver into $S3_PKG/node_modules (npm ci)"
    (cd "$S3_PKG" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci in $S3_PKG failed"
    [[ -f "$S3_BIN" ]] || die "s3rver is not at $S3_BIN after npm ci"
}

# s3rver answers GET / (the bucket list) once it listens.
s3_ready() {
    [[ "$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && head -c 12 <&3' _ "$S3_PORT" 2>/dev/null)" == "HTTP/1.1 200" ]]
}

s3_start() {
    if pid_of s3 "$S3_MATCH" >/dev/null; then return 0; fi
    rm -f "$DATA/s3.pid"
    port_in_use "$S3_PORT" && die "port $S3_PORT is already used by a process not started by this script"
    s3_install
    mkdir -p "$S3_DIR"
    log "starting s3rver on 127.0.0.1:$S3_PORT (data in $S3_DIR, bucket $S3_BUCKET)"
    fresh_log s3
    local cmd; mapfile -t cmd < <(s3_command "$S3_PORT" "$S3_DIR")
    (exec setsid "${cmd[@]}" </dev/null >>"$DATA/s3.log" 2>&1 9>&-) &
    echo $! >"$DATA/s3.pid"
}

s3_wait() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until s3_ready; do
        pid_of s3 "$S3_MATCH" >/dev/null || fail_with_log "s3rver (process exited)" "$DATA/s3.log"
        ((SECONDS < deadline)) || fail_with_log s3rver "$DATA/s3.log"
        sleep 0.1
    done
}

s3_stop() {
    local pid
    if pid="$(pid_of s3 "$S3_MATCH")"; then stop_pid s3rver "$pid" TERM; else log "s3rver not running (by this script)"; fi
    rm -f "$DATA/s3.pid"
}

s3_status() {
    local pid
    if pid="$(pid_of s3 "$S3_MATCH")"; then
        if s3_ready; then printf '%-10s %-8s %s\n' s3 running "pid $pid, 127.0.0.1:$S3_PORT, data in $S3_DIR"
        else printf '%-10s %-8s %s\n' s3 starting "pid $pid, not answering yet"; return 1; fi
    else printf '%-10s %-8s %s\n' s3 stopped ""; return 1; fi
}

# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
lock() {
    mkdir -p "$DATA"
    exec 9>"$DATA/services.lock"
    flock -w 120 9 || die "another services.sh is running (lock $DATA/services.lock)"
}

cmd_up() {
    local t0; t0="$(now)"
    lock
    ensure_packages
    pg_start
    redis_start
    rabbit_start
    smtp_start
    s3_start
    redis_wait
    pg_wait
    rabbit_wait
    smtp_wait
    s3_wait
    log "postgres: 127.0.0.1:$PG_PORT  redis: 127.0.0.1:$REDIS_PORT  rabbitmq: 127.0.0.1:$AMQP_PORT  s3: 127.0.0.1:$S3_PORT (logs in .data/*.log)"
    log "services up in $(elapsed_since "$t0")"
    print_env
}

cmd_down() {
    lock
    s3_stop
    smtp_stop
    rabbit_stop
    redis_stop
    pg_stop
    log "services stopped"
}

cmd_status() {
    local all=0 pid
    PGBIN="$(find_pgbin 2>/dev/null)" || PGBIN=""
    status_line() { # name state detail
        printf '%-10s %-8s %s\n' "$1" "$2" "$3"
    }
    if pid="$(pid_of postgres "$PG_MATCH")"; then
        if [[ -n "$PGBIN" ]] && pg_ready; then status_line postgres running "pid $pid, 127.0.0.1:$PG_PORT"
        else status_line postgres starting "pid $pid, not answering yet"; all=1; fi
    else status_line postgres stopped ""; all=1; fi
    if pid="$(pid_of redis "$REDIS_MATCH")"; then
        if redis_ready; then status_line redis running "pid $pid, 127.0.0.1:$REDIS_PORT"
        else status_line redis starting "pid $pid, not answering yet"; all=1; fi
    else status_line redis stopped ""; all=1; fi
    if pid="$(pid_of rabbitmq "$RABBIT_MATCH")"; then
        if amqp_ready; then status_line rabbitmq running "pid $pid, 127.0.0.1:$AMQP_PORT, node $RABBIT_NODE"
        else status_line rabbitmq starting "pid $pid, not answering yet"; all=1; fi
    else status_line rabbitmq stopped ""; all=1; fi
    smtp_status || all=1
    s3_status || all=1
    return $all
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) print_env ;;
    s3-command) s3_command "${2:?port}" "${3:?data dir}" ;;
    *)
        echo "usage: $0 up|down|status|env|s3-command PORT DIR" >&2
        exit 2
        ;;
esac
