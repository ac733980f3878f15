package engine

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// BenchmarkPublish measures acknowledged publishes into the message log
// with the default durability and with sync always (fsync per write), one
// publisher waiting for each acknowledgement, and reports latency
// percentiles besides throughput. Run with:
//
//	go test -run='^$' -bench=Publish -benchtime=3s ./internal/engine
func BenchmarkPublish(b *testing.B) {
	payload := []byte(`{"stream_id":"1","author_id":"42","to_user_id":"","message":{"username":"bench","type":"chat","message_text":"` +
		"0123456789012345678901234567890123456789" + `"},"timestamp":12.5,"type":"broadcast","widget_key":"k"}`)
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync_always=%v", sync), func(b *testing.B) {
			ctx := context.Background()
			e, err := Open(ctx, Config{DataDir: b.TempDir(), SyncAlways: sync, HistoryMaxMsgs: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, _, err := e.Publish(ctx, int64(1+i%10), "", payload, ""); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
		})
	}
}

// BenchmarkPublishParallel is the same with many publishers in flight, as
// many HTTP requests would be.
func BenchmarkPublishParallel(b *testing.B) {
	payload := []byte(`{"type":"broadcast","message":"x"}`)
	for _, sync := range []bool{false, true} {
		b.Run(fmt.Sprintf("sync_always=%v", sync), func(b *testing.B) {
			ctx := context.Background()
			e, err := Open(ctx, Config{DataDir: b.TempDir(), SyncAlways: sync, HistoryMaxMsgs: 1 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := e.Publish(ctx, 1, "", payload, ""); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "publishes/s")
		})
	}
}
