package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tidings/tidings/internal/store"
)

// Bucket opens (creating if needed) the KV bucket name and returns it as a
// store.Bucket.
func (e *Engine) Bucket(ctx context.Context, name, description string) (store.Bucket, error) {
	kv, err := e.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      name,
		Description: description,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    e.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("engine: bucket %s: %w", name, err)
	}
	return &bucket{kv: kv}, nil
}

type bucket struct{ kv jetstream.KeyValue }

var _ store.Bucket = (*bucket)(nil)

func (b *bucket) Get(ctx context.Context, key string) (store.Entry, error) {
	en, err := b.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return store.Entry{}, store.ErrNotFound
	}
	if err != nil {
		return store.Entry{}, fmt.Errorf("engine: get %s: %w", key, err)
	}
	return store.Entry{Key: key, Value: en.Value(), Revision: en.Revision()}, nil
}

func (b *bucket) Create(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := b.kv.Create(ctx, key, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, store.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("engine: create %s: %w", key, err)
	}
	return rev, nil
}

func (b *bucket) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	rev, err := b.kv.Update(ctx, key, value, revision)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return 0, store.ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("engine: update %s: %w", key, err)
	}
	return rev, nil
}

func (b *bucket) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	rev, err := b.kv.Put(ctx, key, value)
	if err != nil {
		return 0, fmt.Errorf("engine: put %s: %w", key, err)
	}
	return rev, nil
}

func (b *bucket) Delete(ctx context.Context, key string) (uint64, error) {
	err := b.kv.Delete(ctx, key)
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("engine: delete %s: %w", key, err)
	}
	st, err := b.kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("engine: delete %s: status: %w", key, err)
	}
	if kvs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		return kvs.StreamInfo().State.LastSeq, nil
	}
	return 0, fmt.Errorf("engine: delete %s: unexpected status type %T", key, st)
}

func (b *bucket) Watch(ctx context.Context, fn func(store.Entry), ready func()) error {
	w, err := b.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("engine: watch %s: %w", b.kv.Bucket(), err)
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case en, ok := <-w.Updates():
				if !ok {
					return
				}
				if en == nil { // end of the initial values
					ready()
					continue
				}
				fn(store.Entry{
					Key:      en.Key(),
					Value:    en.Value(),
					Revision: en.Revision(),
					Deleted:  en.Operation() != jetstream.KeyValuePut,
				})
			}
		}
	}()
	return nil
}

func (b *bucket) Entries(ctx context.Context) ([]store.Entry, error) {
	w, err := b.kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("engine: list %s: %w", b.kv.Bucket(), err)
	}
	defer w.Stop()
	var out []store.Entry
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case en, ok := <-w.Updates():
			if !ok || en == nil {
				return out, nil
			}
			out = append(out, store.Entry{Key: en.Key(), Value: en.Value(), Revision: en.Revision()})
		}
	}
}
