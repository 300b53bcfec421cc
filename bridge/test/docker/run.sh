#!/usr/bin/env bash
# `make test-docker`: build the bridge image and check that readings of the simulated meter reach Mosquitto, with
# the real images and the repository's mosquitto.conf. The containers run on private Docker networks of this run;
# the host reaches them only through ports Docker picks (free ones) on 127.0.0.1, and before trusting a port the
# script proves that the broker behind it is its own (a nonce published inside the container is read back through
# it). Skips (exit 0, with a message) when no Docker engine is reachable.
#
#   IMAGE=dlms-bridge:test      image tag to build
#   MOSQUITTO_IMAGE=...         broker image (default: the one docker-compose.yml pins)
#   TIMEOUT=90                  seconds to wait for the first reading
#   KEEP=1                      leave the containers running for inspection
set -euo pipefail
cd "$(dirname "$0")/../../.."

IMAGE=${IMAGE:-dlms-bridge:test}
MOSQUITTO_IMAGE=${MOSQUITTO_IMAGE:-$(sed -n 's/^ *image: \(eclipse-mosquitto:[^ ]*\)$/\1/p' docker-compose.yml | head -1)}
TIMEOUT=${TIMEOUT:-90}
PREFIX=dlms-test-$$
NONCE=$PREFIX-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')

log() { printf '[test-docker] %s\n' "$*"; }

if ! command -v docker >/dev/null 2>&1; then
  log "SKIP: no docker client on PATH"
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  log "SKIP: no Docker engine reachable (docker info failed); start dockerd and re-run"
  exit 0
fi

containers=()
networks=()
tmp=$(mktemp -d)
cleanup() {
  local rc=$?
  if [ "${KEEP:-0}" != "1" ]; then
    for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
    for n in "${networks[@]}"; do docker network rm "$n" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# host_port CONTAINER PORT: the 127.0.0.1 port Docker picked for a `-p 127.0.0.1::PORT` publication.
host_port() { docker port "$1" "$2/tcp" | sed -n 's/^127\.0\.0\.1:\([0-9]*\)$/\1/p' | head -1; }
# own_broker CONTAINER PORT: the broker answering on 127.0.0.1:PORT is the one in CONTAINER (not another process's).
own_broker() {
  local c=$1 port=$2 got
  for _ in $(seq 1 20); do
    docker exec "$c" mosquitto_pub -h 127.0.0.1 -p 1884 -q 1 -r -t "dlms-test/owner" -m "$NONCE" >/dev/null 2>&1 && break
    sleep 0.5
  done
  got=$(MQTT_PORT=$port sub -t dlms-test/owner -C 1 -W 5 2>/dev/null || true)
  [ "$got" = "$NONCE" ] || { log "FAIL: 127.0.0.1:$port is not this run's broker (read '${got:-nothing}', expected $NONCE)"; exit 1; }
  log "127.0.0.1:$port is this run's broker ($c)"
}
# mosquitto_sub against 127.0.0.1:$MQTT_PORT from the host when it has one, else from the broker container itself
# (on its own loopback, port 1884).
sub() {
  if command -v mosquitto_sub >/dev/null 2>&1; then mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" "$@"
  else docker exec "$MQTT_CONTAINER" mosquitto_sub -h 127.0.0.1 -p 1884 "$@"; fi
}

log "building $IMAGE from bridge/Dockerfile (context: repository root)"
start=$(date +%s)
docker build -f bridge/Dockerfile -t "$IMAGE" . >"$tmp/build.log" 2>&1 || { tail -50 "$tmp/build.log"; exit 1; }
log "built in $(( $(date +%s) - start )) s; image size: $(docker image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.1f MB", $1/1e6}')"

# The image must run as a non-root user, with tini as PID 1.
user=$(docker image inspect "$IMAGE" --format '{{.Config.User}}')
[ -n "$user" ] && [ "$user" != "root" ] && [ "$user" != "0" ] || { log "FAIL: image runs as root"; exit 1; }
docker image inspect "$IMAGE" --format '{{json .Config.Entrypoint}}' | grep -q tini || { log "FAIL: no tini entrypoint"; exit 1; }

