package envelope

import (
	"encoding/json"
	"strconv"
)

// Init builds the first event of a subscription.
func Init(streamID int64, userID, token string, viewers int) Envelope {
	msg, _ := json.Marshal(struct {
		Token       string `json:"token"`
		UserID      string `json:"user_id"`
		ViewerCount int    `json:"viewer_count"`
	}{token, userID, viewers})
	return Envelope{
		StreamID: strconv.FormatInt(streamID, 10),
		AuthorID: ServerAuthor,
		ToUserID: userID,
		Message:  msg,
		Type:     TypeInit,
	}
}

// System builds a server notice for one stream. toUser is empty for notices
// meant for everyone. message must be a JSON object.
func System(streamID int64, toUser string, message any) Envelope {
	msg, _ := json.Marshal(message)
	return Envelope{
		StreamID: strconv.FormatInt(streamID, 10),
		AuthorID: ServerAuthor,
		ToUserID: toUser,
		Message:  msg,
		Type:     TypeSystem,
	}
}

// Reply builds the answer to a "request": the stored broadcasts, oldest first.
// items are complete encoded envelopes; they are embedded without re-encoding.
func Reply(streamID int64, toUser string, items [][]byte) Envelope {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	for i, it := range items {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, it...)
	}
	buf = append(buf, ']')
	return Envelope{
		StreamID: strconv.FormatInt(streamID, 10),
		AuthorID: ServerAuthor,
		ToUserID: toUser,
		Message:  buf,
		Type:     TypeRequest,
	}
}

// Encode returns the envelope as compact one-line JSON.
func (e Envelope) Encode() []byte {
	if e.Message == nil {
		e.Message = json.RawMessage("null")
	}
	b, err := json.Marshal(e)
	if err != nil {
		// Message came from a validated client body or our own Marshal;
		// anything else is a programming error.
		panic("envelope: encode: " + err.Error())
	}
	return b
}
