# Sourced by the scripts that serve `lots` for a test (tests/browser/run.sh,
# tests/schemathesis/run.sh).
#
# wait_for_server PID LOG CHECK...: waits up to two minutes for CHECK (a command) to succeed
# while the server PID runs; if it never does, prints the server's LOG and exits 1.
wait_for_server() {
  local pid="$1" log="$2"
  shift 2
  for _ in $(seq 1 240); do
    if "$@"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "lots did not become ready; its log:" >&2
  cat "$log" >&2
  exit 1
}
