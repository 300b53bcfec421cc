#!/usr/bin/env bash
# `make test-stack`: docker-compose.yml itself, run by Compose under a project name of its own, with the images this
# machine has, and checked end to end. Not part of `make test` (needs Docker; takes minutes).
#
#   - Services: mosquitto, simulator, bridge, prometheus, plus tb-gateway with whatever thingsboard/tb-gateway image
#     is here (the pinned tag first), and grafana if its image is here. Missing images are never pulled: their checks
#     print "skipped: <why>" and the rest runs.
#   - Nothing of the user's stack is touched: project "dlms-stacktest-<pid>", its own volumes and network, no fixed
#     host port (an override file publishes on free 127.0.0.1 ports Docker picks), a copy of .env.example's meters.
#   - ThingsBoard is the stand-in of ../shared/tools/thingsboard-standin (tb-standin.sh, TB_STANDIN to override): a
#     mosquitto on this host, bound to the project network's gateway address only, that answers the gateway's
#     getSessionLimits and records everything the gateway publishes.
#   - Meters: sim1 and sim2 (with a custom register key) on the compose simulator, sim3 on a second simulator that
#     is stopped mid-run (an offline meter).
# Checks: every started service healthy; readings of every meter in Mosquitto; the custom key; with a gateway:
# connect per meter, telemetry with the readings' own ts, the custom key, no meter/ts telemetry keys, clean stop
# (SIGINT: disconnects sent on restart), the offline meter stays disconnected across a gateway restart with its
# offline status as the last one at ThingsBoard; `verify`
# exits 0 only with proof of delivery; tb-gateway/config unchanged (git status) after the run.
#   KEEP=1  leave the project running (then: docker compose -p <project> down -v)   TIMEOUT=90 per wait
#   TB_GATEWAY_IMAGE=<image>  the gateway image to use instead of a local thingsboard/tb-gateway one
set -uo pipefail
cd "$(dirname "$0")/../../.."
REPO=$PWD
log() { printf '[test-stack] %s\n' "$*"; }
pass=0 fail=0 skips=0
ok() { log "PASS: $*"; pass=$((pass + 1)); }
bad() { log "FAIL: $*"; fail=$((fail + 1)); }
skip() { log "skipped: $*"; skips=$((skips + 1)); }
TIMEOUT=${TIMEOUT:-90}

command -v docker >/dev/null 2>&1 || { log "skipped: no docker client on PATH"; exit 0; }
docker info >/dev/null 2>&1 || { log "skipped: no Docker engine reachable (docker info failed)"; exit 0; }
git_status_before=$(git status --porcelain --untracked-files=all -- tb-gateway/config)

