package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tidings/tidings/client"
)

// run calls Run with a fixed environment and captured output.
func run(args []string, environ map[string]string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return environ[k] }
	err = Run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestRunErrors(t *testing.T) {
	key := map[string]string{"TIDINGS_API_KEY": "tdk_x", "TIDINGS_SERVER": "http://127.0.0.1:1"}
	tests := []struct {
		name    string
		args    []string
		environ map[string]string
		wantErr string // substring; "" means success
	}{
		{"no command", nil, nil, "no command given"},
		{"unknown command", []string{"frobnicate"}, nil, `unknown command "frobnicate" (run "tidings help" for usage)`},
		{"unknown subcommand", []string{"streams", "explode"}, nil, `unknown command "streams explode"`},
		{"serve is not handled", []string{"serve"}, nil, `unknown command "serve"`},
		{"missing api key", []string{"streams", "list"}, nil, "streams list: no API key: set TIDINGS_API_KEY or pass --api-key"},
		{"missing api key get", []string{"streams", "get", "5"}, nil, "streams get: no API key"},
		{"empty api key flag", []string{"keys", "list", "--api-key", ""}, key, "no API key"},
		{"unknown flag", []string{"streams", "list", "--bogus"}, key, "streams list: flag provided but not defined: -bogus"},
		{"missing name", []string{"streams", "create"}, key, "streams create: --name is required"},
		{"missing id", []string{"streams", "get"}, key, "streams get: expected ID, got 0 argument(s)"},
		{"extra args", []string{"streams", "get", "1", "2"}, key, "expected ID, got 2 argument(s)"},
		{"unexpected arg", []string{"widgets", "list", "x"}, key, `widgets list: unexpected argument "x"`},
		{"bad id", []string{"widgets", "get", "abc"}, key, `widgets get: invalid ID "abc"`},
		{"negative id", []string{"streams", "start", "--", "-3"}, key, `invalid ID "-3"`},
		{"update nothing", []string{"widgets", "update", "3"}, key, "nothing to update"},
		{"update conflict", []string{"widgets", "update", "3", "--no-webhook-hosts", "--webhook-host", "h"}, key, "conflicts"},
		{"bad expiry", []string{"keys", "accesstoken", "--expiry", "0"}, key, "invalid --expiry 0"},
		{"bad expiry type", []string{"keys", "accesstoken", "--expiry", "soon"}, key, "invalid value"},
		{"publish no widget key", []string{"publish", "15", "--message", "hi"}, nil, "publish: --widget-key is required"},
		{"publish bad type", []string{"publish", "15", "--widget-key", "k", "--type", "shout"}, nil, `invalid --type "shout"`},
		{"publish private without to", []string{"publish", "15", "--widget-key", "k", "--type", "private", "--message", "x"}, nil, "--to is required"},
		{"publish to without private", []string{"publish", "15", "--widget-key", "k", "--to", "u", "--message", "x"}, nil, "--to is only valid"},
		{"publish no message", []string{"publish", "15", "--widget-key", "k"}, nil, "--message is required for a broadcast"},
		{"publish bad stream", []string{"publish", "x", "--widget-key", "k"}, nil, `invalid ID "x"`},
		{"tail no stream", []string{"tail"}, nil, "tail: expected STREAM"},
		{"help", []string{"help"}, nil, ""},
		{"-h", []string{"-h"}, nil, ""},
		{"command -h", []string{"streams", "create", "-h"}, nil, ""},
		{"group help", []string{"widgets"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(tt.args, tt.environ)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("no error, want %q", tt.wantErr)
			case err != nil && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("error %q, want it to contain %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Fatalf("error is not a single line: %q", err)
			}
		})
	}
}

func TestHelpListsAllCommands(t *testing.T) {
	out, _, err := run([]string{"help"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") && !strings.Contains(out, "  "+c.name+"\n") {
			t.Errorf("usage lacks %q", c.name)
		}
	}
	for _, f := range []string{"--server", "--api-key", "--json"} {
		if !strings.Contains(out, f) {
			t.Errorf("usage lacks %s", f)
		}
	}
	group, _, _ := run([]string{"widgets", "help"}, nil)
	if !strings.Contains(group, "widgets key") || strings.Contains(group, "streams create") {
		t.Errorf("group usage:\n%s", group)
	}
}

