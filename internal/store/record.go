package store

import "time"

// Record kinds.
const (
	KindBroadcast = 'b'
	KindPrivate   = 'p'
)

// Record is one stored channel message of the message log.
type Record struct {
	Seq    uint64 // position in the log: one order for every node
	Stream int64
	Kind   byte   // KindBroadcast or KindPrivate
	ToUser string // receiver, for KindPrivate
	Data   []byte // the encoded envelope
	Time   time.Time
}
