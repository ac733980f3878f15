package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
)

// States of a stream.
const (
	StateCreated  = "created"
	StatePrepared = "prepared"
	StateLive     = "live"
	StateEnded    = "ended"
)

// Stream is one live session. JSON field names are the wire format.
// CreatedBy and UpdatedBy hold the actor given to Create and to the
// transitions: through the management API, the id of the application key
// used ("key_…"), also when used through an access token it minted (see
// accounts.Principal.Actor).
type Stream struct {
	ID          int64      `json:"id"`
	Account     string     `json:"-"`
	Name        string     `json:"name"`
	Slug        string     `json:"slug"`
	Description string     `json:"description"`
	State       string     `json:"state"`
	StartDate   *time.Time `json:"start_date"`
	EndDate     *time.Time `json:"end_date"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedBy   string     `json:"updated_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// record is the stored form; it keeps the owner, which the wire form hides.
type record struct {
	Stream
	Account string `json:"account"`
}

// Live reports whether the stream's channel is open.
func (s Stream) Live() bool { return s.State == StateLive }

// CreateParams are the fields a client may set on creation.
type CreateParams struct {
	Name        string `json:"name"`
	Slug        string `json:"slug"`
	Description string `json:"description"`
}

// Service manages streams. It is safe for concurrent use.
type Service struct {
	bucket store.Bucket
	ids    store.Bucket
	cache  *store.Cache[record]
	now    func() time.Time
}

// Config holds the Service's dependencies.
type Config struct {
	Bucket store.Bucket // stream records, key = id
	IDs    store.Bucket // counters
	Now    func() time.Time
	// Sync, if set, returns once every node has applied a bucket revision,
	// so a created, started or ended stream is in force on every node when
	// the call that changed it returns.
	Sync func(ctx context.Context, revision uint64) error
}

// New returns a Service; call Run before use.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{bucket: cfg.Bucket, ids: cfg.IDs, cache: store.NewCache[record](), now: cfg.Now}
	s.cache.SetSync(cfg.Sync)
	return s
}

// OnEnd registers fn to be called on every node when a stream ends.
// Register before Run.
func (s *Service) OnEnd(fn func(Stream)) {
	s.cache.OnChange(func(_ string, old, cur *record) {
		if cur != nil && cur.State == StateEnded && (old == nil || old.State != StateEnded) {
			fn(cur.stream())
		}
	})
}

// Run loads every stream and keeps the mirror current until ctx is done.
func (s *Service) Run(ctx context.Context) error { return s.cache.Run(ctx, s.bucket) }

func (r record) stream() Stream {
	st := r.Stream
	st.Account = r.Account
	return st
}

// Lookup returns a stream by id whatever its owner, from the local mirror.
// The channel uses it; management calls use Get, which checks the owner.
func (s *Service) Lookup(id int64) (Stream, bool) {
	r, ok := s.cache.Get(strconv.FormatInt(id, 10))
	return r.stream(), ok
}

// Get returns account's stream id, or a not-found error for streams of other
// accounts, so ids of other tenants are never confirmed.
func (s *Service) Get(account string, id int64) (Stream, error) {
	st, ok := s.Lookup(id)
	if !ok || st.Account != account {
		return Stream{}, fault.Errorf(fault.ErrNotFound, "stream %d not found", id)
	}
	return st, nil
}

