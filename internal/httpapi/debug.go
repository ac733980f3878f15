package httpapi

import (
	"net"
	"net/http"
	"runtime"

	"github.com/tidings/tidings/internal/accounts"
	"github.com/tidings/tidings/internal/fault"
)

// debugVars serves GET /debug/vars: process figures for operators and the
// load tool. Loopback callers need no key; others need the admin's.
func (a *API) debugVars(w http.ResponseWriter, r *http.Request) {
	if !isLoopback(r.RemoteAddr) {
		p, err := a.principal(r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		if p.Account != accounts.AdminID {
			a.writeError(w, r, fault.New(fault.ErrForbidden, "only the admin account may read /debug/vars"))
			return
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	vars := map[string]any{
		"goroutines":       runtime.NumGoroutine(),
		"heap_inuse":       ms.HeapInuse,
		"heap_objects":     ms.HeapObjects,
		"stack_inuse":      ms.StackInuse,
		"sys":              ms.Sys,
		"gc_cycles":        ms.NumGC,
		"slow_disconnects": a.cfg.Channel.Stats().SlowDisconnects,
	}
	if a.cfg.SSE != nil {
		vars["sse_connections"] = a.cfg.SSE.Len()
	}
	writeJSON(w, http.StatusOK, vars)
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
