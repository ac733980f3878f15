//go:build linux

package loadgen

// tracker accounts for one subscriber's deliveries of one stream's sequence
// numbers (1, 2, 3 …): a bitset of the numbers seen, so duplicates and
// reordering are exact. It is used by one goroutine only.
type tracker struct {
	seen   []uint64
	last   uint64 // sequence number of the previous delivery
	unique int64
	dups   int64
	ooo    int64 // deliveries not after the previous one, yet not seen before
}

// add records a delivery of seq and reports whether it was new.
func (t *tracker) add(seq uint64) bool {
	w := int(seq >> 6)
	if w >= len(t.seen) {
		// Grows by doubling: amortized, not per event.
		n := max(w+1, 2*len(t.seen), 16)
		t.seen = append(t.seen, make([]uint64, n-len(t.seen))...)
	}
	bit := uint64(1) << (seq & 63)
	if t.seen[w]&bit != 0 {
		t.dups++
		return false
	}
	t.seen[w] |= bit
	t.unique++
	if seq <= t.last {
		t.ooo++
	}
	t.last = seq
	return true
}

// lost is how many of the expected deliveries never came.
func (t *tracker) lost(expected int64) int64 {
	return max(0, expected-t.unique)
}
