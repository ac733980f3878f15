package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/fault"
	"github.com/tidings/tidings/internal/streams"
	"github.com/tidings/tidings/internal/widgets"
)

// decode reads a JSON request body into v. An empty body is allowed and
// leaves v as it is. The body must be exactly one JSON value: fields v does
// not have, and anything after the value but white space, are refused, so
// a typo or a botched body is not half-applied in silence.
func (a *API) decode(r *http.Request, v any) error {
	body, err := a.readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fault.Errorf(fault.ErrInvalid, "request body is not valid JSON for this call: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.ErrInvalid, "request body is not valid JSON for this call: unexpected data after the JSON value; send exactly one JSON object")
	}
	return nil
}

func (a *API) createStream(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	var in streams.CreateParams
	if err := a.decode(r, &in); err != nil {
		return err
	}
	st, err := a.cfg.Streams.Create(r.Context(), p.Account, p.Actor, in)
	if err != nil {
		return err
	}
	writeOK(w, st)
	return nil
}

func (a *API) listStreams(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	list := a.cfg.Streams.List(p.Account)
	if list == nil {
		list = []streams.Stream{}
	}
	writeOK(w, list)
	return nil
}

func (a *API) getStream(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "stream")
	if err != nil {
		return err
	}
	st, err := a.cfg.Streams.Get(p.Account, id)
	if err != nil {
		return err
	}
	writeOK(w, st)
	return nil
}

func (a *API) streamAction(act func(ctx context.Context, account, actor string, id int64) (streams.Stream, error)) func(http.ResponseWriter, *http.Request, accounts.Principal) error {
	return func(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
		id, err := pathID(r, "id", "stream")
		if err != nil {
			return err
		}
		st, err := act(r.Context(), p.Account, p.Actor, id)
		if err != nil {
			return err
		}
		writeOK(w, st)
		return nil
	}
}

func (a *API) createWidget(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	var in widgets.Params
	if err := a.decode(r, &in); err != nil {
		return err
	}
	wd, err := a.cfg.Widgets.Create(r.Context(), p.Account, in)
	if err != nil {
		return err
	}
	writeOK(w, wd)
	return nil
}

func (a *API) listWidgets(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	list := a.cfg.Widgets.List(p.Account)
	if list == nil {
		list = []widgets.Widget{}
	}
	writeOK(w, list)
	return nil
}

func (a *API) getWidget(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "widget")
	if err != nil {
		return err
	}
	wd, err := a.cfg.Widgets.Get(p.Account, id)
	if err != nil {
		return err
	}
	writeOK(w, wd)
	return nil
}

func (a *API) updateWidget(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "widget")
	if err != nil {
		return err
	}
	var in widgets.Params
	if err := a.decode(r, &in); err != nil {
		return err
	}
	wd, err := a.cfg.Widgets.Update(r.Context(), p.Account, id, in)
	if err != nil {
		return err
	}
	writeOK(w, wd)
	return nil
}

func (a *API) deleteWidget(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "widget")
	if err != nil {
		return err
	}
	if err := a.cfg.Widgets.Delete(r.Context(), p.Account, id); err != nil {
		return err
	}
	writeOK(w, nil)
	return nil
}

func (a *API) regenerateWidgetKey(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "widget")
	if err != nil {
		return err
	}
	wd, err := a.cfg.Widgets.RegenerateKey(r.Context(), p.Account, id)
	if err != nil {
		return err
	}
	writeOK(w, wd)
	return nil
}

func (a *API) regenerateWebhookSecret(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	id, err := pathID(r, "id", "widget")
	if err != nil {
		return err
	}
	wd, err := a.cfg.Widgets.RegenerateWebhookSecret(r.Context(), p.Account, id)
	if err != nil {
		return err
	}
	writeOK(w, wd)
	return nil
}