func TestUsageDoesNotPrintAPIKey(t *testing.T) {
	_, stderr, err := run([]string{"streams", "list", "-h"}, map[string]string{"TIDINGS_API_KEY": "tdk_secret"})
	if err != nil || !strings.Contains(stderr, "-api-key") || strings.Contains(stderr, "tdk_secret") {
		t.Errorf("err %v, usage:\n%s", err, stderr)
	}
}

func TestParseMessage(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1, "b": [1, 2]}`, `{"a":1,"b":[1,2]}`},
		{`[1, 2]`, `[1,2]`},
		{`42`, `42`},
		{` 42 `, `42`},
		{`true`, `true`},
		{`null`, `null`},
		{`"quoted"`, `"quoted"`},
		{`hello world`, `"hello world"`},
		{``, `""`},
		{`{"a":`, `"{\"a\":"`},
		{`say "hi"`, `"say \"hi\""`},
		{"multi\nline", `"multi\nline"`},
	}
	for _, tt := range tests {
		if got := string(parseMessage(tt.in)); got != tt.want {
			t.Errorf("parseMessage(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantN   string
		wantB   bool
	}{
		{[]string{"5"}, []string{"5"}, "", false},
		{[]string{"5", "--name", "x", "--json"}, []string{"5"}, "x", true},
		{[]string{"--json", "5", "6", "--name=y"}, []string{"5", "6"}, "y", true},
		{[]string{"--name", "z", "--", "--json", "7"}, []string{"--json", "7"}, "z", false},
		{nil, nil, "", false},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		n := fs.String("name", "", "")
		b := fs.Bool("json", false, "")
		pos, err := parse(fs, tt.args)
		if err != nil || !reflect.DeepEqual(pos, tt.wantPos) || *n != tt.wantN || *b != tt.wantB {
			t.Errorf("parse(%q) = %q, %v (name %q json %v)", tt.args, pos, err, *n, *b)
		}
	}
}

func TestGlobalFlagDefaults(t *testing.T) {
	tests := []struct {
		args    []string
		environ map[string]string
		server  string
		key     string
		json    bool
	}{
		{nil, nil, DefaultServer, "", false},
		{nil, map[string]string{"TIDINGS_SERVER": "http://s", "TIDINGS_API_KEY": "k"}, "http://s", "k", false},
		{[]string{"--server", "http://f", "--api-key", "f", "--json"}, map[string]string{"TIDINGS_SERVER": "http://s"}, "http://f", "f", true},
	}
	for _, tt := range tests {
		e := &env{stderr: io.Discard, server: tt.environ["TIDINGS_SERVER"], apiKey: tt.environ["TIDINGS_API_KEY"]}
		if e.server == "" {
			e.server = DefaultServer
		}
		fs := e.flagSet("x", "")
		if _, err := parse(fs, tt.args); err != nil {
			t.Fatal(err)
		}
		if e.server != tt.server || e.apiKey != tt.key || e.jsonOut != tt.json {
			t.Errorf("args %q: server %q key %q json %v", tt.args, e.server, e.apiKey, e.jsonOut)
		}
	}
}

func TestFormatEventAndIsReply(t *testing.T) {
	env := client.Envelope{Type: "broadcast", AuthorID: "u7", Message: json.RawMessage("{ \"a\" : 1 }")}
	if got := formatEvent(env); got != `broadcast u7 {"a":1}` {
		t.Errorf("formatEvent = %q", got)
	}
	if got := formatEvent(client.Envelope{Type: "system"}); got != "system - null" {
		t.Errorf("formatEvent = %q", got)
	}
	tests := []struct {
		env  client.Envelope
		want bool
	}{
		{client.Envelope{Type: "private", ToUserID: "me"}, true},
		{client.Envelope{Type: "request", AuthorID: "0"}, true},
		{client.Envelope{Type: "request", AuthorID: "me"}, false},
		{client.Envelope{Type: "broadcast", AuthorID: "0"}, false},
		{client.Envelope{Type: "private", ToUserID: "other"}, false},
	}
	for _, tt := range tests {
		if got := isReply(tt.env, "me"); got != tt.want {
			t.Errorf("isReply(%+v) = %v", tt.env, got)
		}
	}
}
