package hub

import (
	"sync"
	"sync/atomic"
)

// Hub holds this node's subscribers by stream.
type Hub struct {
	mu      sync.RWMutex // guards rooms; held exclusively to create or drop a room
	rooms   map[int64]*room
	tailSeq atomic.Uint64 // last engine sequence delivered (see Join)

	// OnCount, if set, is called with a stream's new local subscriber count
	// after every join and leave. It must not block.
	OnCount func(stream int64, local int)
}

type room struct {
	mu    sync.Mutex
	subs  map[*Subscriber]struct{}
	users map[string][]*Subscriber
}

// New returns an empty hub whose tail starts after sequence tailSeq.
func New(tailSeq uint64) *Hub {
	h := &Hub{rooms: make(map[int64]*room)}
	h.tailSeq.Store(tailSeq)
	return h
}

// Join adds s and returns the stream's local count and the engine sequence
// after which s receives every event live. Events up to and including that
// sequence were delivered before s joined; resume replays them from storage.
func (h *Hub) Join(s *Subscriber) (local int, after uint64) {
	h.mu.Lock()
	r := h.rooms[s.Stream]
	if r == nil {
		r = &room{subs: make(map[*Subscriber]struct{}), users: make(map[string][]*Subscriber)}
		h.rooms[s.Stream] = r
	}
	r.mu.Lock()
	h.mu.Unlock()
	r.subs[s] = struct{}{}
	r.users[s.User] = append(r.users[s.User], s)
	after = h.tailSeq.Load()
	local = len(r.subs)
	r.mu.Unlock()
	if h.OnCount != nil {
		h.OnCount(s.Stream, local)
	}
	return local, after
}

// Leave removes s.
func (h *Hub) Leave(s *Subscriber) {
	h.mu.Lock()
	r := h.rooms[s.Stream]
	if r == nil {
		h.mu.Unlock()
		return
	}
	r.mu.Lock()
	delete(r.subs, s)
	us := r.users[s.User]
	for i, x := range us {
		if x == s {
			us = append(us[:i], us[i+1:]...)
			break
		}
	}
	if len(us) == 0 {
		delete(r.users, s.User)
	} else {
		r.users[s.User] = us
	}
	local := len(r.subs)
	if local == 0 {
		delete(h.rooms, s.Stream)
	}
	r.mu.Unlock()
	h.mu.Unlock()
	if h.OnCount != nil {
		h.OnCount(s.Stream, local)
	}
}

// Deliver hands an engine record's event to the stream's subscribers: all of
// them, or only toUser's when toUser is set. Calls must come in sequence
// order from one goroutine (the engine tail).
func (h *Hub) Deliver(stream int64, toUser string, ev *Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	r := h.rooms[stream]
	if r == nil {
		h.tailSeq.Store(ev.Seq)
		return
	}
	r.mu.Lock()
	if toUser == "" {
		for s := range r.subs {
			s.offer(ev)
		}
	} else {
		for _, s := range r.users[toUser] {
			s.push(ev)
		}
	}
	// Updated under the room lock so Join sees either "not yet delivered,
	// will arrive live" or "delivered before you joined", never both.
	h.tailSeq.Store(ev.Seq)
	r.mu.Unlock()
}

// Advance records that the tail passed seq without an event to deliver.
func (h *Hub) Advance(seq uint64) {
	h.mu.RLock()
	h.tailSeq.Store(seq)
	h.mu.RUnlock()
}

// room returns stream's room, or nil when it has no local subscriber.
func (h *Hub) room(stream int64) *room {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[stream]
}

// TailSeq is the last engine sequence the hub has seen.
func (h *Hub) TailSeq() uint64 { return h.tailSeq.Load() }

// Notify sends an id-less event (a system notice) to every local subscriber
// of stream, or only to toUser's connections.
func (h *Hub) Notify(stream int64, toUser string, ev *Event) {
	r := h.room(stream)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if toUser == "" {
		for s := range r.subs {
			s.push(ev)
		}
		return
	}
	for _, s := range r.users[toUser] {
		s.push(ev)
	}
}

// Reply sends a history reply to toUser's connections to stream. The reply
// holds every stored broadcast up to covered, including some the tail may
// not have delivered yet: those are then not delivered live as well.
func (h *Hub) Reply(stream int64, toUser string, ev *Event, covered uint64) {
	r := h.room(stream)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.users[toUser] {
		s.mu.Lock()
		s.covered = max(s.covered, covered)
		s.pushLocked(ev)
	}
}

// HasUser reports whether toUser has a connection to stream on this node.
func (h *Hub) HasUser(stream int64, user string) bool {
	r := h.room(stream)
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.users[user]) > 0
}

// Local is the number of subscribers of stream on this node.
func (h *Hub) Local(stream int64) int {
	r := h.room(stream)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.subs)
}

// Streams returns the streams with local subscribers and their counts.
func (h *Hub) Streams() map[int64]int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[int64]int, len(h.rooms))
	for id, r := range h.rooms {
		r.mu.Lock()
		out[id] = len(r.subs)
		r.mu.Unlock()
	}
	return out
}

// CloseStream closes every local subscriber of stream after ev.
func (h *Hub) CloseStream(stream int64, reason string, ev *Event) {
	r := h.room(stream)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range r.subs {
		s.Close(reason, ev)
	}
}

// CloseAll closes every subscriber on this node (shutdown).
func (h *Hub) CloseAll(reason string, ev func(stream int64) *Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for id, r := range h.rooms {
		e := ev(id)
		r.mu.Lock()
		for s := range r.subs {
			s.Close(reason, e)
		}
		r.mu.Unlock()
	}
}

// QueueStats returns the largest queue, in events and in bytes, of any
// local subscriber right now: what slow readers cost.
func (h *Hub) QueueStats() (maxEvents, maxBytes int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, r := range h.rooms {
		r.mu.Lock()
		for s := range r.subs {
			e, b := s.Queued()
			maxEvents, maxBytes = max(maxEvents, e), max(maxBytes, b)
		}
		r.mu.Unlock()
	}
	return maxEvents, maxBytes
}
