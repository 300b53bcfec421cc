# DLMS/COSEM → MQTT → ThingsBoard gateway stack. `make up` runs it, `make test` tests it.
SHELL := /bin/bash
# docker-compose.yml needs Compose v2.24+ (`name`, long `env_file` syntax, `depends_on.required`, `up --wait`); the
# Python docker-compose v1 rejects it. Checked once, before anything runs, when a goal needs Compose.
COMPOSE := docker compose
COMPOSE_MIN := 2.24.0
COMPOSE_TARGETS := up down logs ps test-stack
ifneq ($(filter $(COMPOSE_TARGETS),$(MAKECMDGOALS)),)
COMPOSE_PROBLEM := $(shell \
  v=$$(docker compose version --short 2>/dev/null | sed 's/^v//'); \
  if [ -z "$$v" ]; then \
    v1=$$(docker-compose version --short 2>/dev/null); \
    if [ -n "$$v1" ]; then echo "docker-compose $$v1 (v1, which cannot read this file)"; else echo "no 'docker compose' plugin"; fi; \
  elif [ "$$(printf '%s\n' '$(COMPOSE_MIN)' "$$v" | sort -V | head -1)" != '$(COMPOSE_MIN)' ]; then echo "Docker Compose v$$v"; fi)
ifneq ($(COMPOSE_PROBLEM),)
$(error docker-compose.yml needs Docker Compose v$(COMPOSE_MIN) or later ('docker compose'); found: $(COMPOSE_PROBLEM))
endif
endif
NPM_STAMP := node_modules/.install-stamp

.PHONY: help setup build lint typecheck test test-unit test-docker test-stack bench up down logs ps verify sim read env clean

help:
	@echo "make up | down | logs | ps | verify | sim | read METER=<id> | test | test-docker | test-stack | bench | build"

# Install npm dependencies exactly as locked (re-run when the lockfile changes).
$(NPM_STAMP): package-lock.json package.json bridge/package.json
	npm ci --no-audit --no-fund
	@touch $@

setup: $(NPM_STAMP) build

build: $(NPM_STAMP)
	npm run -w bridge build

lint: $(NPM_STAMP)
	npm run -w bridge lint

typecheck: $(NPM_STAMP)
	npm run -w bridge typecheck

# Lint, typecheck, build (so `npx dlms-bridge` works afterwards) and every test. Needs the `mosquitto` binary.
test: $(NPM_STAMP)
	@command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || { echo "make test: the integration tests need a real broker: apt-get install -y mosquitto mosquitto-clients"; exit 1; }
	npm run -w bridge lint
	npm run -w bridge typecheck
	npm run -w bridge build
	npm run -w bridge test

test-docker: $(NPM_STAMP)
	bash bridge/test/docker/run.sh

# docker-compose.yml run by Compose end to end (own project, free ports, the ThingsBoard stand-in of
# ../shared/tools/thingsboard-standin); the gateway's checks are skipped, with the reason, without a tb-gateway image.
test-stack: build
	bash bridge/test/stack/run-stack.sh

# Benchmarks (results and method in BENCHMARKS.md); not part of `make test`. run-all: a short version of every
# issue-9 benchmark (< 5 min, one table); each bench/*.ts script takes env vars for its long version
# (bench/poller-scale.ts and bench/bridge-e2e.ts run on their own).
# Short defaults below keep the whole target under 5 minutes; the same env vars override them for the long run
# (e.g. `make bench BACKFILL_DAYS=366 BACKFILL_RUNS=3`).
BACKFILL_DAYS ?= 31
BACKFILL_RUNS ?= 1
bench: build
	node --import tsx bench/run-all.ts
	DAYS=$(BACKFILL_DAYS) RUNS=$(BACKFILL_RUNS) node --expose-gc --import tsx bench/profile-backfill.ts
	RUNS=1 node --import tsx bench/ciphered-get.ts

# Fuzzing (method in bridge/test/fuzz/run.ts): >= 1,000,000 mutated inputs over every decoder; not in `make test`,
# which runs a short pass. Crashing inputs are saved to bridge/test/fuzz/regressions/ and replayed by `make test`.
.PHONY: fuzz
fuzz: $(NPM_STAMP)
	cd bridge && node --import tsx test/fuzz/run.ts --total $${FUZZ_INPUTS:-1000000}

