#!/usr/bin/env bash
# A CI job for a stack run by reconciler: install it, bring the stack up, test it, take it
# down, and fail when anything was left behind. Runs as root on a Debian/Ubuntu runner.
#
#   manifests/ci/ci-job.sh [ORCHFILE]          (default: manifests/demo/Orchfile)
#
# Environment:
#   RECONCILER       the reconciler command (default: installs with pip into ./.ci-venv)
#   STACK_TEST       the stack's test command (default: curl the demo's web service)
#   JUNIT_OUT        where the leak check's JUnit XML goes (default: leak-check.xml)
#   CONTAINERD_ADDRESS, RECONCILER_NAMESPACE, RECONCILER_STATE_DIR as for reconciler.
#
# Exit status: the first failing step's; a leak fails the job (leak-check exit 1, or 2 when
# a class could not be checked). `down` runs even when the tests fail.
set -euo pipefail
orchfile=${1:-manifests/demo/Orchfile}
junit=${JUNIT_OUT:-leak-check.xml}
stack_test=${STACK_TEST:-"curl -fsS --retry 5 --retry-connrefused http://127.0.0.1:8080/"}

if [[ -z ${RECONCILER:-} ]]; then
    python3 -m venv .ci-venv
    .ci-venv/bin/pip install -q "${RECONCILER_PACKAGE:-.}"
    RECONCILER=.ci-venv/bin/reconciler
fi

step() { echo "== $*" >&2; }

step "validate $orchfile"
$RECONCILER validate "$orchfile"

step "apply --wait"
status=0
$RECONCILER apply --wait --timeout 5m -f "$orchfile" || status=$?
if ((status == 0)); then
    $RECONCILER status -f "$orchfile" || true
    step "stack tests: $stack_test"
    bash -c "$stack_test" || status=$?
else
    $RECONCILER status -f "$orchfile" || true
fi

step "down"
$RECONCILER down -f "$orchfile" || status=$?

step "leak-check -o junit > $junit"
leaks=0
$RECONCILER leak-check --settle 30s -o junit -f "$orchfile" >"$junit" || leaks=$?
if ((leaks != 0)); then
    $RECONCILER leak-check -f "$orchfile" >&2 || true
    echo "leak-check failed (exit $leaks); JUnit report in $junit" >&2
    exit "$leaks"
fi
exit "$status"
