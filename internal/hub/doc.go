// Package hub owns local fan-out: the subscribers connected to this node,
// grouped by stream, and the delivery of events to them.
//
// Each event is encoded once as SSE bytes and shared by every recipient;
// each subscriber has a bounded queue that its connection drains, coalescing
// whatever has piled up into one write. A subscriber whose queue overflows is
// disconnected with a reason instead of slowing the others or growing memory.
//
// The hub also tracks the position of the node's engine tail, so a joining
// subscriber learns exactly which sequence its live feed starts after: the
// basis of gapless, duplicate-free resume.
package hub