// List returns account's streams, newest first.
func (s *Service) List(account string) []Stream {
	var out []Stream
	for _, r := range s.cache.All() {
		if r.Account == account {
			out = append(out, r.stream())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out
}

var slugInvalid = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify derives a URL slug from a name: lower-case ASCII letters and
// digits joined by single dashes. It returns "" when name has none.
func Slugify(name string) string {
	return strings.Trim(slugInvalid.ReplaceAllString(strings.ToLower(name), "-"), "-")
}

// givenSlug checks the slug a client asked for and returns it slugified, or
// "" when none was given. A slug that keeps no letter or digit once
// slugified is refused: it was asked for and cannot be honoured.
func givenSlug(slug string) (string, error) {
	if strings.TrimSpace(slug) == "" {
		return "", nil
	}
	if len(slug) > maxName {
		return "", fault.Errorf(fault.ErrInvalid, "slug is longer than %d bytes", maxName)
	}
	out := Slugify(slug)
	if out == "" {
		return "", fault.Errorf(fault.ErrInvalid, "slug %q has no letters or digits: use a-z and 0-9 (other characters become dashes), or leave it out to derive it from the name", slug)
	}
	return out, nil
}

// nameSlug is the slug of stream id when the client gave none: derived from
// the name or, for a name with no ASCII letter or digit (all punctuation,
// or a non-Latin script), "stream-<id>", so every stream has a slug.
func nameSlug(name string, id int64) string {
	if slug := Slugify(name); slug != "" {
		return slug
	}
	return "stream-" + strconv.FormatInt(id, 10)
}

const (
	maxName        = 200
	maxDescription = 4000
)

// Create stores a new stream owned by account, with a cluster-unique id.
func (s *Service) Create(ctx context.Context, account, actor string, p CreateParams) (Stream, error) {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return Stream{}, fault.New(fault.ErrInvalid, "name is required")
	case len(p.Name) > maxName:
		return Stream{}, fault.Errorf(fault.ErrInvalid, "name is longer than %d bytes", maxName)
	case len(p.Description) > maxDescription:
		return Stream{}, fault.Errorf(fault.ErrInvalid, "description is longer than %d bytes", maxDescription)
	}
	slug, err := givenSlug(p.Slug)
	if err != nil {
		return Stream{}, err
	}
	id, err := store.NextID(ctx, s.ids, "stream")
	if err != nil {
		return Stream{}, err
	}
	if slug == "" {
		slug = nameSlug(p.Name, id)
	}
	now := s.now().UTC()
	r := record{Account: account, Stream: Stream{
		ID: id, Name: p.Name, Slug: slug, Description: p.Description, State: StateCreated,
		CreatedBy: actor, CreatedAt: now, UpdatedBy: actor, UpdatedAt: now,
	}}
	val, _ := json.Marshal(r)
	rev, err := s.bucket.Create(ctx, strconv.FormatInt(id, 10), val)
	if err != nil {
		return Stream{}, fmt.Errorf("streams: create %d: %w", id, err)
	}
	if err := s.cache.Settle(ctx, rev); err != nil {
		return Stream{}, err
	}
	return r.stream(), nil
}

// Prepare marks a created stream as prepared.
func (s *Service) Prepare(ctx context.Context, account, actor string, id int64) (Stream, error) {
	return s.transition(ctx, account, actor, id, func(r *record, now time.Time) error {
		switch r.State {
		case StateCreated, StatePrepared:
			r.State = StatePrepared
			return nil
		case StateLive:
			return fault.Errorf(fault.ErrConflict, "stream %d is already live", id)
		}
		return endedErr(id)
	})
}

// Start makes a stream live: its channel opens.
func (s *Service) Start(ctx context.Context, account, actor string, id int64) (Stream, error) {
	return s.transition(ctx, account, actor, id, func(r *record, now time.Time) error {
		switch r.State {
		case StateCreated, StatePrepared:
			r.State = StateLive
			r.StartDate = &now
			return nil
		case StateLive:
			return nil // starting twice is harmless
		}
		return endedErr(id)
	})
}

// End ends a stream for good: subscribers are told and disconnected, and
// its channel refuses everything from then on.
func (s *Service) End(ctx context.Context, account, actor string, id int64) (Stream, error) {
	return s.transition(ctx, account, actor, id, func(r *record, now time.Time) error {
		if r.State == StateEnded {
			return endedErr(id)
		}
		r.State = StateEnded
		r.EndDate = &now
		return nil
	})
}

func endedErr(id int64) error {
	return fault.Errorf(fault.ErrGone, "stream %d has ended; an ended stream cannot be used again: create a new one", id)
}

// transition applies change to the stored record with compare-and-swap,
// retrying when another node changed it first.
func (s *Service) transition(ctx context.Context, account, actor string, id int64, change func(*record, time.Time) error) (Stream, error) {
	key := strconv.FormatInt(id, 10)
	for attempt := 0; attempt < 10; attempt++ {
		e, err := s.bucket.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return Stream{}, fault.Errorf(fault.ErrNotFound, "stream %d not found", id)
		}
		if err != nil {
			return Stream{}, err
		}
		var r record
		if err := json.Unmarshal(e.Value, &r); err != nil {
			return Stream{}, fmt.Errorf("streams: decode %d: %w", id, err)
		}
		if r.Account != account {
			return Stream{}, fault.Errorf(fault.ErrNotFound, "stream %d not found", id)
		}
		now := s.now().UTC()
		if err := change(&r, now); err != nil {
			return Stream{}, err
		}
		r.UpdatedBy, r.UpdatedAt = actor, now
		val, _ := json.Marshal(r)
		rev, err := s.bucket.Update(ctx, key, val, e.Revision)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Stream{}, err
		}
		if err := s.cache.Settle(ctx, rev); err != nil {
			return Stream{}, err
		}
		return r.stream(), nil
	}
	return Stream{}, fault.Errorf(fault.ErrConflict, "stream %d is being changed by others; try again", id)
}

// WaitRevision returns once this node's mirror has applied rev.
func (s *Service) WaitRevision(ctx context.Context, rev uint64) error {
	return s.cache.WaitRevision(ctx, rev)
}
