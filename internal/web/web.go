package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/tidings/tidings/examples"
	sdkjs "github.com/tidings/tidings/sdk/js"
)

// Demo is what pages may know of the demo setup.
type Demo struct {
	StreamID  int64
	WidgetKey string
}

// Config holds the Site's dependencies.
type Config struct {
	// Demo returns the demo stream and widget key the examples start with.
	// Nil when the server runs without --demo.
	Demo func(ctx context.Context) (Demo, error)
	// Logger gets the failures pages cannot show (default: discard).
	Logger *slog.Logger
}

// Site serves the landing page, the SDK and the examples.
type Site struct {
	cfg     Config
	log     *slog.Logger
	files   map[string]file // URL path → embedded file
	landing *template.Template
}

// file is one embedded file, ready to serve.
type file struct {
	body  []byte
	ctype string
	etag  string
}

// New indexes the embedded files. It panics if they are malformed, which
// only a broken build can cause.
func New(cfg Config) *Site {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Site{cfg: cfg, log: cfg.Logger, files: map[string]file{}}
	s.add("/sdk/", sdkjs.Files)
	s.add("/examples/", examples.Files)
	s.landing = template.Must(template.New("landing").Parse(landingHTML))
	return s
}

// Mount adds the site's routes to mux.
func (s *Site) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.serveLanding)
	mux.HandleFunc("GET /examples/config.js", s.serveConfig)
	mux.HandleFunc("GET /sdk/", s.serveFile)
	mux.HandleFunc("GET /examples/", s.serveFile)
}

// contentTypes covers every extension embedded here. TypeScript and Markdown
// go out as text so a browser shows them instead of downloading them (and
// ".ts" is not read as an MPEG stream).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".ts":   "text/plain; charset=utf-8",
	".md":   "text/plain; charset=utf-8",
	".png":  "image/png",
	".svg":  "image/svg+xml",
}

func (s *Site) add(prefix string, fsys fs.FS) {
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) == ".go" {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("web: no content type for %s", name)
		}
		sum := sha256.Sum256(body)
		s.files[prefix+name] = file{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
}

// serveFile serves an embedded file; a directory path serves its index.html.
func (s *Site) serveFile(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	f, ok := s.files[p]
	if !ok {
		if _, dir := s.files[p+"/index.html"]; dir {
			// Relative links in the page need the trailing slash.
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache") // revalidate: cheap with the ETag, fresh after an upgrade
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// notFound answers like the API does: JSON, never an HTML page.
func notFound(w http.ResponseWriter, r *http.Request) {
	b, _ := json.Marshal(map[string]any{"code": http.StatusNotFound, "message": "no such file: " + r.URL.Path})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(append(b, '\n'))
}
