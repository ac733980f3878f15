# The README's commands. `make test` is what CI runs.
.PHONY: run test bench

run:
	go run ./cmd/tidings serve --demo

test:
	go vet ./...
	go test -race -count=1 -timeout 20m ./...

# Micro-benchmarks of the hot paths; not part of CI's timing.
bench:
	go test -run='^$$' -bench=. -benchmem ./...
