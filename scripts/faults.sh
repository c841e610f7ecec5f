#!/usr/bin/env bash
# Runs the fault suite alone (tests tagged Category=Faults) and prints its table.
#
#   scripts/faults.sh                  # a random seed for the fault moments (printed with the table)
#   ESC_FAULT_SEED=1234 scripts/faults.sh   # the same fault moments again
#
# The suite starts its own PostgreSQL cluster, Redis and RabbitMQ (temporary folders, free ports) plus an api,
# a projector and two gateway processes, then kills or restarts one of them per test under load
# (docs/reliability.md). ./test.sh brings up the shared services the rest of the test project expects and prints
# `N passed, N failed`; the table is written by the tests to TestResults/faults.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rc=0
./test.sh --filter Category=Faults "$@" || rc=$?

table="$root/TestResults/faults.md"
echo
if [[ -f "$table" ]]; then
  cat "$table"
else
  echo "faults.sh: no table at $table (the suite did not get to record a fault)" >&2
  [[ $rc -ne 0 ]] || rc=1
fi
exit "$rc"
