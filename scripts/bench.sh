#!/usr/bin/env bash
# Runs Kiteflow's benchmarks (docs/BENCHMARKS.md): installs the peers they measure against (nginx as the
# loopback receiver, syslog-ng with its http() destination), builds in Release, then runs the harness.
#   ./scripts/bench.sh                 every benchmark
#   ./scripts/bench.sh planner         one of: planner preview pacing delivery delivery-memory ingest store-append preview-api
#                                      server-lag server-fleet server-pacing ui cluster
# ingest and store-append compare the SQLite store with PostgreSQL (a throwaway server, as the tests start one).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh

need=()
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
[ -x /usr/sbin/syslog-ng ] || need+=(syslog-ng-core syslog-ng-mod-http)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

dotnet build src/Kiteflow.Cli -c Release -nologo -v quiet -clp:ErrorsOnly -tl:off
dotnet build bench/Kiteflow.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly -tl:off
bench=bench/Kiteflow.Benchmarks/bin/Release/net10.0/Kiteflow.Benchmarks.dll
which=("$@")
[ ${#which[@]} -gt 0 ] || which=(planner preview pacing delivery delivery-memory ingest store-append preview-api server-lag server-fleet server-pacing ui cluster)
for b in "${which[@]}"; do
  echo "=== $b"
  case "$b" in
    # BenchmarkDotNet builds its own project (the whole server, Orleans included), which can take over its
    # default 2 minutes on a busy shared machine.
    planner) dotnet "$bench" planner --filter '*' --buildTimeout 900 ;;
    ingest) dotnet "$bench" ingest 1000000 4 sqlite postgres-unflushed postgres ;;
    store-append) dotnet "$bench" store-append 200000 sqlite postgres-unflushed postgres ;;
    *) dotnet "$bench" "$b" ;;
  esac
done
