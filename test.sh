#!/usr/bin/env bash
# Runs the whole test suite against private PostgreSQL/Redis/RabbitMQ instances.
#
#   ./test.sh                      # everything
#   ./test.sh --filter Category=X  # extra args are passed to `dotnet test`
#   ESC_TEST_SEED=N ./test.sh      # the test order of an earlier run (its seed is printed at the start)
#
# Test collections, classes and cases run in an order shuffled from ESC_TEST_SEED (a fresh random seed when unset).
# A test that runs longer than ESC_TEST_HANG_TIMEOUT (default 8min) is a hang: the test host is killed, the test
# named and the run counted as failed. In-process host logs (warning and above) go to host-logs.txt in the results.
# The decision tests (tests/EventSourcedChat.Decisions.Tests, no services) run first and stop the run when they fail;
# then the integration tests. The last line printed is always `N passed, N failed` (summed over both projects' .trx files).
# Exit status is non-zero if a test failed, if no test ran, or if `dotnet test` failed.
# Services are left running (cheap, faster next run) unless ESC_STOP_SERVICES=1.
set -euo pipefail

# trx_attr <Counters-tag> <attribute>: numeric attribute value, 0 when absent.
trx_attr() {
    local v
    v="$(printf '%s\n' "$1" | sed -n "s/.*[[:space:]]$2=\"\([0-9]*\)\".*/\1/p")"
    echo "${v:-0}"
}

# trx_summary <dir>: prints "<passed> <failed> <trx-file-count> <runs-failed-without-a-failed-test>" summed over
# every *.trx under dir. failed = failed + error + timeout + aborted, plus 1 for each run that failed or was aborted
# without a failing test (the last field counts those). Plain grep/sed/awk only (no python on fresh CI).
trx_summary() {
    local dir="$1" passed=0 failed=0 files=0 unexplained=0 f_path tag
    while IFS= read -r -d '' f_path; do
        files=$((files + 1))
        # Flatten the file so an element split over lines still matches.
        tag="$(tr '\r\n' '  ' <"$f_path" | grep -o '<Counters[[:space:]][^>]*>' | head -n 1 || true)"
        if [[ -z "$tag" ]]; then
            echo "test.sh: no <Counters> element in $f_path (counted as 1 failure)" >&2
            failed=$((failed + 1))
            continue
        fi
        local p f outcome
        p="$(trx_attr "$tag" passed)"
        f=$(($(trx_attr "$tag" failed) + $(trx_attr "$tag" error) \
            + $(trx_attr "$tag" timeout) + $(trx_attr "$tag" aborted)))
        # A run that failed/aborted without a failing test (e.g. the test host crashed) counts as 1.
        outcome="$(tr '\r\n' '  ' <"$f_path" | grep -o '<ResultSummary[[:space:]][^>]*>' | head -n 1 \
            | sed -n 's/.*outcome="\([A-Za-z]*\)".*/\1/p' || true)"
        if [[ "$f" -eq 0 && "$outcome" =~ ^(Failed|Aborted|Error|Timeout)$ ]]; then
            echo "test.sh: $f_path: run outcome '$outcome' without failed tests (counted as 1 failure)" >&2
            f=1
            unexplained=$((unexplained + 1))
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done < <(find "$dir" -type f -name '*.trx' -print0 2>/dev/null)
    echo "$passed $failed $files $unexplained"
}

# blame_unfinished <dir>: the tests that were still running when the blame collector's hang timeout stopped the test
# host (or when it crashed), one per line: Completed="False" in the collector's Sequence_*.xml files.
blame_unfinished() {
    find "$1" -type f -name 'Sequence_*.xml' -print0 2>/dev/null | xargs -0 -r cat | tr '\r\n' '  ' \
        | grep -o '<Test [^>]*Completed="False"[^>]*>' | sed -n 's/.* Name="\([^"]*\)".*/\1/p' | sort -u || true
}

