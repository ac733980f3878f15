// Package engine owns Tidings' use of NATS JetStream, and is the only package
// that imports NATS.
//
// One code path serves both deployments: with no URL the engine starts a NATS
// server inside the process (JetStream file store under the data directory,
// no TCP port unless asked) and connects to it in-process; with a URL it
// connects to an external NATS cluster that many Tidings nodes share.
//
// It provides: the message stream (broadcast and private messages of every
// Tidings stream, their history and the node-wide ordered tail that feeds
// local fan-out), KV buckets for metadata (store.Bucket), durable work queues
// with dead letters (store.Queue, for webhook calls), and core NATS subjects
// for ephemeral signals such as presence.
package engine