# Chaos (method and results in RELIABILITY.md): 100 simulated meters (10 % faulty), broker restarts, bridge SIGKILLs
# and SIGTERMs, a full disk (a tmpfs: needs root, else those events are skipped and said so); counts every reading
# at a Mosquitto subscriber. A few minutes; CHAOS_SECONDS, CHAOS_METERS, ... for longer runs. Not in `make test`.
.PHONY: chaos
chaos: build
	node --import tsx bench/chaos.ts

# .env from .env.example, and grafana/grafana.env with a random admin password (taken over from an older .env's
# GRAFANA_ADMIN_PASSWORD when there is one). Existing files are never touched.
env:
	@test -f .env || { cp .env.example .env && echo "created .env from .env.example"; }
	@test -f grafana/grafana.env || { \
	  pw=$$(sed -n 's/^GRAFANA_ADMIN_PASSWORD=//p' .env | tail -1); \
	  case "$$pw" in ""|change-me-not-admin|admin) pw=$$(LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24);; esac; \
	  (umask 077; printf '# Grafana admin password (user admin), read by the grafana service only. Git-ignored.\nGF_SECURITY_ADMIN_PASSWORD=%s\n' "$$pw" >grafana/grafana.env); \
	  echo "created grafana/grafana.env (Grafana admin password; user admin)"; }
	@! grep -q '^GRAFANA_ADMIN_PASSWORD=' .env || echo "note: GRAFANA_ADMIN_PASSWORD in .env is no longer used (the bridge would see it): delete that line; the password is in grafana/grafana.env"

# Starts the stack and waits until every service is healthy; when one is not, prints its last log lines (for the
# bridge: the list of configuration errors) and fails.
UP_WAIT_TIMEOUT ?= 240
up: env
	@$(COMPOSE) up -d --build --wait --wait-timeout $(UP_WAIT_TIMEOUT) || { \
	  echo; echo "make up: not every service became healthy within $(UP_WAIT_TIMEOUT) s:"; \
	  $(COMPOSE) ps --all --format '{{.Service}}\t{{.State}}\t{{.Health}}\t{{.Status}}'; \
	  for s in $$($(COMPOSE) ps --all --format '{{.Service}} {{.State}} {{.Health}}' | awk '$$2 != "running" || ($$3 != "" && $$3 != "healthy") {print $$1}'); do \
	    echo; echo "--- last log lines of $$s:"; $(COMPOSE) logs --no-color --no-log-prefix --tail 25 "$$s" 2>&1 | sed "s/\x1b\[[0-9;]*[A-Za-z]//g"; \
	  done; exit 1; }
	@echo "Grafana:    http://localhost:3000  (admin / password in grafana/grafana.env)"
	@echo "Prometheus: http://localhost:9090"
	@echo "Bridge:     http://localhost:9464/metrics  /api/meters"
	@echo "Logs:       docker compose logs -f bridge tb-gateway"

down:
	$(COMPOSE) down

logs:
	$(COMPOSE) logs -f --tail=200

ps:
	$(COMPOSE) ps

# Architecture check (✔/✘ per check, exit status = failures). From the host when Node is there (it can also see
# compose health and the gateway's log); otherwise from inside the bridge container (those two are skipped).
verify:
	@if command -v node >/dev/null 2>&1; then \
	  $(MAKE) -s build && npx dlms-bridge verify; \
	else \
	  $(COMPOSE) exec -T bridge node bin/dlms-bridge.js verify --no-compose --mqtt-url mqtt://mosquitto:1884; \
	fi

sim: build
	npx dlms-bridge sim

# One-shot read of METER_<ID> from .env with a frame trace: inside the running bridge container (same network as
# the stack, e.g. the `simulator` host name), else locally.
read:
	@test -n "$(METER)" || { echo "usage: make read METER=<id>   (a METER_<ID> line in .env)"; exit 2; }
	@# While the bridge runs it holds the meter's only association: read through it (POST /api/meters/<id>/read,
	@# between polls, inside the container on its loopback). Otherwise a direct association with a frame trace.
	@if $(COMPOSE) ps --status running --services 2>/dev/null | grep -qx bridge; then \
	  echo "the bridge is running: reading $(METER) through it (its association, between polls)"; \
	  $(COMPOSE) exec -T bridge node bin/dlms-bridge.js read --meter "$(METER)" --via-bridge $(if $(OBIS),$(foreach o,$(OBIS),--obis $(o))); \
	else \
	  $(MAKE) -s build && npx dlms-bridge read --meter "$(METER)" --env .env --trace $(if $(OBIS),$(foreach o,$(OBIS),--obis $(o))); \
	fi

clean:
	rm -rf bridge/dist node_modules
