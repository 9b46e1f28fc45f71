# Starts Debian's PostgreSQL cluster (installing the package if missing) and a superuser role
# the tests create their throwaway databases with. Exports TOLLGATE_TEST_POSTGRES_URL.
# Sourced by scripts/test.sh and .ci/run.
start_test_postgres() {
  ensure_packages postgresql
  local version cluster as_postgres="runuser -u postgres --" sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || { as_postgres="sudo -u postgres"; sudo_cmd="sudo"; }
  version="$(pg_lsclusters -h | awk 'NR==1 {print $1}')"
  cluster="$(pg_lsclusters -h | awk 'NR==1 {print $2}')"
  if [ -z "$version" ]; then
    version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
    cluster=main
    $sudo_cmd pg_createcluster "$version" "$cluster" >/dev/null
  fi
  $sudo_cmd pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
  local port
  port="$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')"
  for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  $as_postgres psql -q -p "$port" -v ON_ERROR_STOP=1 -c \
    "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tollgate_test') THEN CREATE ROLE tollgate_test LOGIN SUPERUSER PASSWORD 'tollgate_test'; END IF; END \$\$;" >/dev/null
  export TOLLGATE_TEST_POSTGRES_URL="postgres://tollgate_test:tollgate_test@127.0.0.1:${port}/postgres?sslmode=disable"
}
