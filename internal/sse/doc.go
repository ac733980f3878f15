// Package sse owns writing Server-Sent Events to many connections cheaply.
//
// net/http serves each SSE stream from a handler goroutine that holds the
// connection's buffers and wakes for every batch: about 26 KiB and a
// goroutine switch per write. Instead, once the response headers are known
// the connection is hijacked and attached to a Server: a few writer
// goroutines drain whichever subscribers are ready, coalescing everything
// queued for one connection into a single non-blocking write. A connection
// costs a small struct, its subscriber's mailbox and one parked reader
// goroutine that notices when the client goes away.
//
// A connection whose socket is full gets a goroutine of its own that waits
// for it (bounded by the write timeout), so one slow client never holds up
// a writer.
package sse
