// Package cli implements the "tidings" management command line on top of
// package [github.com/tidings/tidings/client].
//
// [Run] executes one command given as words, for example
//
//	tidings streams create --name "My show"
//	tidings widgets update 3 --webhook-host hooks.example.com
//	tidings publish 15 --widget-key K --message '{"text":"hi"}'
//	tidings tail 15
//
// Commands: streams (create, list, get, prepare, start, end), widgets
// (create, list, get, update, delete, key), accounts (create, list), keys
// (create, list, delete, accesstoken), publish, tail and help. "tidings
// help" prints the full usage.
//
// Every command accepts the global flags --server (default
// $TIDINGS_SERVER, else [DefaultServer]), --api-key (default
// $TIDINGS_API_KEY; required by the management commands) and --json
// (print JSON instead of tables). Flags may come before or after
// positional arguments. The "serve" command is not handled here; the
// program's main dispatches it before calling Run.
package cli
