package store_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/engine"
	"github.com/tidings/tidings/internal/store"
)

func openBucket(t *testing.T) store.Bucket {
	t.Helper()
	ctx := context.Background()
	e, err := engine.Open(ctx, engine.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	b, err := e.Bucket(ctx, "test_bucket", "test")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type rec struct{ N int }

func TestCacheMirrorsTheBucket(t *testing.T) {
	b := openBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	put := func(key string, n int) uint64 {
		v, _ := json.Marshal(rec{n})
		rev, err := b.Put(ctx, key, v)
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	put("before", 1) // present when the cache starts

	c := store.NewCache[rec]()
	var mu sync.Mutex
	var changes []string
	c.OnChange(func(key string, old, cur *rec) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case old == nil:
			changes = append(changes, "create "+key)
		case cur == nil:
			changes = append(changes, "delete "+key)
		default:
			changes = append(changes, "update "+key)
		}
	})
	if err := c.Run(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("before"); !ok || got.N != 1 {
		t.Fatalf("Get(before) = %v, %v; want the value present at start", got, ok)
	}
	rev := put("after", 2)
	if err := c.WaitRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get("after"); !ok || got.N != 2 {
		t.Fatalf("Get(after) = %v, %v after WaitRevision", got, ok)
	}
	put("after", 3)
	rev, err := b.Delete(ctx, "before")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WaitRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("before"); ok || len(c.All()) != 1 {
		t.Fatalf("after delete: %v; want only \"after\"", c.All())
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"create before", "create after", "update after", "delete before"}
	if len(changes) != len(want) {
		t.Fatalf("changes %q; want %q", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Fatalf("changes %q; want %q", changes, want)
		}
	}
}

func TestNextIDIsUniqueUnderContention(t *testing.T) {
	b := openBucket(t)
	ctx := context.Background()
	const workers, each = 8, 25
	ids := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				id, err := store.NextID(ctx, b, "counter")
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("id %d handed out twice", id)
		}
		seen[id] = true
	}
	for id := int64(1); id <= workers*each; id++ {
		if !seen[id] {
			t.Fatalf("id %d missing: ids are not dense 1..%d", id, workers*each)
		}
	}
}

func TestCreateAndUpdateAreCompareAndSwap(t *testing.T) {
	b := openBucket(t)
	ctx := context.Background()
	rev, err := b.Create(ctx, "k", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Create(ctx, "k", []byte("2")); err != store.ErrExists {
		t.Fatalf("second Create: %v; want ErrExists", err)
	}
	if _, err := b.Update(ctx, "k", []byte("3"), rev+100); err != store.ErrConflict {
		t.Fatalf("Update at a wrong revision: %v; want ErrConflict", err)
	}
	if _, err := b.Update(ctx, "k", []byte("4"), rev); err != nil {
		t.Fatalf("Update at the current revision: %v", err)
	}
	if _, err := b.Get(ctx, "missing"); err != store.ErrNotFound {
		t.Fatalf("Get(missing): %v; want ErrNotFound", err)
	}
}

// Whoever waits for a revision finds what the change callbacks keep (an
// index of widget keys, say) already updated: a slow callback delays the
// revision, never the other way round.
func TestRevisionCountsAfterCallbacks(t *testing.T) {
	b := openBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := store.NewCache[rec]()
	var mu sync.Mutex
	indexed := map[string]int{}
	c.OnChange(func(key string, _, cur *rec) {
		time.Sleep(20 * time.Millisecond) // a callback that takes its time
		mu.Lock()
		defer mu.Unlock()
		if cur != nil {
			indexed[key] = cur.N
		}
	})
	if err := c.Run(ctx, b); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 5; n++ {
		v, _ := json.Marshal(rec{n})
		rev, err := b.Put(ctx, "k", v)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WaitRevision(ctx, rev); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := indexed["k"]
		mu.Unlock()
		if got != n {
			t.Fatalf("after WaitRevision(%d) the callback's index holds %d; want %d", rev, got, n)
		}
	}
}
