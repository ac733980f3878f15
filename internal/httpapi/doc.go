// Package httpapi owns Tidings' HTTP surface: the channel endpoints of the
// Real-Time Widget API (/subscribe, /publish), the management API (/v1),
// health checks, CORS, and the one table that turns domain errors into
// {"code","message"} responses. Handlers decode, call the domain, encode:
// the rules live in the domain packages.
package httpapi