P=dlms-stacktest-$$
W=$(mktemp -d /tmp/dlms-stacktest.XXXXXX)
chmod 0755 "$W"
export COMPOSE_PROJECT_NAME=$P COMPOSE_FILE="docker-compose.yml:$W/override.yml"
dc() { docker compose --env-file "$W/compose.env" "$@"; }
standin_pid=
cleanup() {
  local rc=$?
  [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null && wait "$standin_pid" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then log "kept: project $P (files in $W)"; else
    dc down -v --remove-orphans -t 30 >/dev/null 2>&1
    rm -rf "$W"
  fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

# ---- images ---------------------------------------------------------------------------------------------------
GW_PINNED=$(sed -n 's/^ *image: \(thingsboard\/tb-gateway:[^ ]*\)$/\1/p' docker-compose.yml | head -1)
GW_IMAGE=${TB_GATEWAY_IMAGE:-}
if [ -n "$GW_IMAGE" ]; then docker image inspect "$GW_IMAGE" >/dev/null 2>&1 || { log "FAIL: TB_GATEWAY_IMAGE=$GW_IMAGE: no such image"; exit 1; }
elif docker image inspect "$GW_PINNED" >/dev/null 2>&1; then GW_IMAGE=$GW_PINNED
else GW_IMAGE=$(docker images thingsboard/tb-gateway --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | head -1); fi
GRAFANA_IMAGE=$(sed -n 's/^ *image: \(grafana\/grafana:[^ ]*\)$/\1/p' docker-compose.yml | head -1)
have_grafana=0; docker image inspect "$GRAFANA_IMAGE" >/dev/null 2>&1 && have_grafana=1
services=(mosquitto simulator simulator-b bridge prometheus)
if [ -n "$GW_IMAGE" ]; then services+=(tb-gateway); log "gateway image: $GW_IMAGE"
else skip "no thingsboard/tb-gateway image on this machine (docker pull $GW_PINNED where a registry is reachable): the gateway's checks do not run"; fi
if [ "$have_grafana" = 1 ]; then services+=(grafana); else log "note: no $GRAFANA_IMAGE image: grafana not started"; fi

# ---- configuration of this run ----------------------------------------------------------------------------------
TOKEN=stacktest-token-$$
CUSTOM_KEY=tank_level
cat >"$W/bridge.env" <<EOF
METER_SIM1=hdlc://simulator:4059?client=16&server=1&interval=2s
METER_SIM2=hdlc://simulator:4060?client=16&server=1&interval=2s&registers=voltage:1.0.32.7.0.255,$CUSTOM_KEY:1.0.31.7.0.255
METER_SIM3=hdlc://simulator-b:4059?client=16&server=1&interval=2s
LOG_LEVEL=info
EOF
printf 'TB_GW_HOST=thingsboard\nTB_GW_PORT=1883\n' >"$W/compose.env"
printf 'GF_SECURITY_ADMIN_PASSWORD=%s\n' "$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 20)" >"$W/grafana.env"
write_override() { # $1 = TB stand-in address, $2 = its port (empty without a gateway)
  cat >"$W/override.yml" <<EOF
services:
  mosquitto:
    ports: !override ["127.0.0.1::1884"]
  bridge:
    env_file: !override [{ path: "$W/bridge.env", required: true }]
    ports: !override ["127.0.0.1::9464"]
  simulator:
    ports: !reset []
  simulator-b:
    image: dlms-bridge:local
    command: ["node", "bin/dlms-bridge.js", "sim", "--port", "4059", "--host", "0.0.0.0", "--seed", "7"]
    healthcheck:
      test: ["CMD-SHELL", "grep -Eqi ':0FDB [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6"]
      interval: 3s
      retries: 10
  prometheus:
    ports: !override ["127.0.0.1::9090"]
  grafana:
$( [ "$have_grafana" = 1 ] || echo '    profiles: ["no-grafana-image-here"]' )
    env_file: !override [{ path: "$W/grafana.env", required: true }]
    ports: !override ["127.0.0.1::3000"]
  tb-gateway:
    image: ${GW_IMAGE:-$GW_PINNED}
    env_file: !reset []
    environment:
      TB_GW_HOST: "${1:-thingsboard}"
      TB_GW_PORT: "${2:-1883}"
      TB_GW_ACCESS_TOKEN: "$TOKEN"
EOF
}
write_override "" ""

log "building the bridge image (docker compose build bridge)"
dc build bridge >"$W/build.log" 2>&1 || { tail -30 "$W/build.log"; bad "docker compose build bridge"; exit 1; }

# ---- ThingsBoard stand-in on the project network's gateway address (only with a gateway) ------------------------
CAP=$W/tb/capture.txt
if [ -n "$GW_IMAGE" ]; then
  dc up --no-start "${services[@]}" >"$W/create.log" 2>&1 || { tail -20 "$W/create.log"; bad "docker compose up --no-start"; exit 1; }
  tb_host=$(docker network inspect "${P}_default" -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}')
  tb_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  standin=${TB_STANDIN:-$REPO/../shared/tools/thingsboard-standin/tb-standin.sh}
  [ -x "$standin" ] || [ -f "$standin" ] || { bad "no ThingsBoard stand-in at $standin (set TB_STANDIN)"; exit 1; }
  bash "$standin" --bind "$tb_host" --port "$tb_port" --token "$TOKEN" --dir "$W/tb" >"$W/standin.out" 2>&1 &
  standin_pid=$!
  for _ in $(seq 50); do grep -q "ThingsBoard stand-in on" "$W/standin.out" && break; sleep 0.2; done
  log "ThingsBoard stand-in on $tb_host:$tb_port (capture: $CAP)"
  write_override "$tb_host" "$tb_port"
fi

# ---- up ---------------------------------------------------------------------------------------------------------
log "docker compose up --wait: ${services[*]}"
if dc up -d --wait --wait-timeout 180 "${services[@]}" >"$W/up.log" 2>&1; then ok "every started service healthy: ${services[*]}"
else
  bad "not every service became healthy"; tail -20 "$W/up.log"; dc ps --all
  for s in "${services[@]}"; do echo "--- $s"; dc logs --no-color --tail 20 "$s" 2>&1; done
  exit 1
fi
MQTT_PORT=$(dc port mosquitto 1884 | sed 's/.*://')
BRIDGE_PORT=$(dc port bridge 9464 | sed 's/.*://')
# Everything published on dlms/# from now on, with the time it arrived.
dc exec -T mosquitto mosquitto_sub -h 127.0.0.1 -p 1884 -i "stacktest-observer" -t 'dlms/#' -v >"$W/dlms.txt" 2>&1 &
observer=$!

# ---- readings in Mosquitto ----------------------------------------------------------------------------------------
# The telemetry payload: {"meter","ts","values":{...}} (docs/contracts.md); a flat payload is read too.
readings_of() { grep "^dlms/$1/telemetry " "$W/dlms.txt" | cut -d' ' -f2-; }
values_of() { node -e 'const l=require("fs").readFileSync(0,"utf8").trim().split("\n").filter(Boolean);for(const t of l){const p=JSON.parse(t);const v=p.values??Object.fromEntries(Object.entries(p).filter(([k])=>k!=="meter"&&k!=="ts"));console.log(p.ts+" "+JSON.stringify(v))}'; }
deadline=$(($(date +%s) + TIMEOUT))
until [ "$(readings_of sim1 | wc -l)" -ge 2 ] && [ "$(readings_of sim2 | wc -l)" -ge 2 ] && [ "$(readings_of sim3 | wc -l)" -ge 2 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || break; sleep 2
done
for m in sim1 sim2 sim3; do
  n=$(readings_of $m | wc -l)
  [ "$n" -ge 2 ] && ok "$m: $n readings in Mosquitto" || bad "$m: $n readings in Mosquitto within ${TIMEOUT}s"
done
if readings_of sim2 | values_of | grep -q "\"$CUSTOM_KEY\":"; then ok "sim2 carries its custom register key $CUSTOM_KEY"
else bad "sim2's readings have no $CUSTOM_KEY: $(readings_of sim2 | head -1)"; fi

# verify as `make verify` runs it, against this project (COMPOSE_PROJECT_NAME/COMPOSE_FILE are exported); $1 = label.
# Exit status must equal its ✘ count, exit 0 only with delivery proven; with a gateway it must prove delivery.
run_verify() {
  node bridge/bin/dlms-bridge.js verify --bridge-url "http://127.0.0.1:$BRIDGE_PORT" --mqtt-url "mqtt://127.0.0.1:$MQTT_PORT" \
    --since-minutes 10 --outbox-sample-seconds 3 >"$W/verify-$1.txt" 2>&1
  verify_rc=$?
  sed 's/^/    /' "$W/verify-$1.txt"
  delivery=$(grep 'gateway delivered readings to ThingsBoard' "$W/verify-$1.txt")
  code7=$(grep 'zero "code 7"' "$W/verify-$1.txt")
  crosses=$(grep -c '^✘' "$W/verify-$1.txt")
  [ "$verify_rc" = "$crosses" ] && ok "verify ($1): exit status $verify_rc = number of ✘ lines" || bad "verify ($1): exit $verify_rc but $crosses ✘ line(s)"
  if [ "$verify_rc" = 0 ] && [[ $delivery != ✔* ]]; then bad "verify exited 0 without proof of delivery: $delivery"; fi
  if [ -n "$GW_IMAGE" ]; then
    [[ $delivery == ✔* ]] && ok "verify proved delivery: ${delivery#* — }" || bad "verify did not prove delivery: $delivery"
    [[ $code7 == ✔* ]] && ok "verify: no code 7 while connected" || bad "verify code-7 check: $code7"
  else
    [[ $delivery == "- "*"skipped: "* ]] && ok "verify: delivery skipped (no gateway), not ✔" || bad "verify delivery line without a gateway: $delivery"
    [[ $code7 == "- "*"skipped: "* ]] && ok "verify: code-7 check skipped (no gateway seen connected), not ✔" || bad "verify code-7 line without a gateway: $code7"
    [ "$verify_rc" != 0 ] && ok "verify exit $verify_rc without a gateway (no proof, no exit 0)" || bad "verify exit 0 without a gateway"
  fi
}

# ---- the gateway's side (ThingsBoard stand-in) -------------------------------------------------------------------
check_gw_telemetry() {
  # Every telemetry entry the gateway sent: "<device> <ts> <values json>".
  gw_lines v1/gateway/telemetry | node -e '
    for (const l of require("fs").readFileSync(0,"utf8").split("\n").filter(Boolean)) {
      for (const [d, entries] of Object.entries(JSON.parse(l))) for (const e of [].concat(entries)) console.log(d, e.ts, JSON.stringify(e.values ?? e));
    }' >"$W/gw-telemetry.txt"
  if [ -s "$W/gw-telemetry.txt" ]; then
    # Entries for readings published since the observer subscribed must carry one of those readings' ts (a
    # gateway that stamps its receive time matches none); older readings (before the observer) are not judged.
    for m in sim1 sim2 sim3; do readings_of $m | values_of | cut -d' ' -f1 | sed "s/^/$m /"; done >"$W/published-ts.txt"
    judged=$(awk 'NR==FNR { if (!($1 in first) || $2 < first[$1]) first[$1] = $2; next }
                  ($1 in first) && $2 >= first[$1] { print $1, $2 }' "$W/published-ts.txt" "$W/gw-telemetry.txt")
    unmatched=$(grep -vxF -f "$W/published-ts.txt" <<<"$judged" | head -3)
    n_judged=$(grep -c . <<<"$judged")
    if [ "$n_judged" -lt 3 ]; then bad "only $n_judged telemetry entries at ThingsBoard to compare with the published readings"
    elif [ -z "$unmatched" ]; then ok "all $n_judged telemetry entries at ThingsBoard carry a published reading's own ts"
    else bad "telemetry at ThingsBoard with a ts no published reading had (the gateway's receive time?): $unmatched"; fi
    grep -E '^sim[0-9]+ ' "$W/gw-telemetry.txt" | grep -qE '"(meter|ts)":' \
      && bad "meter/ts sent as telemetry keys: $(grep -E '"(meter|ts)":' "$W/gw-telemetry.txt" | head -1)" \
      || ok "no meter/ts telemetry keys"
    grep -q "^sim2 .*\"$CUSTOM_KEY\":" "$W/gw-telemetry.txt" && ok "custom key $CUSTOM_KEY reached ThingsBoard" \
      || bad "custom key $CUSTOM_KEY did not reach ThingsBoard"
  else bad "no v1/gateway/telemetry at the ThingsBoard stand-in within ${TIMEOUT}s"; fi
}
gw_lines() { grep "^[0-9.]* $1 " "$CAP" 2>/dev/null | cut -d' ' -f3-; }
if [ -n "$GW_IMAGE" ]; then
  deadline=$(($(date +%s) + TIMEOUT))
  until gw_lines v1/gateway/telemetry | grep -q '"sim2"' && gw_lines v1/gateway/telemetry | grep -q '"sim1"'; do
    [ "$(date +%s)" -lt "$deadline" ] || break; sleep 2
  done
  for m in sim1 sim2 sim3; do
    gw_lines v1/gateway/connect | grep -q "\"device\": *\"$m\"" && ok "v1/gateway/connect for $m" || bad "no v1/gateway/connect for $m"
  done
  # verify needs a statistics report (every 60 s) with telemetry acknowledged by ThingsBoard; every meter is up.
  deadline=$(($(date +%s) + 150))
  until dc logs --no-color tb-gateway 2>/dev/null | grep 'Collected regular statistics' | grep -q "'platformTsProduced': [1-9]"; do
    [ "$(date +%s)" -lt "$deadline" ] || break; sleep 5
  done
  run_verify all-up
  [ "$verify_rc" = 0 ] && ok "verify exit 0 with every meter up and delivery proven" || bad "verify exit $verify_rc with every meter up"

  # sim3 goes offline: its simulator stops. The gateway must disconnect it and keep it disconnected across its own
  # restart (a graceful one: SIGINT makes it send a disconnect for every connected device).
  dc stop -t 5 simulator-b >/dev/null 2>&1
  deadline=$(($(date +%s) + TIMEOUT))
  until gw_lines v1/gateway/disconnect | grep -q '"sim3"'; do [ "$(date +%s)" -lt "$deadline" ] || break; sleep 2; done
  gw_lines v1/gateway/disconnect | grep -q '"sim3"' && ok "sim3 offline: v1/gateway/disconnect" || bad "sim3 offline but no v1/gateway/disconnect"
  sleep 5
  mark=$(wc -l <"$CAP")
  dc restart -t 30 tb-gateway >/dev/null 2>&1
  tail -n +"$((mark + 1))" "$CAP" | grep ' v1/gateway/disconnect ' | grep -q '"sim1"' \
    && ok "gateway stopped cleanly on restart (SIGINT reached it: disconnect sent for sim1)" \
    || bad "no disconnect for sim1 on restart: the gateway did not get SIGINT"
  deadline=$(($(date +%s) + TIMEOUT))
  until tail -n +"$((mark + 1))" "$CAP" | grep ' v1/gateway/telemetry ' | grep -q '"sim1"'; do [ "$(date +%s)" -lt "$deadline" ] || break; sleep 2; done
  sleep 10
  after=$(tail -n +"$((mark + 1))" "$CAP")
  grep ' v1/gateway/telemetry ' <<<"$after" | grep -q '"sim1"' && ok "gateway back after restart (sim1 telemetry)" || bad "no sim1 telemetry after the gateway restart"
  back=$(grep -E ' v1/gateway/(connect|telemetry|attributes) ' <<<"$after" | grep '"sim3"' | head -2 | cut -c1-200)
  [ -z "$back" ] && ok "offline sim3 stayed disconnected across the gateway restart" \
    || bad "offline sim3 came back after the gateway restart: $back"
  # ...and ThingsBoard still shows it offline: the last status attribute it got for sim3.
  last_status=$(gw_lines v1/gateway/attributes | grep '^{"sim3":' | grep -o '"status": *"[a-z]*"' | tail -1)
  [[ $last_status == *'"offline"' ]] && ok "sim3's last status at ThingsBoard: offline" \
    || bad "sim3's last status at ThingsBoard: ${last_status:-none}"
  check_gw_telemetry
else
  skip "gateway checks (connect per meter, readings' own ts at ThingsBoard, custom key, no meter/ts keys, SIGINT on restart, offline meter across a gateway restart): no gateway image"
  log "        (replayed without Docker: bridge/test/stack/tb-gateway-start.test.ts, bridge/test/stack/gateway*.test.ts)"
  run_verify no-gateway
fi

kill "$observer" 2>/dev/null

# ---- the tracked gateway config is untouched ------------------------------------------------------------------------
[ -n "$GW_IMAGE" ] && dc stop -t 30 tb-gateway >/dev/null 2>&1
after_status=$(git status --porcelain --untracked-files=all -- tb-gateway/config)
if [ "$after_status" = "$git_status_before" ]; then
  ok "tb-gateway/config unchanged by the run (git status: ${after_status:-clean})"
else bad "tb-gateway/config changed by the run: $after_status"; fi

log "$pass passed, $fail failed, $skips skipped"
[ "$fail" = 0 ]
