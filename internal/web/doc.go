// Package web owns what a node serves to browsers besides the channel and
// the API: the landing page at /, the browser SDK at /sdk/ and the example
// apps at /examples/. The SDK and the examples are embedded files (packages
// sdkjs and examples); the landing page and /examples/config.js are made per
// request so that, under --demo, the examples open on the demo stream.
//
// Nothing here ever sees an application key: a page may show the demo's
// stream id and widget key (both are meant to be in client code), never the
// key that manages the server.
package web
