package cli

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tidings/tidings/client"
)

// accountsCreate implements "accounts create --name N".
func accountsCreate(e *env, args []string) error {
	fs := e.flagSet("accounts create", "--name N")
	name := fs.String("name", "", "account name (required)")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("--name is required")
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	a, err := c.CreateAccount(e.ctx, *name)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, a)
	}
	fmt.Fprintln(e.stderr, "Store the key now: it is not shown again.")
	return table(e.stdout, [][]string{
		{"ACCOUNT ID", "NAME", "KEY"},
		{a.Account.ID, orDash(a.Account.Name), a.Key},
	})
}

// accountsList implements "accounts list".
func accountsList(e *env, args []string) error {
	fs := e.flagSet("accounts list", "")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	as, err := c.ListAccounts(e.ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, nonNil(as))
	}
	rows := [][]string{{"ID", "NAME", "CREATED"}}
	for _, a := range as {
		rows = append(rows, []string{a.ID, orDash(a.Name), fmtTime(a.CreatedAt)})
	}
	return table(e.stdout, rows)
}

// keysCreate implements "keys create [--name N]".
func keysCreate(e *env, args []string) error {
	fs := e.flagSet("keys create", "[--name N]")
	name := fs.String("name", "", "key name")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	k, err := c.CreateKey(e.ctx, *name)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, k)
	}
	fmt.Fprintln(e.stderr, "Store the key now: it is not shown again.")
	return table(e.stdout, [][]string{
		{"ID", "NAME", "PREFIX", "KEY"},
		{k.ID, orDash(k.Name), orDash(k.Prefix), k.Key},
	})
}

// keysList implements "keys list".
func keysList(e *env, args []string) error {
	fs := e.flagSet("keys list", "")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	ks, err := c.ListKeys(e.ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, nonNil(ks))
	}
	rows := [][]string{{"ID", "NAME", "PREFIX", "CREATED"}}
	for _, k := range ks {
		rows = append(rows, []string{k.ID, orDash(k.Name), orDash(k.Prefix), fmtTime(k.CreatedAt)})
	}
	return table(e.stdout, rows)
}

// keysDelete implements "keys delete ID".
func keysDelete(e *env, args []string) error {
	fs := e.flagSet("keys delete", "ID")
	pos, err := parseWithArgs(fs, args, "ID")
	if err != nil {
		return err
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	if err := c.DeleteKey(e.ctx, pos[0]); err != nil {
		return err
	}
	if e.jsonOut {
		return printJSON(e.stdout, map[string]any{"id": pos[0], "deleted": true})
	}
	_, err = fmt.Fprintf(e.stdout, "deleted key %s\n", pos[0])
	return err
}

// keysAccessToken implements "keys accesstoken [--expiry SECONDS]".
func keysAccessToken(e *env, args []string) error {
	fs := e.flagSet("keys accesstoken", "[--expiry SECONDS]")
	expiry := fs.Int("expiry", 3600, "token lifetime in `seconds`")
	if _, err := parseWithArgs(fs, args); err != nil {
		return err
	}
	if *expiry <= 0 {
		return fmt.Errorf("invalid --expiry %d: want a positive number of seconds", *expiry)
	}
	c, err := e.client(true)
	if err != nil {
		return err
	}
	t, err := c.CreateAccessToken(e.ctx, *expiry)
	if err != nil {
		return err
	}
	return e.printToken(t)
}

// printToken prints an access token as a table or JSON object.
func (e *env) printToken(t *client.AccessToken) error {
	if e.jsonOut {
		return printJSON(e.stdout, t)
	}
	return table(e.stdout, [][]string{
		{"TOKEN", "EXPIRES AT", "EXPIRY SECONDS"},
		{t.Token, fmtTime(t.ExpiresAt), strconv.Itoa(t.ExpirySeconds)},
	})
}
