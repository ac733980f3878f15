// Package channel owns the real-time channel of a live stream, as the
// Real-Time Widget API defines it: who may subscribe and publish, what each
// message type does, and how stored messages reach subscribers on every
// node. It composes the stream and widget registries, the engine's message
// log, this node's hub and cluster-wide presence.
package channel
