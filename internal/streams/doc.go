// Package streams owns live sessions: their creation, numbering, lifecycle
// (created → prepared → live → ended, ending being final) and ownership by
// an account. Records live in a replicated bucket and every node mirrors
// them in memory, so the channel checks a stream's state without a round
// trip and learns at once, through the watch, when a stream ends anywhere.
package streams
