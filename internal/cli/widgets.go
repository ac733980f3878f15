package cli

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidings/tidings/client"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// widgetsCreate implements "widgets create".
func widgetsCreate(e *env, args []string) error {
	fs := e.flagSet("widgets create", "--name N [--summary S] [--description D] [--webhook-host H]...")
	var p client.CreateWidgetParams
	var hosts stringList
	fs.StringVar(&p.Name, "name", "", "widget name (required)")
	fs.StringVar(&p.Summary, "summary", "", "one-line summary")
	fs.StringVar(&p.Description, "description", "", "description")
	fs.Var(&hosts, "webhook-host", "allowed webhook `host` (repeatable)")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	if p.Name == "" {
		return errors.New("--name is required")
	}
	p.WebhookHosts = hosts
	c, err := e.client(true)
	if err != nil {
		return err
	}
	w, err := c.CreateWidget(e.ctx, p)
	if err != nil {
		return err
	}
	return e.printWidget(w)
}

// widgetsList implements "widgets list".
func widgetsList(e *env, args []string) error {
	fs := e.flagSet("widgets list", "")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	ws, err := c.ListWidgets(e.ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, nonNil(ws))
	}
	return e.widgetTable(ws)
}

// widgetsGet implements "widgets get ID".
func widgetsGet(e *env, args []string) error {
	c, id, err := e.idCommand("widgets get", args)
	if err != nil {
		return err
	}
	w, err := c.GetWidget(e.ctx, id)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, w)
	}
	return details(e.stdout, [][2]string{
		{"ID", strconv.FormatInt(w.ID, 10)},
		{"Name", w.Name},
		{"Summary", w.Summary},
		{"Description", w.Description},
		{"Key", w.Key},
		{"Webhook hosts", orDash(strings.Join(w.WebhookHosts, ", "))},
		{"Webhook secret", orDash(w.WebhookSecret)},
		{"Created at", fmtTime(w.CreatedAt)},
		{"Updated at", fmtTime(w.UpdatedAt)},
	})
}

// widgetsUpdate implements "widgets update ID".
func widgetsUpdate(e *env, args []string) error {
	fs := e.flagSet("widgets update", "ID [--name N] [--summary S] [--description D] [--webhook-host H]... [--no-webhook-hosts]")
	name := fs.String("name", "", "new name")
	summary := fs.String("summary", "", "new summary")
	description := fs.String("description", "", "new description")
	var hosts stringList
	fs.Var(&hosts, "webhook-host", "allowed webhook `host`; replaces the list (repeatable)")
	noHosts := fs.Bool("no-webhook-hosts", false, "remove all webhook hosts")
	pos, err := parseWithArgs(fs, args, "ID")
	if err != nil {
		return err
	}
	id, err := parseID(pos[0])
	if err != nil {
		return err
	}
	p, err := updateParams(fs, *name, *summary, *description, hosts, *noHosts)
	if err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	w, err := c.UpdateWidget(e.ctx, id, p)
	if err != nil {
		return err
	}
	if w == nil {
		w, err = c.GetWidget(e.ctx, id)
		if err != nil {
			return err
		}
	}
	return e.printWidget(w)
}

// updateParams builds a partial update from the flags that were set.
func updateParams(fs *flag.FlagSet, name, summary, description string, hosts []string, noHosts bool) (client.UpdateWidgetParams, error) {
	var p client.UpdateWidgetParams
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name":
			p.Name = new(name)
		case "summary":
			p.Summary = new(summary)
		case "description":
			p.Description = new(description)
		}
	})
	switch {
	case noHosts && len(hosts) > 0:
		return p, errors.New("--no-webhook-hosts conflicts with --webhook-host")
	case noHosts:
		p.WebhookHosts = new([]string{})
	case len(hosts) > 0:
		p.WebhookHosts = new([]string(hosts))
	}
	if p == (client.UpdateWidgetParams{}) {
		return p, errors.New("nothing to update: pass --name, --summary, --description, --webhook-host or --no-webhook-hosts")
	}
	return p, nil
}

// widgetsDelete implements "widgets delete ID".
func widgetsDelete(e *env, args []string) error {
	c, id, err := e.idCommand("widgets delete", args)
	if err != nil {
		return err
	}
	if err := c.DeleteWidget(e.ctx, id); err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, map[string]any{"id": id, "deleted": true})
	}
	_, err = fmt.Fprintf(e.stdout, "deleted widget %d\n", id)
	return err
}

// widgetsKey implements "widgets key ID".
func widgetsKey(e *env, args []string) error {
	c, id, err := e.idCommand("widgets key", args)
	if err != nil {
		return err
	}
	w, err := c.RegenerateWidgetKey(e.ctx, id)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, w)
	}
	_, err = fmt.Fprintln(e.stdout, w.Key)
	return err
}

// widgetsWebhookSecret implements "widgets webhook-secret ID".
func widgetsWebhookSecret(e *env, args []string) error {
	c, id, err := e.idCommand("widgets webhook-secret", args)
	if err != nil {
		return err
	}
	w, err := c.RegenerateWebhookSecret(e.ctx, id)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, w)
	}
	_, err = fmt.Fprintln(e.stdout, w.WebhookSecret)
	return err
}

// printWidget prints one widget as a one-row table or a JSON object.
func (e *env) printWidget(w *client.Widget) error {
	if e.jsonOut {
		return printJSON(e.stdout, w)
	}
	return e.widgetTable([]client.Widget{*w})
}

// widgetTable prints widgets as a table.
func (e *env) widgetTable(ws []client.Widget) error {
	rows := [][]string{{"ID", "NAME", "SUMMARY", "KEY", "WEBHOOK HOSTS"}}
	for _, w := range ws {
		rows = append(rows, []string{
			strconv.FormatInt(w.ID, 10), orDash(w.Name), orDash(w.Summary), orDash(w.Key),
			orDash(strings.Join(w.WebhookHosts, ",")),
		})
	}
	return table(e.stdout, rows)
}
