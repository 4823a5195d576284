#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server (Debian's `postgresql` package, installed by
# setup.sh): a fresh cluster in a temporary folder, listening on a free loopback port with TLS (a
# certificate authority made for this run; 127.0.0.2 reaches the same server under an address its
# certificate does not name), removed afterwards, whether the command passed, failed
# or was interrupted. The command finds the server in its environment:
#   UNLOC_PG_HOST, UNLOC_PG_PORT            127.0.0.1 and the port
#   UNLOC_PG_ADMIN_USER, UNLOC_PG_ADMIN_PASSWORD
#                                           a superuser (the tests make their own roles and databases)
#   UNLOC_PG_CA_FILE                        the CA that signed the server's certificate (for verify-full;
#                                           the certificate names localhost and 127.0.0.1)
#   UNLOC_PG_TLS_ONLY_USER                  a role the server accepts only over TLS (pg_hba.conf)
# Usage: tests/scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
if [[ -z $bin || ! -x $bin/initdb ]]; then
  echo "with-postgres: PostgreSQL's server is not installed (tests/scripts/setup.sh installs it)" >&2
  exit 1
fi

cluster=$(mktemp -d -t unloc-pg.XXXXXX)
# initdb refuses to run as root: the cluster then belongs to the package's `postgres` user.
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { echo "with-postgres: as root, the 'postgres' user is needed to own the cluster" >&2; exit 1; }
  as_owner=(runuser -u postgres --)
fi

stop_and_remove() {
  local status=$?
  if [[ -f $cluster/data/postmaster.pid ]]; then
    "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$cluster"
  exit "$status"
}
trap stop_and_remove EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

# A certificate authority for this run, and the server's certificate signed by it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Unloc Desk test CA" \
  -keyout "$cluster/ca.key" -out "$cluster/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$cluster/server.key" -out "$cluster/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$cluster/san.ext"
openssl x509 -req -in "$cluster/server.csr" -CA "$cluster/ca.pem" -CAkey "$cluster/ca.key" -CAcreateserial \
  -days 2 -extfile "$cluster/san.ext" -out "$cluster/server.pem" 2>/dev/null
chmod 600 "$cluster/server.key"
printf '%s\n' "$admin_password" >"$cluster/admin.pw"
chmod 755 "$cluster"
[[ ${#as_owner[@]} -eq 0 ]] || chown -R postgres: "$cluster"
chmod 644 "$cluster/ca.pem"

"${as_owner[@]}" "$bin/initdb" -D "$cluster/data" -U unloc_admin --pwfile="$cluster/admin.pw" \
  --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C >"$cluster/initdb.log" 2>&1 ||
  { cat "$cluster/initdb.log" >&2; exit 1; }
rm -f "$cluster/admin.pw"

cat >>"$cluster/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1,127.0.0.2'
port = $port
unix_socket_directories = '$cluster'
ssl = on
ssl_cert_file = '$cluster/server.pem'
ssl_key_file = '$cluster/server.key'
fsync = off
synchronous_commit = off
full_page_writes = off
lc_messages = 'C'
EOF
# The TLS-only role first: its plain connections are turned away before the general rule.
cat >"$cluster/data/pg_hba.conf" <<'EOF'
local     all  all                          trust
hostnossl all  unloc_tls_only  127.0.0.0/8  reject
host      all  all             127.0.0.0/8  scram-sha-256
EOF

"${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 start >/dev/null ||
  { cat "$cluster/server.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/psql" -h "$cluster" -p "$port" -U unloc_admin -d postgres -q -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE unloc_tls_only LOGIN PASSWORD 'tls-only-password'" >/dev/null

export UNLOC_PG_HOST=127.0.0.1 UNLOC_PG_PORT=$port UNLOC_PG_ADMIN_USER=unloc_admin
export UNLOC_PG_ADMIN_PASSWORD=$admin_password UNLOC_PG_CA_FILE=$cluster/ca.pem UNLOC_PG_TLS_ONLY_USER=unloc_tls_only
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (removed afterwards)" >&2
"$@"
