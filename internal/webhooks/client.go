package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrRedirectRefused is wrapped by the error of a call whose receiver
// redirected it too often, or to a URL the widget may not call.
var ErrRedirectRefused = errors.New("webhooks: redirect refused")

// caller makes webhook requests. Every connection goes through the guard;
// every limit is bounded.
type caller struct {
	transport *http.Transport
	timeout   time.Duration
	maxBody   int64
	redirects int
}

func newCaller(g *Guard, timeout time.Duration, maxBody int64, redirects int) *caller {
	dialer := &net.Dialer{
		Timeout:   min(timeout, 5*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   g.Control,
	}
	return &caller{
		transport: &http.Transport{
			// Never a proxy, whatever the environment says: it would
			// connect on our behalf, past the guard.
			Proxy:                  nil,
			DialContext:            dialer.DialContext,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    min(timeout, 5*time.Second),
			ResponseHeaderTimeout:  timeout,
			MaxResponseHeaderBytes: 32 << 10,
			MaxIdleConns:           100,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        60 * time.Second,
			// We never ask for gzip, so a compressed answer cannot
			// expand past the body bound behind our back.
			DisableCompression: true,
		},
		timeout:   timeout,
		maxBody:   maxBody,
		redirects: redirects,
	}
}

// response is a receiver's answer, its body cut at the caller's bound.
type response struct {
	status    int
	body      []byte
	truncated bool
	json      bool // Content-Type says JSON
}

// post sends body to target with header. allowed vets every redirect's URL
// (the guard vets every connection). The whole exchange, redirects and
// reading the body included, is bounded by the caller's timeout.
func (c *caller) post(ctx context.Context, target string, header http.Header, body []byte, allowed func(*url.URL) error) (response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("webhooks: request: %w", err)
	}
	req.Header = header
	hc := &http.Client{
		Transport: c.transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > c.redirects {
				return fmt.Errorf("%w: more than %d redirects", ErrRedirectRefused, c.redirects)
			}
			if err := allowed(req.URL); err != nil {
				return fmt.Errorf("%w: %w", ErrRedirectRefused, err)
			}
			return nil
		},
	}
	resp, err := hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	// Read one byte past the bound to know whether there was more; the
	// rest is never read (closing drops the connection).
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return response{}, fmt.Errorf("webhooks: reading the answer: %w", err)
	}
	r := response{status: resp.StatusCode, body: b}
	if int64(len(b)) > c.maxBody {
		r.body, r.truncated = b[:c.maxBody], true
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		r.json = mt == "application/json" || strings.HasSuffix(mt, "+json")
	}
	return r, nil
}

// close drops idle connections.
func (c *caller) close() { c.transport.CloseIdleConnections() }

// permanent reports whether a failed call would fail the same way again.
func permanent(err error) bool {
	return errors.Is(err, ErrRefused) || errors.Is(err, ErrRedirectRefused)
}

// retryable reports whether a receiver's status asks for another attempt.
func retryable(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// describe turns a failed call into text for the requester: what went
// wrong, without internal addresses or other details of our network.
func describe(err error) string {
	var ne net.Error
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, ErrRefused):
		return "refused: the host resolves to an address webhooks may not call (private, loopback, link-local or reserved)"
	case errors.Is(err, ErrRedirectRefused):
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return strings.TrimPrefix(err.Error(), "webhooks: ")
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.As(err, &dnsErr):
		return "the host name could not be resolved"
	case strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		return "the TLS handshake failed"
	case strings.Contains(err.Error(), "reading the answer"):
		return "the answer could not be read"
	}
	return "the connection failed"
}
