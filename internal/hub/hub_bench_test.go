package hub

import (
	"fmt"
	"testing"
)

// BenchmarkDeliver measures fan-out of one event to N subscribers of a
// stream: the per-delivery cost in the hub itself (queueing and wake-up),
// without the socket write.
func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := New(0)
			subs := make([]*Subscriber, n)
			for i := range subs {
				subs[i] = NewSubscriber(1, fmt.Sprint(i), "u.tag-", Limits{Events: 1 << 30, Bytes: 1 << 40})
				subs[i].OnReady(func() {})
				h.Join(subs[i])
			}
			ev := NewEvent(1, []byte(`{"stream_id":"1","message":{"s":1}}`))
			var buf []*Event
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.Deliver(1, "", ev)
				if i%64 == 63 { // drain now and then, as writers would
					for _, s := range subs {
						buf, _, _ = s.Drain(buf)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// BenchmarkAppendTo measures SSE framing of one event for one subscriber.
func BenchmarkAppendTo(b *testing.B) {
	ev := NewEvent(123456789, []byte(`{"stream_id":"1","author_id":"42","to_user_id":"","message":{"s":1,"t":2,"p":"xxxxxxxxxxxxxxxx"},"timestamp":0,"type":"broadcast","widget_key":"k"}`))
	prefix := []byte("4503599627370496.AbCdEfGhIjKlMnOpQrStUvWx-")
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = ev.AppendTo(buf[:0], prefix)
	}
}
