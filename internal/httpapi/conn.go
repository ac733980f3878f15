package httpapi

import (
	"context"
	"net"
)

type connKey struct{}

// ConnContext is for http.Server.ConnContext: it makes the connection
// reachable from its requests, so the SSE handler can tune its socket.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// capSendBuffer limits the kernel send buffer of the request's TCP
// connection. Linux would otherwise grow it to megabytes for a peer that
// stopped reading.
func capSendBuffer(ctx context.Context, size int) {
	if tc, ok := ctx.Value(connKey{}).(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(size)
	}
}
