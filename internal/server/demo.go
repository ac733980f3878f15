package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/store"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/internal/widgets"
)

// demo is what --demo creates once and finds again on later starts. It
// holds no secret: the demo's own admin key, when TIDINGS_API_KEY is not
// set, is minted afresh at each start (the previous one revoked), since
// keys are stored only as hashes and cannot be shown again.
type demo struct {
	StreamID int64  `json:"stream_id"`
	WidgetID int64  `json:"widget_id"`
	KeyID    string `json:"key_id,omitempty"`
}

// DemoInfo is the demo stream, widget key and management key.
type DemoInfo struct {
	StreamID  int64
	WidgetKey string
	APIKey    string
}

const demoRecord = "demo"

func (s *Server) demoBucket(ctx context.Context) (store.Bucket, error) {
	return s.eng.Bucket(ctx, "tidings_meta", "Tidings: server secret, counters, demo")
}

// Demo sets the demo up at start: the stream (a new one if it was ended),
// started, the widget, and a key to print. Idempotent, also across nodes:
// the record is written with compare-and-swap.
func (s *Server) Demo(ctx context.Context) (DemoInfo, error) {
	meta, err := s.demoBucket(ctx)
	if err != nil {
		return DemoInfo{}, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		var d demo
		e, err := meta.Get(ctx, demoRecord)
		switch {
		case err == nil:
			if json.Unmarshal(e.Value, &d) != nil {
				d = demo{}
			}
		case !errors.Is(err, store.ErrNotFound):
			return DemoInfo{}, err
		}
		old := d
		if st, ok := s.streams.Lookup(d.StreamID); !ok || st.State == streams.StateEnded {
			st, err := s.streams.Create(ctx, accounts.AdminID, accounts.AdminID, streams.CreateParams{Name: "Demo stream", Description: "Created by tidings serve --demo"})
			if err != nil {
				return DemoInfo{}, err
			}
			d.StreamID = st.ID
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
			d.WidgetID = wd.ID
		}
		info := DemoInfo{StreamID: d.StreamID, WidgetKey: wd.Key, APIKey: s.cfg.APIKey}
		if info.APIKey == "" {
			k, secret, err := s.accounts.CreateKey(ctx, accounts.AdminID, "demo")
			if err != nil {
				return DemoInfo{}, err
			}
			d.KeyID, info.APIKey = k.ID, secret
		}
		if d == old {
			return info, nil
		}
		val, _ := json.Marshal(d)
		if e.Revision == 0 {
			_, err = meta.Create(ctx, demoRecord, val)
		} else {
			_, err = meta.Update(ctx, demoRecord, val, e.Revision)
		}
		if err == nil {
			if old.KeyID != "" && old.KeyID != d.KeyID {
				s.revokeDemoKey(ctx, old.KeyID)
			}
			return info, nil
		}
		if d.KeyID != old.KeyID {
			s.revokeDemoKey(ctx, d.KeyID) // not recorded: nobody will print it
		}
		if !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrConflict) {
			return DemoInfo{}, err
		}
		// Another node set the demo up at the same time: use theirs.
	}
	return DemoInfo{}, errors.New("server: demo setup kept conflicting with another node")
}

func (s *Server) revokeDemoKey(ctx context.Context, id string) {
	if err := s.accounts.DeleteKey(ctx, accounts.AdminID, id); err != nil && !errors.Is(err, fault.ErrNotFound) {
		s.log.Warn("server: revoking the previous demo key", "key", id, "err", err)
	}
}

// demoState is the demo as set up, read only: what the example pages are
// configured with. A page load never creates or restarts anything.
func (s *Server) demoState(ctx context.Context) (web.Demo, error) {
	meta, err := s.demoBucket(ctx)
	if err != nil {
		return web.Demo{}, err
	}
	e, err := meta.Get(ctx, demoRecord)
	if err != nil {
		return web.Demo{}, err
	}
	var d demo
	if err := json.Unmarshal(e.Value, &d); err != nil {
		return web.Demo{}, fmt.Errorf("server: demo record: %w", err)
	}
	wd, err := s.widgets.Get(accounts.AdminID, d.WidgetID)
	if err != nil {
		return web.Demo{}, err
	}
	return web.Demo{StreamID: d.StreamID, WidgetKey: wd.Key}, nil
}

func (s *Server) setupDemo(ctx context.Context) error {
	d, err := s.Demo(ctx)
	if err != nil {
		return fmt.Errorf("server: demo: %w", err)
	}
	u := browserURL(s.url)
	fmt.Fprintf(s.cfg.Stdout, `Tidings is running at %[1]s

  Open %[1]s/examples/live-chat/ in your browser to chat (try two tabs),
  or %[1]s/ for the banner example, the browser SDK and the docs.

  Demo stream id:  %[2]d
  Demo widget key: %[3]s
  Admin API key:   %[4]s

Try it with curl:
  # 1. subscribe (leave it running; the first event is "init" with your token)
  curl -N %[1]s/subscribe/%[2]d

  # 2. in another terminal, publish with the token from init
  curl -X POST '%[1]s/publish/%[2]d?token=TOKEN' -H 'Content-Type: application/json' \
    -d '{"type":"broadcast","widget_key":"%[3]s","message":{"username":"me","type":"chat","message_text":"hello"}}'

  # or follow the stream with the CLI
  TIDINGS_API_KEY=%[4]s go run ./cmd/tidings tail --server %[1]s %[2]d

`, u, d.StreamID, d.WidgetKey, d.APIKey)
	return nil
}

// browserURL makes a listen URL openable: a server listening on every
// interface (0.0.0.0, [::]) is reached through the loopback address.
func browserURL(u string) string {
	host, port, err := net.SplitHostPort(strings.TrimPrefix(u, "http://"))
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsUnspecified() {
		return u
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port)
}

// webConfig is what the web pages get of the demo: the stream and widget
// key the examples start with, never the admin key. Without --demo, none.
func (s *Server) webConfig() web.Config {
	cfg := web.Config{Logger: s.log}
	if s.cfg.Demo {
		cfg.Demo = s.demoState
	}
	return cfg
}
