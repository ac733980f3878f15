package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tidings/tidings/client"
)

// DefaultServer is the server URL used when neither --server nor
// TIDINGS_SERVER is set.
const DefaultServer = "http://127.0.0.1:8080"

// errNoAPIKey is returned by management commands run without a key.
var errNoAPIKey = errors.New("no API key: set TIDINGS_API_KEY or pass --api-key")

// command is one CLI command.
type command struct {
	name     string // "streams create", "tail"
	synopsis string // arguments, e.g. "ID"
	summary  string
	run      func(e *env, args []string) error
}

// commands returns every command in usage order.
func commands() []command {
	return []command{
		{"streams create", "--name N [--slug S] [--description D]", "create a stream", streamsCreate},
		{"streams list", "", "list streams", streamsList},
		{"streams get", "ID", "show a stream", streamsGet},
		{"streams prepare", "ID", "move a stream to prepared", streamsAction("prepare")},
		{"streams start", "ID", "move a stream to live", streamsAction("start")},
		{"streams end", "ID", "move a stream to ended", streamsAction("end")},
		{"widgets create", "--name N [--summary S] [--description D] [--webhook-host H]...", "create a widget", widgetsCreate},
		{"widgets list", "", "list widgets", widgetsList},
		{"widgets get", "ID", "show a widget", widgetsGet},
		{"widgets update", "ID [--name N] [--summary S] [--description D] [--webhook-host H]... [--no-webhook-hosts]", "change a widget", widgetsUpdate},
		{"widgets delete", "ID", "delete a widget", widgetsDelete},
		{"widgets key", "ID", "regenerate a widget key and print it", widgetsKey},
		{"widgets webhook-secret", "ID", "regenerate a widget's webhook signing secret and print it", widgetsWebhookSecret},
		{"accounts create", "--name N", "create an account (admin key); prints its id and key", accountsCreate},
		{"accounts list", "", "list accounts (admin key)", accountsList},
		{"keys create", "[--name N]", "create an API key; prints it once", keysCreate},
		{"keys list", "", "list API keys", keysList},
		{"keys delete", "ID", "revoke an API key", keysDelete},
		{"keys accesstoken", "[--expiry SECONDS]", "mint a short-lived access token", keysAccessToken},
		{"publish", "STREAM --widget-key K [--type broadcast|private|request|webhook] [--to USER] [--message JSON|TEXT] [--idempotency-key K] [--timeout D]", "publish a message (prints the reply to a request or the result of a webhook)", publish},
		{"tail", "STREAM [--last-event-id ID]", "print the events of a stream as they arrive", tail},
	}
}

// env is the state shared by one Run: I/O and the global flag values.
type env struct {
	ctx     context.Context
	stdout  io.Writer
	stderr  io.Writer
	server  string
	apiKey  string
	jsonOut bool
}

// Run executes the command named by args, the words after the program
// name (for example ["streams", "get", "15"]). Global flags --server,
// --api-key and --json are accepted before the command and by every
// command; their defaults come from getenv("TIDINGS_SERVER") (else
// [DefaultServer]) and getenv("TIDINGS_API_KEY"). A nil getenv means an
// empty environment.
//
// Results go to stdout, diagnostics (flag errors, usage on -h) to
// stderr. Run returns nil on success, after help was printed, and when
// tail ends because ctx is done or the server closed the stream;
// otherwise it returns a single-line error prefixed with the command
// name (for example "streams get: tidings: 404 stream 99 not found"),
// which the caller should print. Run does not handle "serve".
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr, server: getenv("TIDINGS_SERVER"), apiKey: getenv("TIDINGS_API_KEY")}
	if e.server == "" {
		e.server = DefaultServer
	}
	if len(args) > 0 && isHelp(args[0]) {
		printUsage(stdout, "")
		return nil
	}
	root := e.flagSet("", "COMMAND [ARGS]")
	root.Usage = func() { printUsage(stderr, "") }
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	args = root.Args()
	if len(args) == 0 {
		printUsage(stderr, "")
		return errors.New(`no command given (run "tidings help" for usage)`)
	}
	if isHelp(args[0]) {
		printUsage(stdout, "")
		return nil
	}
	cmd, rest, err := lookup(args)
	if err != nil {
		return err
	}
	if err := cmd.run(e, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%s: %w", cmd.name, err)
	}
	return nil
}

