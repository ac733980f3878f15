package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tidings/tidings/client"
)

// streamsCreate implements "streams create".
func streamsCreate(e *env, args []string) error {
	fs := e.flagSet("streams create", "--name N [--slug S] [--description D]")
	var p client.CreateStreamParams
	fs.StringVar(&p.Name, "name", "", "stream name (required)")
	fs.StringVar(&p.Slug, "slug", "", "URL slug")
	fs.StringVar(&p.Description, "description", "", "description")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	if p.Name == "" {
		return errors.New("--name is required")
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	s, err := c.CreateStream(e.ctx, p)
	if err != nil {
		return err
	}
	return e.printStream(s)
}

// streamsList implements "streams list".
func streamsList(e *env, args []string) error {
	fs := e.flagSet("streams list", "")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	ss, err := c.ListStreams(e.ctx)
	if err != nil {
		return err
	}
	return e.printStreams(ss)
}

// streamsGet implements "streams get ID".
func streamsGet(e *env, args []string) error {
	c, id, err := e.idCommand("streams get", args)
	if err != nil {
		return err
	}
	s, err := c.GetStream(e.ctx, id)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, s)
	}
	return details(e.stdout, [][2]string{
		{"ID", strconv.FormatInt(s.ID, 10)},
		{"Name", s.Name},
		{"Slug", s.Slug},
		{"Description", s.Description},
		{"State", string(s.State)},
		{"Start", fmtTimePtr(s.StartDate)},
		{"End", fmtTimePtr(s.EndDate)},
		{"Created by", orDash(s.CreatedBy)},
		{"Created at", fmtTime(s.CreatedAt)},
		{"Updated by", orDash(s.UpdatedBy)},
		{"Updated at", fmtTime(s.UpdatedAt)},
	})
}

// streamsAction returns the implementation of "streams prepare|start|end".
func streamsAction(action string) func(e *env, args []string) error {
	return func(e *env, args []string) error {
		c, id, err := e.idCommand("streams "+action, args)
		if err != nil {
			return err
		}
		do := map[string]func() (*client.Stream, error){
			"prepare": func() (*client.Stream, error) { return c.PrepareStream(e.ctx, id) },
			"start":   func() (*client.Stream, error) { return c.StartStream(e.ctx, id) },
			"end":     func() (*client.Stream, error) { return c.EndStream(e.ctx, id) },
		}[action]
		s, err := do()
		if err != nil {
			return err
		}
		if s == nil {
			// The server confirmed without returning the stream.
			if e.jsonOut {
				return printJSON(e.stdout, map[string]any{"id": id, "action": action, "ok": true})
			}
			_, err := fmt.Fprintf(e.stdout, "stream %d: %s OK\n", id, action)
			return err
		}
		return e.printStream(s)
	}
}

// printStream prints one stream as a one-row table or a JSON object.
func (e *env) printStream(s *client.Stream) error {
	if e.jsonOut {
		return printJSON(e.stdout, s)
	}
	return e.streamTable([]client.Stream{*s})
}

// printStreams prints streams as a table or a JSON array.
func (e *env) printStreams(ss []client.Stream) error {
	if e.jsonOut {
		return printJSON(e.stdout, nonNil(ss))
	}
	return e.streamTable(ss)
}

// streamTable prints streams as a table.
func (e *env) streamTable(ss []client.Stream) error {
	rows := [][]string{{"ID", "NAME", "SLUG", "STATE", "START", "END"}}
	for _, s := range ss {
		rows = append(rows, []string{
			strconv.FormatInt(s.ID, 10), orDash(s.Name), orDash(s.Slug), string(s.State),
			fmtTimePtr(s.StartDate), fmtTimePtr(s.EndDate),
		})
	}
	return table(e.stdout, rows)
}