# Mosquitto with the repository's configuration (listener 1884) and a throwaway data directory, the simulator and
# the bridge, on a network of their own; the broker is published on a free 127.0.0.1 port.
NET1=$PREFIX-net1
docker network create "$NET1" >/dev/null; networks+=("$NET1")
HTTP_PORT=9464
containers+=("$PREFIX-mosquitto")
docker run -d --name "$PREFIX-mosquitto" --network "$NET1" --network-alias mosquitto -p 127.0.0.1::1884 \
  -v "$PWD/mosquitto/config/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro" "$MOSQUITTO_IMAGE" >/dev/null
MQTT_CONTAINER=$PREFIX-mosquitto
MQTT_PORT=$(host_port "$PREFIX-mosquitto" 1884)
[ -n "$MQTT_PORT" ] || { log "FAIL: Docker published no port for the broker"; exit 1; }
own_broker "$PREFIX-mosquitto" "$MQTT_PORT"

containers+=("$PREFIX-sim")
docker run -d --name "$PREFIX-sim" --network "$NET1" --network-alias sim "$IMAGE" \
  node bin/dlms-bridge.js sim --port 4059 --host 0.0.0.0 >/dev/null

# The bridge runs under the compose file's memory limit: Node sizes V8's old generation from it (half of it), which
# keeps V8's heap growing factor low (BENCHMARKS.md, "Sixth round"); checked below.
BRIDGE_MEM=$(awk '/^  bridge:/{b=1;next} b&&/^  [a-z]/{exit} b&&/mem_limit:/{print $2;exit}' docker-compose.yml)
[ -n "$BRIDGE_MEM" ] || { log "FAIL: no mem_limit for the bridge service in docker-compose.yml"; exit 1; }
containers+=("$PREFIX-bridge")
docker run -d --name "$PREFIX-bridge" --network "$NET1" --memory "$BRIDGE_MEM" \
  -e "METER_SIM1=hdlc://sim:4059?client=16&server=1&interval=2s" \
  -e "MQTT_URL=mqtt://mosquitto:1884" -e "MQTT_CLIENT_ID=$PREFIX-bridge" \
  -e "HTTP_PORT=$HTTP_PORT" -e "LOG_LEVEL=info" "$IMAGE" >/dev/null
log "waiting up to ${TIMEOUT}s for a reading on dlms/sim1/telemetry"
if ! reading=$(sub -q 1 -t dlms/sim1/telemetry -C 1 -W "$TIMEOUT" 2>&1); then
  log "FAIL: no reading within ${TIMEOUT}s ($reading)"
  for c in "${containers[@]}"; do echo "--- $c"; docker logs --tail 40 "$c" 2>&1; done
  exit 1
fi
log "reading: $reading"
echo "$reading" | grep -q '"meter":"sim1"' || { log "FAIL: reading is not from sim1"; exit 1; }
echo "$reading" | grep -q '"ts":' || { log "FAIL: reading has no ts"; exit 1; }

status=$(sub -t dlms/sim1/status -C 1 -W 10 2>&1 || true)
log "status (retained): ${status:-<none>}"

# The image's HEALTHCHECK command, run by hand (the engine runs it every 15 s).
docker exec -e HTTP_PORT="$HTTP_PORT" "$PREFIX-bridge" node -e \
  "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" \
  || { log "FAIL: /healthz not ok"; docker logs --tail 40 "$PREFIX-bridge"; exit 1; }
metrics=$(docker exec -e HTTP_PORT="$HTTP_PORT" "$PREFIX-bridge" node -e \
  "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/metrics').then(r=>r.text()).then(t=>console.log(t))")
echo "$metrics" | grep -E '^dlms_bridge_meter_up\{meter="sim1"\} 1$' >/dev/null \
  || { log "FAIL: dlms_bridge_meter_up{meter=\"sim1\"} is not 1"; echo "$metrics" | grep meter_up; exit 1; }

log "bridge image: readings delivered"

