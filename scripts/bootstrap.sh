#!/usr/bin/env bash
# Installs what Kiteflow's build and tests need on a fresh Debian 12 machine.
# Safe to run again: it installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

need_apt=()
command -v dotnet >/dev/null 2>&1 || { echo "bootstrap: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 1; }
# (nothing from apt yet: SQLite comes with Microsoft.Data.Sqlite)

if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bootstrap: installing ${need_apt[*]}"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi
