# ensure_packages PKG...: installs the Debian packages that are not installed yet (with sudo
# when not root). Shared by setup.sh and test.sh so that either works on a fresh machine.
ensure_packages() {
  local missing=() package sudo_cmd=""
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
}

# What building and running the gateway needs.
TOLLGATE_BUILD_PACKAGES=(libcurl4-openssl-dev libhiredis-dev libsqlite3-dev libopenblas-dev python3-pip python3-venv curl)
