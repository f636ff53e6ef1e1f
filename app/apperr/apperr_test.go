package apperr

import (
	"errors"
	"strings"
	"testing"
)

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 64 << 10: "64.0 KiB", 2 << 30: "2.0 GiB", 1536 << 20: "1.5 GiB", 50 << 30: "50.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// Every string argument of a message is an echoed value: a 10 KB ID is cut,
// and invisible characters cannot reorder the message.
func TestNewEchoesArgumentsSafely(t *testing.T) {
	id := "prj_" + strings.Repeat("9", 10_000)
	e := NotFoundf("Project %s not found", id)
	if len(e.Message) > 200 || !strings.HasPrefix(e.Message, "Project prj_999") || !strings.HasSuffix(e.Message, "… not found") {
		t.Fatalf("message of %d bytes: %.80q…", len(e.Message), e.Message)
	}
	if e := Conflictf("Repository %s is busy", "repo_\u202Egnp.exe"); strings.ContainsRune(e.Message, '\u202E') {
		t.Fatalf("bidi override echoed: %q", e.Message)
	}
	args := []any{"x" + strings.Repeat("y", 500)}
	_ = New(BadRequest, "%s", args...)
	if len(args[0].(string)) != 501 {
		t.Fatal("New changed the caller's arguments")
	}
	if e := Text(GitCloneFailed, strings.Repeat("m", 300)); len(e.Message) != 300 {
		t.Fatal("Text cut a composed message")
	}
	q := Quota(int64(10), int64(12), "over")
	if q.Code != QuotaExceeded || q.Details["limit"] != int64(10) || q.Details["current"] != int64(12) || q.Code.HTTPStatus() != 429 {
		t.Fatalf("quota error: %+v", q)
	}
	if !errors.As(error(q), new(*Error)) {
		t.Fatal("not an *Error")
	}
}
