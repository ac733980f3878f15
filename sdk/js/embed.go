// Package sdkjs embeds the Tidings browser SDK (tidings.js, its TypeScript
// declarations and its guide) so the server can serve it at /sdk/. The
// files in this folder are the source: there is no build step.
package sdkjs

import "embed"

// Files holds tidings.js, tidings.d.ts and README.md.
//
//go:embed tidings.js tidings.d.ts README.md
var Files embed.FS
