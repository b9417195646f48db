# Everyday commands. `make` alone lists them.
# Containers use `docker compose` (the service is `api`, port 8000, SQLite on the volume at /data).

COMPOSE ?= docker compose
BASE_URL ?= http://127.0.0.1:8000

.DEFAULT_GOAL := help
.PHONY: help up down logs ps test run build bench smoke check-metrics docs-screenshot lint typecheck

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## build the image and start the service in the background (needs WEBHOOK_SECRET)
	$(COMPOSE) up -d --build

down: ## stop the service and delete its volume (the database)
	$(COMPOSE) down -v

logs: ## follow the service's log lines, JSON only (make logs | jq ...)
	@$(COMPOSE) logs -f --no-log-prefix api | grep --line-buffered -v '^Attaching to '

ps: ## show the container and its health
	$(COMPOSE) ps

# npm ci runs again only when the lockfile changed since the last install
node_modules: package.json package-lock.json
	npm ci
	@touch node_modules

build: node_modules ## compile TypeScript to dist/
	npm run build

test: node_modules ## run every test (builds first)
	npm test

lint: node_modules ## Biome
	npm run lint

typecheck: node_modules ## tsc over src, test and scripts
	npm run typecheck

run: build ## run locally on SQLite (./data/app.db unless DATABASE_URL says otherwise)
	node dist/server.js

bench: node_modules ## the load benchmark
	npm run bench

smoke: ## replay the evaluation flow against BASE_URL (default http://127.0.0.1:8000)
	@test -n "$$WEBHOOK_SECRET" || { echo 'make smoke: set WEBHOOK_SECRET to the service'"'"'s secret' >&2; exit 2; }
	bash scripts/smoke.sh $(BASE_URL) "$$WEBHOOK_SECRET"

check-metrics: build ## promtool check metrics on a freshly started local server
	bash scripts/check-metrics.sh

docs-screenshot: build ## screenshot of the API docs page to /tmp/docs.png
	bash scripts/docs-screenshot.sh "" /tmp/docs.png
