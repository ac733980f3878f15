package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// StreamState is the lifecycle state of a stream. A stream moves
// created → prepared → live → ended.
type StreamState string

// The stream states reported by the server.
const (
	StreamCreated  StreamState = "created"
	StreamPrepared StreamState = "prepared"
	StreamLive     StreamState = "live"
	StreamEnded    StreamState = "ended"
)

// Stream is a channel that viewers subscribe to, as returned by the
// management API. StartDate and EndDate are nil until the stream has
// started or ended.
type Stream struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Slug        string      `json:"slug"`
	Description string      `json:"description"`
	State       StreamState `json:"state"`
	StartDate   *time.Time  `json:"start_date"`
	EndDate     *time.Time  `json:"end_date"`
	CreatedBy   string      `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedBy   string      `json:"updated_by"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// CreateStreamParams are the fields of a new stream. Name is required;
// empty Slug and Description are left for the server to default.
type CreateStreamParams struct {
	Name        string `json:"name"`
	Slug        string `json:"slug,omitempty"`
	Description string `json:"description,omitempty"`
}

// CreateStream creates a stream (POST /v1/streams/create) and returns it
// as stored by the server, in state "created".
func (c *Client) CreateStream(ctx context.Context, p CreateStreamParams) (*Stream, error) {
	var s Stream
	err := c.do(ctx, call{method: http.MethodPost, path: "/v1/streams/create", body: p, out: &s})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// ListStreams returns the streams visible to the API key
// (GET /v1/streams). An empty list is returned as a nil slice.
func (c *Client) ListStreams(ctx context.Context) ([]Stream, error) {
	var ss []Stream
	if err := c.do(ctx, call{method: http.MethodGet, path: "/v1/streams", out: &ss}); err != nil {
		return nil, err
	}
	return ss, nil
}

// GetStream returns the stream with the given id (GET /v1/streams/{id}).
// A missing stream is an [*Error] with status 404.
func (c *Client) GetStream(ctx context.Context, id int64) (*Stream, error) {
	var s Stream
	if err := c.do(ctx, call{method: http.MethodGet, path: streamPath(id, ""), out: &s}); err != nil {
		return nil, err
	}
	return &s, nil
}

// PrepareStream moves a stream to state "prepared"
// (POST /v1/streams/{id}/prepare). It returns the updated stream, or nil
// with a nil error if the server's success response carried no data.
func (c *Client) PrepareStream(ctx context.Context, id int64) (*Stream, error) {
	return c.streamAction(ctx, id, "prepare")
}

// StartStream moves a stream to state "live" (POST /v1/streams/{id}/start).
// It returns the updated stream, or nil with a nil error if the server's
// success response carried no data.
func (c *Client) StartStream(ctx context.Context, id int64) (*Stream, error) {
	return c.streamAction(ctx, id, "start")
}

// EndStream moves a stream to state "ended" (POST /v1/streams/{id}/end).
// It returns the updated stream, or nil with a nil error if the server's
// success response carried no data.
func (c *Client) EndStream(ctx context.Context, id int64) (*Stream, error) {
	return c.streamAction(ctx, id, "end")
}

// streamAction posts a bodiless state transition.
func (c *Client) streamAction(ctx context.Context, id int64, action string) (*Stream, error) {
	var s *Stream
	if err := c.do(ctx, call{method: http.MethodPost, path: streamPath(id, action), out: &s}); err != nil {
		return nil, err
	}
	return s, nil
}

// streamPath returns /v1/streams/{id}[/action].
func streamPath(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/v1/streams/%d", id)
	}
	return fmt.Sprintf("/v1/streams/%d/%s", id, action)
}