# The JS-client test (tests/js, run by the xunit test JsClient) needs Node.js and npm; it runs `npm ci` itself.
ensure_node() {
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
    echo "test.sh: installing nodejs and npm (apt)" >&2
    local sudo=()
    [[ $EUID -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >&2
}

main() {
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    cd "$root"
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

    # The tests' order is shuffled from this seed (tests/EventSourcedChat.Tests/Infrastructure/SeededOrder.cs).
    local seed="${ESC_TEST_SEED:-$(( (RANDOM * 32768 + RANDOM) % 999999 + 1 ))}"
    if [[ ! "$seed" =~ ^-?[0-9]{1,9}$ ]]; then
        echo "test.sh: ESC_TEST_SEED='$seed' is not an integer" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "test.sh: test order seed $seed (ESC_TEST_SEED=$seed ./test.sh reproduces it)"
    export ESC_TEST_SEED="$seed"

    eval "$(scripts/services.sh up)"
    # Node.js to build the web client, Debian's Chromium for the browser tests (tests/EventSourcedChat.Tests/Web).
    scripts/web.sh setup --browser
    scripts/web.sh build
    ensure_node


    rm -rf "$root/TestResults"
    local results
    results="$root/TestResults/$(date -u +%Y%m%dT%H%M%SZ)"
    mkdir -p "$results"

    export ESC_TEST_LOG_DIR="$results"

    # No test legitimately runs for minutes (the slowest, the fault suite's, take about one): a test still running
    # after the hang timeout gets its host killed and the run fails, naming the test, instead of stalling CI.
    local rc=0 hang_timeout="${ESC_TEST_HANG_TIMEOUT:-8min}"
    # Build everything once (benchmarks and tools included), then run the decision tests first: they need no service
    # and take seconds, so a broken rule fails the run before the integration suite starts.
    dotnet build "$root/EventSourcedChat.sln" -c Release || rc=$?
    if [[ "$rc" -eq 0 ]]; then
        dotnet test "$root/tests/EventSourcedChat.Decisions.Tests/EventSourcedChat.Decisions.Tests.csproj" -c Release --no-build \
            --logger "trx" --results-directory "$results/decisions" || rc=$?
        if [[ "$rc" -ne 0 ]]; then
            echo "test.sh: the decision tests failed; the integration tests were not run" >&2
        fi
    fi
    if [[ "$rc" -eq 0 ]]; then
        dotnet test "$root/tests/EventSourcedChat.Tests/EventSourcedChat.Tests.csproj" -c Release --no-build --logger "trx" \
            --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none \
            --results-directory "$results/integration" "$@" || rc=$?
    fi

    local passed failed files unexplained
    read -r passed failed files unexplained < <(trx_summary "$results")

    # A test stopped by the hang timeout has no result in the .trx (its run is only marked aborted): name it and count
    # it, instead of the 1 failure counted for its aborted run.
    local unfinished
    unfinished="$(blame_unfinished "$results")"
    if [[ -n "$unfinished" ]]; then
        while IFS= read -r name; do
            echo "test.sh: FAILED (hang or crash): $name was still running when the test host was stopped (hang timeout ${hang_timeout}, or a crash); the tests after it did not run" >&2
        done <<<"$unfinished"
        failed=$((failed - unexplained + $(wc -l <<<"$unfinished")))
    fi

    if [[ "$files" -eq 0 && "$rc" -ne 0 ]]; then
        echo "test.sh: dotnet test exited with $rc and wrote no .trx (build/restore error?)" >&2
        passed=0 failed=1
    elif [[ "$rc" -ne 0 && "$failed" -eq 0 ]]; then
        echo "test.sh: dotnet test exited with $rc although no test is reported failed (test host crash?); counting 1 failure" >&2
        failed=1
    fi

    if [[ "${ESC_STOP_SERVICES:-0}" == 1 ]]; then
        scripts/services.sh down >&2 || true
    fi

    echo "$passed passed, $failed failed"

    if [[ "$rc" -ne 0 ]]; then exit "$rc"; fi
    if [[ "$failed" -ne 0 ]]; then exit 1; fi
    if [[ "$passed" -eq 0 ]]; then
        echo "test.sh: no test ran" >&2
        exit 1
    fi
}

# Allow `source test.sh` to reuse trx_summary without running anything.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