# The image's memory settings reach the running bridge process: the young-generation cap
# (NODE_OPTIONS=--max-semi-space-size=8) is in its environment and takes effect (under an allocation loop that makes
# V8 grow its new space, Node 24 uncapped reaches 128 MB, capped 16 MB), and jemalloc is its C allocator.
proc=$(docker exec "$PREFIX-bridge" node -e "
const fs = require('fs');
for (const d of fs.readdirSync('/proc')) {
  if (!/^[0-9]+$/.test(d) || d === String(process.pid)) continue;
  let cmd = '';
  try { cmd = fs.readFileSync('/proc/' + d + '/cmdline', 'utf8'); } catch { continue; }
  if (!cmd.includes('dlms-bridge.js')) continue;
  const env = fs.readFileSync('/proc/' + d + '/environ', 'utf8').split(String.fromCharCode(0));
  const opts = (env.find((l) => l.startsWith('NODE_OPTIONS=')) ?? '').slice(13);
  const jemalloc = fs.readFileSync('/proc/' + d + '/maps', 'utf8').includes('libjemalloc');
  console.log(opts + ' jemalloc=' + jemalloc);
  break;
}" 2>/dev/null || true)
[ "$proc" = "--max-semi-space-size=8 jemalloc=true" ] || { log "FAIL: the bridge process has '$proc', expected NODE_OPTIONS=--max-semi-space-size=8 and jemalloc loaded"; exit 1; }
# The loop's largest new space: 16 MB in most runs, but V8 overshoots the cap for a moment now and then (20 and 30 MB
# seen, on the host too); uncapped it reaches 128 MB, so the bound sits between. The exact check of the cap is the
# heap limit below.
new_space=$(docker exec "$PREFIX-bridge" node -e "const v8=require('v8');let k=[],m=0;for(let i=0;i<8e6;i++){k.push({a:i,b:[i]});if(k.length>1e6)k=k.slice(5e5);if(i%1e4===0){const s=v8.getHeapSpaceStatistics().find(x=>x.space_name==='new_space').space_size;if(s>m)m=s}}console.log(m/2**20)")
[ "${new_space%.*}" -lt 64 ] || { log "FAIL: V8's new space grew to $new_space MB in the image (cap 16 MB, uncapped 128 MB)"; exit 1; }
log "bridge process: NODE_OPTIONS and allocator '$proc'; new space at most $new_space MB under an allocation loop"
# V8's heap limit follows the container's memory limit (Node reads the cgroup's memory.max): 768m gives a 384 MB old
# generation (heap limit 408 MB with the young generation) against ≈ 4 GB on a host with 24 GB. A limit from the
# cgroup is what keeps V8's garbage headroom near 1.35 x the live heap instead of up to 4 x.
mem_bytes=$(numfmt --from=iec "$(echo "$BRIDGE_MEM" | tr 'a-z' 'A-Z' | sed 's/B$//')")
heap_limit=$(docker exec "$PREFIX-bridge" node -e "console.log(Math.round(require('v8').getHeapStatistics().heap_size_limit/2**20))")
cgroup_max=$(docker exec "$PREFIX-bridge" cat /sys/fs/cgroup/memory.max 2>/dev/null || docker exec "$PREFIX-bridge" cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
[ "$cgroup_max" = "$mem_bytes" ] || { log "FAIL: the bridge container's memory limit is '$cgroup_max', expected $mem_bytes ($BRIDGE_MEM)"; exit 1; }
# Exactly: old generation = half the memory limit, young generation = 3 x the 8 MB semi-space (two semi-spaces and
# the new large-object space): 384 + 24 = 408 MB for 768m. Uncapped it would be 384 + 48; without the limit ≈ 4 GB.
expected_limit=$(( mem_bytes / 2**20 / 2 + 3 * 8 ))
[ "$heap_limit" -eq "$expected_limit" ] \
  || { log "FAIL: V8's heap limit in the bridge container is $heap_limit MB, expected $expected_limit (half of $BRIDGE_MEM + 3 x the 8 MB semi-space)"; exit 1; }
log "bridge container: memory limit $BRIDGE_MEM, V8 heap limit $heap_limit MB"

# ---- The compose wiring without Compose: the services on a private network under their compose names, with the
# repository's unmodified configs (mosquitto.conf on 1884, .env.example's METER_SIM1=hdlc://simulator:4059,
# prometheus.yml scraping bridge:9464). Only this script's containers are on that network; checks go through
# ports published on 127.0.0.1.
for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
containers=()
NET=$PREFIX-net
docker network create "$NET" >/dev/null; networks+=("$NET")
PROMETHEUS_IMAGE=${PROMETHEUS_IMAGE:-$(sed -n 's/^ *image: \(prom\/prometheus:[^ ]*\)$/\1/p' docker-compose.yml | head -1)}
run_as() { # name image [docker run options...] -- [command...]
  local name=$1 image=$2; shift 2
  local opts=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done; [ $# -gt 0 ] && shift
  containers+=("$PREFIX-s-$name")
  docker run -d --name "$PREFIX-s-$name" --network "$NET" --network-alias "$name" "${opts[@]}" "$image" "$@" >/dev/null
}
run_as mosquitto "$MOSQUITTO_IMAGE" -v "$PWD/mosquitto/config/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro" \
  -p 127.0.0.1::1884
MQTT_CONTAINER=$PREFIX-s-mosquitto
MQTT_PORT=$(host_port "$MQTT_CONTAINER" 1884)
own_broker "$MQTT_CONTAINER" "$MQTT_PORT"
run_as simulator "$IMAGE" -- node bin/dlms-bridge.js sim --port 4059 --host 0.0.0.0
grep -E '^(METER_|LOG_LEVEL)' .env.example >"$tmp/bridge.env"
run_as bridge "$IMAGE" --env-file "$tmp/bridge.env" -e MQTT_URL=mqtt://mosquitto:1884 -e MQTT_CLIENT_ID=dlms-bridge \
  -e DB_PATH=/data/bridge.db -e HTTP_PORT=9464
run_as prometheus "$PROMETHEUS_IMAGE" -v "$PWD/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" \
  -v "$PWD/prometheus/rules:/etc/prometheus/rules:ro" -p 127.0.0.1::9090 -- \
  --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus
PROM_PORT=$(host_port "$PREFIX-s-prometheus" 9090)

docker exec "$PREFIX-s-prometheus" promtool check config /etc/prometheus/prometheus.yml >"$tmp/promtool.log" 2>&1 \
  || { cat "$tmp/promtool.log"; log "FAIL: promtool rejects prometheus.yml or its rules"; exit 1; }
log "promtool: prometheus.yml and rules valid"

log "waiting up to ${TIMEOUT}s for sim1 (from .env.example) on dlms/sim1/telemetry via the compose names"
if ! reading=$(sub -q 1 -t dlms/sim1/telemetry -C 1 -W "$TIMEOUT" 2>&1); then
  log "FAIL: no reading within ${TIMEOUT}s ($reading)"
  for c in "${containers[@]}"; do echo "--- $c"; docker logs --tail 40 "$c" 2>&1; done
  exit 1
fi
log "reading: $reading"

# Prometheus scrapes bridge:9464 and sees the meter up (the scrape interval is 15 s).
deadline=$(( $(date +%s) + TIMEOUT ))
until curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/query?query=dlms_bridge_meter_up%7Bmeter%3D%22sim1%22%7D" 2>/dev/null \
  | grep -q '"value":\[[0-9.]*,"1"\]'; do
  [ "$(date +%s)" -lt "$deadline" ] || {
    log "FAIL: Prometheus has no dlms_bridge_meter_up{meter=\"sim1\"} = 1"
    curl -sS "http://127.0.0.1:$PROM_PORT/api/v1/targets" | head -c 2000; echo
    exit 1
  }
  sleep 3
done
log "Prometheus scrapes the bridge: dlms_bridge_meter_up{meter=\"sim1\"} = 1"
python3 bridge/test/docker/dashboard-queries.py "http://127.0.0.1:$PROM_PORT" grafana/dashboards/dlms-bridge.json \
  || { log "FAIL: the Grafana dashboard has PromQL that Prometheus rejects"; exit 1; }
log "3 passed, 0 failed"
