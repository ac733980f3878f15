// Package loadgen is Tidings' load generator: it drives a running server over
// the wire protocol only (raw HTTP/1.1 SSE subscribers, HTTP publishers, the
// /v1 management API for setup) and measures what a deployment cares about:
// loss, duplicates and reordering per subscriber, delivery latency, the
// server's CPU and memory per delivery and per connection, and its own cost.
//
// A run is: set up streams and a widget, connect every subscriber (spread over
// loopback source addresses, and over worker processes above a per-process
// limit), publish at a rate for a warm-up and a measured window, wait
// (bounded) for the last deliveries, then merge the counts of every process
// into one [Result]. Targets are refused unless they are loopback addresses.
//
// The subscriber read path is the hot path: one reusable buffer per
// connection, in-place chunked decoding, byte scanning for the sequence
// number and send time, a bitset per subscriber and atomic histogram buckets.
// It allocates nothing per event. The package is Linux only (epoll, /proc,
// taskset).
package loadgen
