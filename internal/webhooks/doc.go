// Package webhooks owns the "webhook" message type: a widget asks the server
// to call a third-party URL, and the answer comes back to the requester over
// the channel.
//
// It owns the whole path of such a call and what keeps it safe:
//
//   - at publish, the URL check (https, unless the operator allows http;
//     a host on the widget's allow-list) and the per-widget rate limit;
//   - the durable queue of deliveries (a store.Queue the engine provides),
//     retried with exponential backoff on timeouts, 429 and 5xx, with a
//     dead-letter record once the attempts are spent;
//   - the outbound HTTP client: no proxy, an IP guard checked at connect time
//     (so DNS rebinding and redirects cannot reach private, loopback or
//     metadata addresses), bounded timeouts, redirects and response size;
//   - request signing (HMAC-SHA256 with the widget's webhook secret) and
//     Verify, which receivers can use;
//   - counters for delivered, retried, failed and refused calls.
//
// The result is handed to a Results sink (the channel service), which
// stores it as a private message to the requester, so every node routes it
// and a resuming client replays it.
package webhooks
