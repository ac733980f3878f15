package cli

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/client"
)

// step is one CLI invocation and what its stdout must contain.
type step struct {
	name    string
	args    []string
	want    []string // substrings of stdout
	wantErr string   // substring of the error; "" means success
}

// runSteps runs steps in order against base with the admin key.
func runSteps(t *testing.T, base string, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, err := runCLI(base, adminKey, s.args...)
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, s.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want success", err)
			}
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("got output %q; want it to contain %q", out, w)
				}
			}
		})
	}
}

func TestStreamsCommands(t *testing.T) {
	base := startServer(t)
	var st client.Stream
	runJSON(t, base, &st, "streams", "create", "--name", "My show", "--slug", "my-show", "--description", "d")
	if st.ID <= 0 || st.Name != "My show" || st.State != client.StreamCreated {
		t.Fatalf("got created stream %+v", st)
	}
	id := strconv.FormatInt(st.ID, 10)
	runSteps(t, base, []step{
		{name: "create table", args: []string{"streams", "create", "--name", "Other"},
			want: []string{"ID", "NAME", "STATE", "Other", "created"}},
		{name: "list", args: []string{"streams", "list"},
			want: []string{"My show", "my-show", "Other"}},
		{name: "get", args: []string{"streams", "get", id},
			want: []string{"ID:", id, "Name:", "My show", "Description:", "State:", "created", "Start:", "-"}},
		{name: "start", args: []string{"streams", "start", id}, want: []string{id, "My show", "live"}},
		{name: "get live", args: []string{"streams", "get", id, "--json"},
			want: []string{`"state": "live"`, `"end_date": null`}},
		{name: "end", args: []string{"streams", "end", id}, want: []string{id, "ended"}},
		{name: "get ended", args: []string{"streams", "get", id}, want: []string{"ended"}},
		{name: "get missing", args: []string{"streams", "get", "999"}, wantErr: "streams get: tidings: 404"},
	})
}

func TestWidgetsCommands(t *testing.T) {
	base := startServer(t)
	var w client.Widget
	runJSON(t, base, &w, "widgets", "create", "--name", "Chat", "--summary", "talk", "--webhook-host", "example.com")
	if w.ID <= 0 || w.Key == "" || w.Summary != "talk" {
		t.Fatalf("got created widget %+v", w)
	}
	id := strconv.FormatInt(w.ID, 10)

	out, err := runCLI(base, adminKey, "widgets", "key", id)
	newKey := strings.TrimSpace(out)
	if err != nil || newKey == "" || newKey == w.Key {
		t.Fatalf("widgets key: got %q, %v; want a new key (old %q)", out, err, w.Key)
	}
	out, err = runCLI(base, adminKey, "widgets", "webhook-secret", id)
	secret := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(secret, "whsec_") || secret == w.WebhookSecret {
		t.Fatalf("widgets webhook-secret: got %q, %v; want a new whsec_ secret (old %q)", out, err, w.WebhookSecret)
	}
	runSteps(t, base, []step{
		{name: "get secret", args: []string{"widgets", "get", id}, want: []string{"Webhook secret:", secret}},
		{name: "list", args: []string{"widgets", "list"},
			want: []string{"ID", "KEY", "Chat", "talk", newKey, "example.com"}},
		{name: "update", args: []string{"widgets", "update", id, "--name", "Chat 2", "--no-webhook-hosts"},
			want: []string{"Chat 2", "talk", newKey}},
		{name: "get", args: []string{"widgets", "get", id},
			want: []string{"Name:", "Chat 2", "Key:", newKey, "Webhook hosts:"}},
		{name: "delete", args: []string{"widgets", "delete", id}, want: []string{"deleted widget " + id + "\n"}},
		{name: "get deleted", args: []string{"widgets", "get", id}, wantErr: "widgets get: tidings: 404"},
		{name: "empty list json", args: []string{"widgets", "list", "--json"}, want: []string{"[]\n"}},
	})
}

