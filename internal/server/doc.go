// Package server composes a Tidings node from its parts (engine, registries,
// channel, HTTP API) and runs it: listening, the demo setup, and graceful
// shutdown. cmd/tidings and the end-to-end tests both build nodes here, so
// tests exercise exactly the wiring users run.
package server