// lookup finds the command named by the first one or two words of args
// and returns it with the remaining arguments.
func lookup(args []string) (command, []string, error) {
	cmds := commands()
	for _, c := range cmds {
		if c.name == args[0] {
			return c, args[1:], nil
		}
	}
	group := false
	for _, c := range cmds {
		if g, _, ok := strings.Cut(c.name, " "); ok && g == args[0] {
			group = true
			if len(args) > 1 && c.name == args[0]+" "+args[1] {
				return c, args[2:], nil
			}
		}
	}
	switch {
	case group && (len(args) == 1 || isHelp(args[1])):
		return command{name: args[0], run: func(e *env, _ []string) error {
			printUsage(e.stdout, args[0])
			return flag.ErrHelp
		}}, nil, nil
	case group:
		return command{}, nil, fmt.Errorf("unknown command %q (run \"tidings help\" for usage)", args[0]+" "+args[1])
	default:
		return command{}, nil, fmt.Errorf("unknown command %q (run \"tidings help\" for usage)", args[0])
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// printUsage lists all commands, or those of one group, on w.
func printUsage(w io.Writer, group string) {
	fmt.Fprintln(w, "Usage: tidings [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		if group != "" && !strings.HasPrefix(c.name, group+" ") {
			continue
		}
		fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace(c.name+" "+c.synopsis), c.summary)
	}
	fmt.Fprintln(w, "  help\n        show this help")
	fmt.Fprintln(w, "\nGlobal flags (accepted by every command):")
	fmt.Fprintf(w, "  --server URL     server URL (default $TIDINGS_SERVER, else %s)\n", DefaultServer)
	fmt.Fprintln(w, "  --api-key KEY    API key for management commands (default $TIDINGS_API_KEY)")
	fmt.Fprintln(w, "  --json           print raw JSON instead of a table")
}

// flagSet returns a FlagSet for a command with the global flags
// registered, defaulting to their current values.
func (e *env) flagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("tidings "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.server, "server", e.server, "server `URL`")
	// The key's current value is kept but not shown as the default in
	// usage output, so that it is never printed.
	key := e.apiKey
	fs.StringVar(&e.apiKey, "api-key", "", "API `key` for management commands (default $TIDINGS_API_KEY)")
	e.apiKey = key
	fs.BoolVar(&e.jsonOut, "json", e.jsonOut, "print raw JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: tidings %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args with fs, allowing flags after positional arguments,
// and returns the positional arguments. Everything after "--" is
// positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseWithArgs parses args with fs and checks that exactly the named
// positional arguments were given.
func parseWithArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(names) {
		if len(names) == 0 {
			return nil, fmt.Errorf("unexpected argument %q", pos[0])
		}
		return nil, fmt.Errorf("expected %s, got %d argument(s)", strings.Join(names, " "), len(pos))
	}
	return pos, nil
}

// idCommand parses the flags of a command whose only argument is an "ID"
// (a stream or widget) and returns a management client.
func (e *env) idCommand(name string, args []string) (*client.Client, int64, error) {
	fs := e.flagSet(name, "ID")
	pos, err := parseWithArgs(fs, args, "ID")
	if err != nil {
		return nil, 0, err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return nil, 0, err
	}
	c, err := e.client(true)
	return c, id, err
}

// parseID parses a numeric stream or widget id.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("invalid ID %q: want a positive integer", s)
	}
	return id, nil
}

// client returns an API client for the global flags; needKey makes a
// missing API key an error.
func (e *env) client(needKey bool) (*client.Client, error) {
	if needKey && e.apiKey == "" {
		return nil, errNoAPIKey
	}
	return client.New(e.server, client.WithAPIKey(e.apiKey)), nil
}
