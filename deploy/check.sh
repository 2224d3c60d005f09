#!/usr/bin/env bash
# Validates the deployment artefacts in deploy/ without Docker, a cluster or systemd:
#   compose  docker-compose -f deploy/docker-compose.yml config -q
#   nginx    nginx -t on a copy of deploy/nginx.conf (upstreams and cert paths made local)
#   k8s      schema validation of deploy/k8s/*.yaml (deploy/validate-k8s.mjs)
#   systemd  systemd-analyze verify on a copy of deploy/sigil.service (if available)
#   image    the Dockerfile's steps on this machine, then start, probe and SIGTERM the result
#
# Usage, from the repository root:  bash deploy/check.sh
#   DEPLOY_CHECK_REF=HEAD bash deploy/check.sh   builds a commit instead of the working tree
#   bash deploy/check.sh nginx k8s               runs only the named checks
#   DEPLOY_CHECK_KEEP=1                           keeps the scratch directory (logs) for a look
# Needs root for apt-get (only when docker-compose/nginx/openssl/git are missing).
# Prints one line per check and exits 1 if any failed. Leaves nothing behind.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEPLOY=$ROOT/deploy

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sigil-deploy-check.XXXXXX")
cleanup() {
  # Stop the smoke-test server if a failed check left it running (by its own pid only).
  if [ -s "$WORK/server.pid" ]; then
    local pid; pid=$(cat "$WORK/server.pid")
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  if [ -n "${DEPLOY_CHECK_KEEP:-}" ]; then echo "kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT   # so that cleanup runs on Ctrl-C and on kill, too
trap 'exit 143' TERM

# ---- tools ------------------------------------------------------------------------------
need_apt=()
command -v docker-compose >/dev/null || need_apt+=(docker-compose)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v git >/dev/null || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${need_apt[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---- runner -------------------------------------------------------------------------------
# Each check runs in a subshell with its output in $WORK/<name>.log; the last line it
# prints that starts with "detail: " goes on its PASS/FAIL line.
passed=0; failed=0; skipped=0
run_check() {
  local name=$1 fn=$2 log=$WORK/$1.log start=$SECONDS rc
  # Not `( ... ) || rc=$?`: errexit is ignored inside anything tested by || or &&.
  set +e
  ( set -euo pipefail; "$fn" ) >"$log" 2>&1
  rc=$?
  set -e
  local detail; detail=$(grep '^detail: ' "$log" | tail -1 | sed 's/^detail: //' || true)
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1)); printf 'PASS %-8s %s (%ss)\n' "$name" "$detail" "$took"
  elif [ "$rc" -eq 99 ]; then
    skipped=$((skipped + 1)); printf 'SKIP %-8s %s\n' "$name" "$detail"
  else
    failed=$((failed + 1)); printf 'FAIL %-8s %s (exit %s, %ss); last lines of its output:\n' "$name" "$detail" "$rc" "$took"
    grep -v '^detail: ' "$log" | tail -40 | sed 's/^/  | /'
  fi
}

# ---- (a) docker-compose ---------------------------------------------------------------------
check_compose() {
  echo "detail: docker-compose config failed"
  docker-compose -f deploy/docker-compose.yml config -q
  local services expected="migrate nginx postgres redis sigil-1 sigil-2"
  services=$(docker-compose -f deploy/docker-compose.yml config --services | sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$services" != "$expected" ]; then
    echo "detail: services are [$services], expected [$expected]"; return 1
  fi
  echo "detail: config -q ok ($(docker-compose version --short)); services: $services"
}

# ---- (b) nginx -t -----------------------------------------------------------------------------
check_nginx() {
  local d=$WORK/nginx conf=$DEPLOY/nginx.conf
  mkdir -p "$d"
  # Invariants the rewrite below and the retry policy rely on.
  [ "$(grep -cE '^\s*server sigil-[12]:3000\b' "$conf")" -eq 2 ] ||
    { echo "detail: expected upstream servers sigil-1:3000 and sigil-2:3000"; return 1; }
  if grep -E '^\s*proxy_next_upstream\s' "$conf" | grep -q non_idempotent; then
    echo "detail: proxy_next_upstream must not retry non-idempotent requests (POST)"; return 1
  fi
  echo "detail: openssl could not make a throwaway certificate"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$d/tls.key" -out "$d/tls.crt" 2>/dev/null
  # sigil-N does not resolve here and nginx -t resolves upstream hosts: point them at
  # local ports; certificates at the throwaway pair; temp files into the scratch dir (on
  # the `http {` line itself, so nginx's line numbers still match deploy/nginx.conf).
  sed -E -e 's/\bsigil-([12]):3000\b/127.0.0.1:300\1/' \
         -e "s#/etc/nginx/certs/#$d/#g" \
         -e "s#^http \\{#http { client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;#" \
         "$conf" >"$d/nginx.conf"
  grep -q "$d/tls.crt" "$d/nginx.conf" || { echo "detail: certificate path rewrite did not apply"; return 1; }
  echo "detail: nginx -t failed"
  "$NGINX" -t -e stderr -p "$d/" -c "$d/nginx.conf" -g "pid $d/nginx.pid;"
  echo "detail: nginx -t ok ($("$NGINX" -v 2>&1 | sed 's#.*/##'), upstreams rewritten to 127.0.0.1)"
}

# ---- (c) Kubernetes manifests ---------------------------------------------------------------
check_k8s() {
  [ -d node_modules/kubernetes-models ] || { echo "detail: node_modules/kubernetes-models missing: run npm ci"; return 1; }
  local out; out=$(node deploy/validate-k8s.mjs deploy/k8s 2>&1) || { echo "$out"; echo "detail: $(echo "$out" | tail -1)"; return 1; }
  echo "$out"
  echo "detail: kubernetes-models: $(echo "$out" | tail -1)"
}

# ---- (d) systemd unit -------------------------------------------------------------------------
check_systemd() {
  command -v systemd-analyze >/dev/null || { echo "detail: systemd-analyze not installed"; return 99; }
  local d=$WORK/systemd node out rc=0
  mkdir -p "$d"
  node=$(command -v node)
  # verify checks that ExecStart binaries exist: point /usr/bin/node at this machine's node
  # (the /opt/sigil paths are arguments, not checked). User=, EnvironmentFile= and
  # LoadCredential= are only resolved at start, so their absence here is not reported.
  sed "s#/usr/bin/node#$node#g" deploy/sigil.service >"$d/sigil.service"
  out=$(systemd-analyze verify "$d/sigil.service" 2>&1) || rc=$?
  echo "$out"
  # Line-numbered diagnostics (unknown key, unparsable value, bad section) are real errors
  # in the unit; systemd only "ignores" them, so verify alone would still exit 0.
  if echo "$out" | grep -qE "sigil\.service:[0-9]+:|Unknown (section|key)|Failed to parse|Invalid|[Mm]issing '='"; then
    echo "detail: systemd-analyze verify reported problems in the unit"; return 1
  fi
  # Anything else with a non-zero exit is environmental unless it names our unit.
  if [ "$rc" -ne 0 ] && echo "$out" | grep -q 'sigil\.service'; then
    echo "detail: systemd-analyze verify failed (exit $rc)"; return 1
  fi
  local ver; ver=$(systemd-analyze --version | head -1 | awk '{print $1, $2}')
  echo "detail: systemd-analyze verify ok ($ver)"
}

# ---- (e) image steps without Docker -----------------------------------------------------------
# Mirrors deploy/Dockerfile: the build stage's COPYs from a copy of the checkout (the build
# context), npm ci, npm run build; the runtime stage's COPYs (package*.json, dist/ from the
# build stage, prisma/), npm ci --omit=dev --ignore-scripts; then `migrate` and `serve` on
# the embedded defaults from an empty working directory, as the image's CMD would.
check_image() {
  local ctx=$WORK/context build=$WORK/build rt=$WORK/runtime cwd=$WORK/cwd port pid
  mkdir -p "$ctx" "$build" "$rt" "$cwd"
  # The commands run below must be the ones the Dockerfile runs.
  local want
  for want in 'RUN npm ci --no-audit --no-fund' 'RUN npm run build' 'RUN npm ci --omit=dev --ignore-scripts' \
              'CMD ["node", "dist/cli.js", "serve"]'; do
    grep -qF "$want" "$DEPLOY/Dockerfile" || { echo "detail: deploy/Dockerfile no longer has: $want (update check.sh)"; return 1; }
  done

  echo "detail: copying the checkout failed"
  if [ -n "${DEPLOY_CHECK_REF:-}" ]; then
    # A committed tree instead of the working tree, e.g. DEPLOY_CHECK_REF=HEAD.
    git archive --format=tar "$DEPLOY_CHECK_REF" | tar -C "$ctx" -xf -
  else
    # What a Docker build context would see: tracked and untracked-but-not-ignored files
    # (so no node_modules, dist, data or keys), as they are in the working tree now.
    git ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -C "$ctx" -xf -
  fi

  echo "detail: build stage: the Dockerfile's COPY steps failed"
  node "$DEPLOY/mirror-dockerfile.mjs" "$DEPLOY/Dockerfile" build "$ctx" "$build"
  echo "detail: build stage: npm ci failed"
  (cd "$build" && npm ci --no-audit --no-fund --prefer-offline)
  echo "detail: build stage: npm run build failed"
  (cd "$build" && npm run build)

  echo "detail: runtime stage: the Dockerfile's COPY steps failed"
  node "$DEPLOY/mirror-dockerfile.mjs" "$DEPLOY/Dockerfile" runtime "$ctx" "$rt" build="$build"
  [ -f "$rt/dist/cli.js" ] && [ -d "$rt/prisma/migrations" ] ||
    { echo "detail: runtime stage lacks dist/cli.js or prisma/migrations"; return 1; }
  echo "detail: runtime stage: npm ci --omit=dev --ignore-scripts failed"
  (cd "$rt" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline)

  # A clean environment (no DATABASE_URL/REDIS_URL/KEK from the caller): embedded PGlite,
  # in-process store, development KEK, all written under the empty working directory.
  local free_port="const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  port=$(node -e "$free_port")
  local mport; mport=$(node -e "$free_port")
  local -a env_run=(env -i PATH="$PATH" HOME="$cwd" HOST=127.0.0.1 PORT="$port" MANAGEMENT_PORT="$mport" LOG_LEVEL=info SHUTDOWN_TIMEOUT=10)

  echo "detail: runtime: node dist/cli.js migrate failed"
  (cd "$cwd" && "${env_run[@]}" node "$rt/dist/cli.js" migrate)

  echo "detail: runtime: node dist/cli.js serve did not become ready"
  (cd "$cwd" && exec "${env_run[@]}" node "$rt/dist/cli.js" serve) >"$WORK/serve.log" 2>&1 &
  pid=$!
  echo "$pid" >"$WORK/server.pid"
  local probe="fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"
  local ready=0 waited=0
  while [ "$waited" -lt 90 ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/serve.log"; echo "detail: serve exited before it was ready"; return 1; }
    if node -e "$probe" "http://127.0.0.1:$port/readyz"; then ready=1; break; fi
    sleep 1; waited=$((waited + 1))
  done
  [ "$ready" -eq 1 ] || { cat "$WORK/serve.log"; echo "detail: /readyz not 200 within 90 s"; return 1; }

  echo "detail: /metrics must be 404 on the public port and 200 on the management port"
  local status_is="fetch(process.argv[1]).then(r=>process.exit(r.status===Number(process.argv[2])?0:1),()=>process.exit(1))"
  node -e "$status_is" "http://127.0.0.1:$port/metrics" 404
  node -e "$status_is" "http://127.0.0.1:$mport/metrics" 200

  # The Dockerfile's HEALTHCHECK command, run as written (exec form JSON after CMD).
  echo "detail: the Dockerfile HEALTHCHECK command failed against the running server"
  local -a hc_argv=()
  local a
  while IFS= read -r -d '' a; do hc_argv+=("$a"); done < <(node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8").replace(/\\\n/g, " ")
    const line = t.split("\n").find(l => /^HEALTHCHECK\s/.test(l))
    const m = line && line.match(/\sCMD\s+(\[.*\])\s*$/)
    if (!m) { console.error("no exec-form HEALTHCHECK in the Dockerfile"); process.exit(1) }
    for (const a of JSON.parse(m[1])) process.stdout.write(a + "\0")' "$DEPLOY/Dockerfile")
  [ ${#hc_argv[@]} -gt 0 ] || { echo "detail: no exec-form HEALTHCHECK ... CMD [...] in deploy/Dockerfile"; return 1; }
  (cd "$rt" && PORT=$port "${hc_argv[@]}")

  echo "detail: SIGTERM: serve did not exit 0"
  kill -TERM "$pid"
  local rc=0 n=0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
  kill -0 "$pid" 2>/dev/null && { cat "$WORK/serve.log"; echo "detail: still running 30 s after SIGTERM"; return 1; }
  wait "$pid" || rc=$?
  rm -f "$WORK/server.pid"
  cat "$WORK/serve.log"
  [ "$rc" -eq 0 ] || { echo "detail: serve exited $rc after SIGTERM (expected 0)"; return 1; }
  echo "detail: ${DEPLOY_CHECK_REF:-working tree}: build + production install ok; migrate ok; /readyz 200 after ${waited}s; /metrics on the management port only; HEALTHCHECK ok; SIGTERM -> exit 0"
}

all_checks=(compose nginx k8s systemd image)
selected=("${@:-${all_checks[@]}}")
for name in "${selected[@]}"; do
  case " ${all_checks[*]} " in
    *" $name "*) ;;
    *) echo "unknown check: $name (known: ${all_checks[*]})" >&2; exit 2 ;;
  esac
done
for name in "${selected[@]}"; do run_check "$name" "check_$name"; done

echo "deploy checks: $passed ok, $failed failing, $skipped skipped"
[ "$failed" -eq 0 ]
