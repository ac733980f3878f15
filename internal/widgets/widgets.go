package widgets

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
)

// Widget is a registered piece of client code. JSON names are the wire form.
type Widget struct {
	ID           int64    `json:"id"`
	Account      string   `json:"account"`
	Name         string   `json:"name"`
	Summary      string   `json:"summary"`
	Description  string   `json:"description"`
	Key          string   `json:"key"`
	WebhookHosts []string `json:"webhook_hosts"`
	// WebhookSecret keys the HMAC that signs the widget's webhook calls.
	WebhookSecret string    `json:"webhook_secret"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Params are the fields a client may set; nil means "leave as is" on update.
type Params struct {
	Name         *string   `json:"name"`
	Summary      *string   `json:"summary"`
	Description  *string   `json:"description"`
	WebhookHosts *[]string `json:"webhook_hosts"`
}

// ErrBadKey is returned by Authorize for unknown, revoked or foreign keys.
var ErrBadKey = fault.New(fault.ErrForbidden, "widget_key is not valid: it is unknown, was replaced by a new key, or belongs to another account's widget")

// Config holds the Service's dependencies.
type Config struct {
	Bucket store.Bucket // widget records, key = id
	IDs    store.Bucket // counters
	Now    func() time.Time
	// Sync, if set, returns once every node has applied a bucket revision,
	// so a regenerated or deleted key is refused everywhere when the call
	// that changed it returns.
	Sync func(ctx context.Context, revision uint64) error
}

// Service manages widgets. It is safe for concurrent use.
type Service struct {
	bucket store.Bucket
	ids    store.Bucket
	cache  *store.Cache[Widget]
	now    func() time.Time

	mu    sync.RWMutex
	byKey map[string]int64
}

// New returns a Service; call Run before use.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{bucket: cfg.Bucket, ids: cfg.IDs, cache: store.NewCache[Widget](), now: cfg.Now, byKey: make(map[string]int64)}
	s.cache.OnChange(s.index)
	s.cache.SetSync(cfg.Sync)
	return s
}

func (s *Service) index(_ string, old, cur *Widget) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old != nil {
		delete(s.byKey, old.Key)
	}
	if cur != nil {
		s.byKey[cur.Key] = cur.ID
	}
}

// WaitRevision returns once this node's mirror has applied rev.
func (s *Service) WaitRevision(ctx context.Context, rev uint64) error {
	return s.cache.WaitRevision(ctx, rev)
}

// Run loads every widget and keeps the mirror current until ctx is done.
func (s *Service) Run(ctx context.Context) error { return s.cache.Run(ctx, s.bucket) }

// Authorize returns the widget whose current key is key, if it belongs to
// account; else ErrBadKey.
func (s *Service) Authorize(account, key string) (Widget, error) {
	s.mu.RLock()
	id, ok := s.byKey[key]
	s.mu.RUnlock()
	if !ok {
		return Widget{}, ErrBadKey
	}
	w, ok := s.cache.Get(strconv.FormatInt(id, 10))
	if !ok || w.Key != key || w.Account != account {
		return Widget{}, ErrBadKey
	}
	return w, nil
}

// Get returns account's widget id.
func (s *Service) Get(account string, id int64) (Widget, error) {
	w, ok := s.cache.Get(strconv.FormatInt(id, 10))
	if !ok || w.Account != account {
		return Widget{}, fault.Errorf(fault.ErrNotFound, "widget %d not found", id)
	}
	return w, nil
}

// List returns account's widgets, newest first.
func (s *Service) List(account string) []Widget {
	var out []Widget
	for _, w := range s.cache.All() {
		if w.Account == account {
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

// NewKey returns a random UUID-formatted (version 4) key.
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Create registers a widget for account with a fresh key.
func (s *Service) Create(ctx context.Context, account string, p Params) (Widget, error) {
	w := Widget{Account: account, WebhookHosts: []string{}}
	if err := apply(&w, p); err != nil {
		return Widget{}, err
	}
	if w.Name == "" {
		return Widget{}, fault.New(fault.ErrInvalid, "name is required")
	}
	id, err := store.NextID(ctx, s.ids, "widget")
	if err != nil {
		return Widget{}, err
	}
	now := s.now().UTC()
	w.ID, w.Key, w.WebhookSecret, w.CreatedAt, w.UpdatedAt = id, NewKey(), NewWebhookSecret(), now, now
	val, _ := json.Marshal(w)
	rev, err := s.bucket.Create(ctx, strconv.FormatInt(id, 10), val)
	if err != nil {
		return Widget{}, fmt.Errorf("widgets: create %d: %w", id, err)
	}
	return w, s.cache.Settle(ctx, rev)
}

// Update changes the fields set in p.
func (s *Service) Update(ctx context.Context, account string, id int64, p Params) (Widget, error) {
	return s.change(ctx, account, id, func(w *Widget) error {
		if err := apply(w, p); err != nil {
			return err
		}
		if w.Name == "" {
			return fault.New(fault.ErrInvalid, "name cannot be empty")
		}
		return nil
	})
}

// RegenerateKey gives the widget a new key; the old one stops working.
func (s *Service) RegenerateKey(ctx context.Context, account string, id int64) (Widget, error) {
	return s.change(ctx, account, id, func(w *Widget) error {
		w.Key = NewKey()
		return nil
	})
}

// Delete removes the widget for good; its key stops working.
func (s *Service) Delete(ctx context.Context, account string, id int64) error {
	if _, err := s.Get(account, id); err != nil {
		return err
	}
	rev, err := s.bucket.Delete(ctx, strconv.FormatInt(id, 10))
	if err != nil {
		return err
	}
	return s.cache.Settle(ctx, rev)
}

func (s *Service) change(ctx context.Context, account string, id int64, fn func(*Widget) error) (Widget, error) {
	key := strconv.FormatInt(id, 10)
	for attempt := 0; attempt < 10; attempt++ {
		e, err := s.bucket.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return Widget{}, fault.Errorf(fault.ErrNotFound, "widget %d not found", id)
		}
		if err != nil {
			return Widget{}, err
		}
		var w Widget
		if err := json.Unmarshal(e.Value, &w); err != nil {
			return Widget{}, fmt.Errorf("widgets: decode %d: %w", id, err)
		}
		if w.Account != account {
			return Widget{}, fault.Errorf(fault.ErrNotFound, "widget %d not found", id)
		}
		if err := fn(&w); err != nil {
			return Widget{}, err
		}
		w.UpdatedAt = s.now().UTC()
		val, _ := json.Marshal(w)
		rev, err := s.bucket.Update(ctx, key, val, e.Revision)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Widget{}, err
		}
		return w, s.cache.Settle(ctx, rev)
	}
	return Widget{}, fault.Errorf(fault.ErrConflict, "widget %d is being changed by others; try again", id)
}

func apply(w *Widget, p Params) error {
	if p.Name != nil {
		w.Name = strings.TrimSpace(*p.Name)
		if len(w.Name) > 200 {
			return fault.New(fault.ErrInvalid, "name is longer than 200 bytes")
		}
	}
	if p.Summary != nil {
		w.Summary = *p.Summary
	}
	if p.Description != nil {
		w.Description = *p.Description
	}
	if p.WebhookHosts != nil {
		hosts, err := normalizeHosts(*p.WebhookHosts)
		if err != nil {
			return err
		}
		w.WebhookHosts = hosts
	}
	if len(w.Summary) > 1000 || len(w.Description) > 4000 {
		return fault.New(fault.ErrInvalid, "summary (1000 bytes) or description (4000 bytes) is too long")
	}
	return nil
}
