package httpapi

import (
	"net/http"
	"time"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/fault"
)

func (a *API) createAccessToken(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	in := struct {
		ExpirySeconds int64 `json:"expiry_seconds"`
	}{ExpirySeconds: 3600}
	if err := a.decode(r, &in); err != nil {
		return err
	}
	tok, exp, err := a.cfg.Accounts.AccessToken(p, time.Duration(in.ExpirySeconds)*time.Second)
	if err != nil {
		return err
	}
	writeOK(w, map[string]any{"token": tok, "expires_at": exp.UTC(), "expiry_seconds": in.ExpirySeconds})
	return nil
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := a.decode(r, &in); err != nil {
		return err
	}
	k, secret, err := a.cfg.Accounts.CreateKey(r.Context(), p.Account, in.Name)
	if err != nil {
		return err
	}
	writeOK(w, map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "created_at": k.CreatedAt, "key": secret})
	return nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	keys, err := a.cfg.Accounts.Keys(r.Context(), p.Account)
	if err != nil {
		return err
	}
	writeOK(w, keys)
	return nil
}

func (a *API) deleteKey(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	if err := a.cfg.Accounts.DeleteKey(r.Context(), p.Account, r.PathValue("id")); err != nil {
		return err
	}
	writeOK(w, nil)
	return nil
}

var errAdminOnly = fault.New(fault.ErrForbidden, "only the operator's admin account may manage accounts")

func (a *API) createAccount(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	if p.Account != accounts.AdminID {
		return errAdminOnly
	}
	var in struct {
		Name string `json:"name"`
	}
	if err := a.decode(r, &in); err != nil {
		return err
	}
	acct, key, err := a.cfg.Accounts.CreateAccount(r.Context(), in.Name)
	if err != nil {
		return err
	}
	writeOK(w, map[string]any{"account": acct, "key": key})
	return nil
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request, p accounts.Principal) error {
	if p.Account != accounts.AdminID {
		return errAdminOnly
	}
	list, err := a.cfg.Accounts.Accounts(r.Context())
	if err != nil {
		return err
	}
	writeOK(w, list)
	return nil
}
