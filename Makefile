# The README's commands. `make test` is what CI runs.
.PHONY: run test bench

run:
	go run ./cmd/tidings serve --demo

# The browser suite runs on its own with -v, so the log shows it ran (with
# which Chromium) rather than skipped.
test:
	go vet ./...
	go test -race -count=1 -timeout 20m -skip '^TestBrowser$$' ./...
	go test -race -count=1 -timeout 5m -run '^TestBrowser$$' -v ./e2e/

# Micro-benchmarks of the hot paths; not part of CI's timing.
bench:
	go test -run='^$$' -bench=. -benchmem ./...

# Load tool scenarios (docs/loadtool.md). Each builds and starts its own
# server pinned to CPU 0, runs the tool on CPU 1, prints a table on stderr
# and one JSON line on stdout.
BENCH = go run ./cmd/tidings-bench --spawn --pin
.PHONY: bench-smoke bench-A bench-B20 bench-B100 bench-C bench-D bench-E

bench-smoke:
	$(BENCH) --scenario smoke
bench-A:
	$(BENCH) --scenario A
bench-B20:
	$(BENCH) --scenario B20
bench-B100:
	$(BENCH) --scenario B100
bench-C:
	$(BENCH) --scenario C
bench-D:
	$(BENCH) --scenario D
bench-E:
	$(BENCH) --scenario E1
	$(BENCH) --scenario E1000
	$(BENCH) --scenario E1-sync
	$(BENCH) --scenario E1000-sync
