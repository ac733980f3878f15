// Package examples embeds the example apps (live chat, banner and its logs
// page) so the server can serve them under /examples/. The files in this
// folder are the source: plain HTML and ES modules, no build step.
package examples

import "embed"

// Files holds the examples' pages, scripts and styles.
//
//go:embed index.html shared live-chat banner
var Files embed.FS
