#!/usr/bin/env bash
# Installs what Kiteflow's build and tests need on a fresh Debian 12 machine: PostgreSQL's server programs and Chromium.
# Safe to run again: it installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

need_apt=()
command -v dotnet >/dev/null 2>&1 || { echo "bootstrap: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 1; }
# SQLite comes with Microsoft.Data.Sqlite. PostgreSQL's server programs (initdb, pg_ctl; Debian puts them in
# /usr/lib/postgresql/N/bin) let the tests start a throwaway server of their own (see DEVELOPERS.md); no
# system-wide server is used.
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
# The web UI's browser tests (and the UI benchmark) drive Debian's Chromium through Playwright (see DEVELOPERS.md);
# Playwright's own browser downloads are never used.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${need_apt[*]}"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi
