// Package widgets owns registered widgets and their keys. Every publish
// carries a widget key; a key is valid while its widget exists and has not
// been given a new key. Records live in a replicated bucket, mirrored on
// every node with an index by key, so checking a key costs a map lookup.
package widgets
