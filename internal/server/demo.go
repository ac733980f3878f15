package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/widgets"
)

// demo is what --demo creates once and finds again on later starts.
type demo struct {
	StreamID int64  `json:"stream_id"`
	WidgetID int64  `json:"widget_id"`
	APIKey   string `json:"api_key"` // a demo admin key, kept so it can be printed again
}

// DemoInfo is the demo stream, widget key and management key.
type DemoInfo struct {
	StreamID  int64
	WidgetKey string
	APIKey    string
}

// Demo returns the demo setup, creating it if needed (idempotent, also
// across nodes: the record is created with compare-and-swap).
func (s *Server) Demo(ctx context.Context) (DemoInfo, error) {
	meta, err := s.eng.Bucket(ctx, "tidings_meta", "Tidings: server secret, counters, demo")
	if err != nil {
		return DemoInfo{}, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		var d demo
		e, err := meta.Get(ctx, "demo")
		switch {
		case err == nil:
			if json.Unmarshal(e.Value, &d) != nil {
				d = demo{}
			}
		case !errors.Is(err, store.ErrNotFound):
			return DemoInfo{}, err
		}
		changed := false
		if st, ok := s.streams.Lookup(d.StreamID); !ok || st.State == streams.StateEnded {
			st, err := s.streams.Create(ctx, accounts.AdminID, accounts.AdminID, streams.CreateParams{Name: "Demo stream", Description: "Created by tidings serve --demo"})
			if err != nil {
				return DemoInfo{}, err
			}
			d.StreamID, changed = st.ID, true
		}
		if st, _ := s.streams.Lookup(d.StreamID); st.State != streams.StateLive {
			if _, err := s.streams.Start(ctx, accounts.AdminID, accounts.AdminID, d.StreamID); err != nil {
				return DemoInfo{}, err
			}
		}
		wd, err := s.widgets.Get(accounts.AdminID, d.WidgetID)
		if err != nil {
			name := "Demo widget"
			if wd, err = s.widgets.Create(ctx, accounts.AdminID, widgets.Params{Name: &name}); err != nil {
				return DemoInfo{}, err
			}
			d.WidgetID, changed = wd.ID, true
		}
		if s.cfg.APIKey != "" {
			d.APIKey = s.cfg.APIKey
		} else if d.APIKey == "" {
			if _, d.APIKey, err = s.accounts.CreateKey(ctx, accounts.AdminID, "demo"); err != nil {
				return DemoInfo{}, err
			}
			changed = true
		}
		info := DemoInfo{StreamID: d.StreamID, WidgetKey: wd.Key, APIKey: d.APIKey}
		if !changed {
			return info, nil
		}
		val, _ := json.Marshal(d)
		if e.Revision == 0 {
			_, err = meta.Create(ctx, "demo", val)
		} else {
			_, err = meta.Update(ctx, "demo", val, e.Revision)
		}
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrConflict) {
			return DemoInfo{}, err
		}
		// Another node set the demo up at the same time: use theirs.
	}
	return DemoInfo{}, errors.New("server: demo setup kept conflicting with another node")
}

func (s *Server) setupDemo(ctx context.Context) error {
	d, err := s.Demo(ctx)
	if err != nil {
		return fmt.Errorf("server: demo: %w", err)
	}
	u := s.url
	fmt.Fprintf(s.cfg.Stdout, `Tidings is running at %[1]s

  Demo stream id:  %[2]d
  Demo widget key: %[3]s
  Admin API key:   %[4]s

Try it:
  # 1. subscribe (leave it running; the first event is "init" with your token)
  curl -N %[1]s/subscribe/%[2]d

  # 2. in another terminal, publish with the token from init
  curl -X POST '%[1]s/publish/%[2]d?token=TOKEN' -H 'Content-Type: application/json' \
    -d '{"type":"broadcast","widget_key":"%[3]s","message":{"username":"me","type":"chat","message_text":"hello"}}'

  # or follow the stream with the CLI
  TIDINGS_API_KEY=%[4]s go run ./cmd/tidings tail %[2]d

`, u, d.StreamID, d.WidgetKey, d.APIKey)
	return nil
}
