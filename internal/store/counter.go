package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// NextID returns the next number of the counter name in b, starting at 1.
// Compare-and-swap makes ids unique across every node sharing the bucket.
func NextID(ctx context.Context, b Bucket, name string) (int64, error) {
	for attempt := 0; attempt < 100; attempt++ {
		e, err := b.Get(ctx, name)
		if errors.Is(err, ErrNotFound) {
			if _, err := b.Create(ctx, name, []byte("1")); err == nil {
				return 1, nil
			} else if !errors.Is(err, ErrExists) {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(string(e.Value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("store: counter %s holds %q: %w", name, e.Value, err)
		}
		n++
		if _, err := b.Update(ctx, name, []byte(strconv.FormatInt(n, 10)), e.Revision); err == nil {
			return n, nil
		} else if !errors.Is(err, ErrConflict) {
			return 0, err
		}
	}
	return 0, errors.New("store: counter " + name + ": too much contention")
}
