// Package client is a Go client for the Tidings HTTP API.
//
// Tidings serves real-time channels ("streams") over Server-Sent Events.
// The API has two halves, and this package covers both:
//
//   - The management API under /v1 (streams, widgets, accounts, app keys
//     and access tokens). Every call is authenticated with the API key set
//     by [WithAPIKey], sent as "Authorization: Bearer <key>".
//   - The channel API (/subscribe and /publish), which needs no API key.
//     [Client.Subscribe] opens an SSE stream and yields [Envelope] values
//     through [Subscription.Next]; the first event of a fresh subscription
//     is an "init" envelope carrying the viewer token that
//     [Client.Publish] and the [Subscription] helpers use to publish.
//
// Every non-2xx response is returned as an [*Error] carrying the HTTP
// status, the API's error code and message, and the response headers.
// Use [IsStatus] and [IsAccessTokenExpired] to classify errors.
//
// A minimal session:
//
//	c := client.New("http://127.0.0.1:8080", client.WithAPIKey(key))
//	st, err := c.CreateStream(ctx, client.CreateStreamParams{Name: "My show"})
//	...
//	sub, err := c.Subscribe(ctx, st.ID)
//	defer sub.Close()
//	err = sub.Broadcast(ctx, widgetKey, map[string]string{"text": "hello"})
//	env, err := sub.Next(ctx)
//
// The package also exports a standalone Server-Sent Events parser,
// [EventReader], usable on any io.Reader.
//
// A [Client] is safe for concurrent use by multiple goroutines.
package client