func TestAccountsAndKeysCommands(t *testing.T) {
	base := startServer(t)
	var acct client.CreatedAccount
	runJSON(t, base, &acct, "accounts", "create", "--name", "Acme")
	if acct.Account.ID == "" || !strings.HasPrefix(acct.Key, "tdk_") {
		t.Fatalf("got account %+v", acct)
	}
	runSteps(t, base, []step{
		{name: "accounts create table", args: []string{"accounts", "create", "--name", "Beta"},
			want: []string{"ACCOUNT ID", "KEY", "Beta", "tdk_"}},
		{name: "accounts list", args: []string{"accounts", "list"},
			want: []string{"ID", "NAME", acct.Account.ID, "Acme", "Beta"}},
		{name: "keys create", args: []string{"keys", "create", "--name", "ci"},
			want: []string{"PREFIX", "ci", "tdk_"}},
		{name: "keys list", args: []string{"keys", "list"}, want: []string{"NAME", "ci"}},
		{name: "keys accesstoken", args: []string{"keys", "accesstoken", "--expiry", "120"},
			want: []string{"TOKEN", "EXPIRES AT", "120"}},
	})

	// A tenant key and an access token minted with it both work as --api-key.
	var tok client.AccessToken
	out, err := runCLI(base, acct.Key, "--json", "keys", "accesstoken", "--expiry", "60")
	if err != nil || decode(out, &tok) != nil || tok.Token == "" || tok.ExpirySeconds != 60 {
		t.Fatalf("keys accesstoken: got %q, %v", out, err)
	}
	if out, err := runCLI(base, tok.Token, "streams", "create", "--name", "tenant show"); err != nil || !strings.Contains(out, "tenant show") {
		t.Errorf("streams create with access token: got %q, %v", out, err)
	}
	if out, err := runCLI(base, acct.Key, "accounts", "list"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("accounts list with a tenant key: got %q, %v; want a 403 error", out, err)
	}
}

func TestPublishCommands(t *testing.T) {
	base := startServer(t)
	id, wk := liveStream(t, base)
	runSteps(t, base, []step{
		{name: "broadcast", args: []string{"publish", id, "--widget-key", wk, "--message", `{"text":"hi"}`},
			want: []string{"published broadcast to stream " + id + " as user "}},
		{name: "request prints reply", args: []string{"publish", id, "--widget-key", wk, "--type", "request"},
			want: []string{"request 0 [{", `"message":{"text":"hi"}`, `"type":"broadcast"`}},
		{name: "bad widget key", args: []string{"publish", id, "--widget-key", "nope", "--message", "x"},
			wantErr: "publish: tidings: 403"},
	})
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until it contains want, failing after 5 s.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(out.String(), want) {
			return
		}
	}
	t.Fatalf("got output %q; want it to contain %q", out.String(), want)
}

func TestTail(t *testing.T) {
	base := startServer(t)
	idStr, wk := liveStream(t, base)
	id, _ := strconv.ParseInt(idStr, 10, 64)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, []string{"tail", idStr, "--server", base}, nil, &out, &bytes.Buffer{}) }()
	waitFor(t, &out, "init 0 {")

	sub, err := client.New(base).Subscribe(ctx, id)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Close()
	if err := sub.Broadcast(ctx, wk, map[string]string{"text": "tail me"}); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	waitFor(t, &out, "broadcast "+sub.UserID()+` {"text":"tail me"}`+"\n")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("got tail error %v; want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tail did not return within 5s of cancel")
	}
}

func TestCommandErrors(t *testing.T) {
	base := startServer(t)
	id, wk := liveStream(t, base)
	tests := []struct {
		name, key string
		args      []string
		wantErr   string
	}{
		{"get unknown stream", adminKey, []string{"streams", "get", "999"}, "streams get: tidings: 404 "},
		{"tail unknown stream", "", []string{"tail", "999"}, "tail: tidings: 404 "},
		{"publish unknown stream", "", []string{"publish", "999", "--widget-key", wk, "--message", "x"}, "publish: tidings: 404 "},
		{"missing api key", "", []string{"streams", "list"}, "streams list: no API key: set TIDINGS_API_KEY or pass --api-key"},
		{"wrong api key", "tdk_wrong_key_0123456789", []string{"streams", "start", id}, "streams start: tidings: 401 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCLI(base, tt.key, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v (output %q); want one containing %q", err, out, tt.wantErr)
			}
		})
	}

	t.Run("environment", func(t *testing.T) {
		var out bytes.Buffer
		environ := map[string]string{"TIDINGS_SERVER": base, "TIDINGS_API_KEY": adminKey}
		err := Run(context.Background(), []string{"streams", "get", id}, func(k string) string { return environ[k] }, &out, &bytes.Buffer{})
		if err != nil || !strings.Contains(out.String(), "live") {
			t.Errorf("got %q, %v; want the live stream", out.String(), err)
		}
	})
}
