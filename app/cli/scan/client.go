package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// client calls a Vega server's public API (/v1, docs at /docs) with an API
// key as the bearer credential.
type client struct {
	base string // scheme://host[:port][/prefix], no trailing slash
	key  string
	http *http.Client
	ua   string
}

func newClient(server, key, version string) (*client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(server), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("--server: want the server's URL such as https://vega.example.com (got %q)", server)
	}
	if strings.TrimSpace(key) == "" {
		return nil, errors.New("VEGA_API_KEY is not set: create an API key in the dashboard (Settings → API keys) or with POST /v1/api-keys, and pass it in VEGA_API_KEY")
	}
	// No overall timeout: an upload of a large tree takes as long as it takes;
	// the caller's context (--timeout) bounds everything.
	return &client{base: u.String(), key: strings.TrimSpace(key), http: &http.Client{}, ua: "vega-scan/" + version}, nil
}

// apiError is the server's error envelope (app/api/errors.go).
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("the server answered %d", e.Status)
	}
	return fmt.Sprintf("%s (%s, HTTP %d)", e.Message, e.Code, e.Status)
}

// do sends one request; a JSON body is marshalled unless it is an io.Reader
// (sent with contentType). out, when not nil, receives the JSON answer.
func (c *client) do(ctx context.Context, method, path string, body any, contentType string, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, contentType = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if s, ok := rd.(*sizedReader); ok {
		req.ContentLength = s.size
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode >= 300 {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(raw, &env)
		return &apiError{Status: res.StatusCode, Code: env.Error.Code, Message: oneLine(env.Error.Message)}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// list pages through a list endpoint ({"items": [...], "next_cursor"}).
func list[T any](ctx context.Context, c *client, path string, keep func(T) bool) ([]T, error) {
	var out []T
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for {
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		p := path + sep + "limit=100"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.do(ctx, "GET", p, nil, "", &page); err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if keep(it) {
				out = append(out, it)
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out, nil
		}
		cursor = *page.NextCursor
	}
}

// poll calls check every interval until it reports done or ctx ends.
func poll(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
