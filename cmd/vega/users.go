package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vegasec/vega/app/server"
	"github.com/vegasec/vega/auth"
	"github.com/vegasec/vega/store"
)

type groupFlags []string

func (g *groupFlags) String() string     { return strings.Join(*g, ",") }
func (g *groupFlags) Set(v string) error { *g = append(*g, v); return nil }

// usersCommand manages the custom provider's local users directly in the store.
func usersCommand(ctx context.Context, env *server.Env, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"want: users add --email E --password P [--group G]... | users list | users delete --email E"}
	}
	svc, err := server.NewAuth(ctx, env)
	if err != nil {
		return err
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("users "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email address")
	password := fs.String("password", "", "password (at least 12 characters)")
	name := fs.String("name", "", "display name")
	var groups groupFlags
	fs.Var(&groups, "group", "group: root, operator or user (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	switch sub {
	case "add":
		if *email == "" || *password == "" {
			return usageError{"users add needs --email and --password"}
		}
		u, err := svc.CreateUser(ctx, auth.NewUser{Email: *email, Password: *password, DisplayName: *name, Groups: groups})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "created %s %s groups=%s\n", u.ID, u.Email, strings.Join(u.Groups, ","))
	case "list":
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tEMAIL\tGROUPS\tCREATED")
		for p := (store.Page{Limit: store.MaxLimit}); ; {
			us, next, err := svc.ListUsers(ctx, p)
			if err != nil {
				return err
			}
			for _, u := range us {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.ID, u.Email, strings.Join(u.Groups, ","), u.CreatedAt.Format("2006-01-02"))
			}
			if next == "" {
				break
			}
			p.Cursor = next
		}
		return tw.Flush()
	case "delete":
		if *email == "" {
			return usageError{"users delete needs --email"}
		}
		u, err := env.Store.GetUserByEmail(ctx, strings.ToLower(*email))
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no user with email %s", *email)
		}
		if err != nil {
			return err
		}
		if err := svc.DeleteUser(ctx, "", u.ID); err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted %s %s\n", u.ID, u.Email)
	default:
		return usageError{fmt.Sprintf("unknown users command %q (add, list, delete)", sub)}
	}
	return nil
}
