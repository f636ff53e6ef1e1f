package profile_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/vegasec/vega/app/profile"
)

func ExampleDerive() {
	repo := map[string]string{
		"go.mod":                         "module shop\n\nrequire (\n\tgithub.com/go-chi/chi/v5 v5.0.0\n\tgithub.com/lib/pq v1.10.0\n)\n",
		"cmd/shop/main.go":               "package main\nimport \"net/http\"\nfunc main() { http.ListenAndServe(\":80\", r) }\n",
		"internal/handlers/cart.go":      "package handlers\nimport \"os/exec\"\n",
		"internal/handlers/cart_test.go": "package handlers",
		"Dockerfile":                     "FROM scratch",
	}
	var files []profile.File
	for _, p := range []string{"go.mod", "cmd/shop/main.go", "internal/handlers/cart.go", "internal/handlers/cart_test.go", "Dockerfile"} {
		files = append(files, profile.File{Path: p, Size: int64(len(repo[p])), Language: map[bool]string{true: "Go"}[p[len(p)-3:] == ".go"]})
	}
	p := profile.Derive(files, func(p string) ([]byte, error) { return []byte(repo[p]), nil })
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {
	//   "summary": "A Go web application or service built with chi, net/http, using PostgreSQL; 4 files in scope, 3 entry points. Derived from file names and dependency manifests without a model: review and edit.",
	//   "assets": [
	//     "Credentials and secrets: API keys, tokens, private keys and connection strings in code, config and environment",
	//     "Data stored in PostgreSQL",
	//     "User accounts and sessions: passwords, session cookies, tokens",
	//     "User-supplied data processed and returned by the application"
	//   ],
	//   "entry_points": [
	//     "Dockerfile (container image definition)",
	//     "cmd/shop/main.go (Go program entry point)",
	//     "internal/handlers/ (request handlers)"
	//   ],
	//   "trust_boundaries": [
	//     "Internet → HTTP handlers (chi, net/http): paths, query strings, headers, cookies and bodies are attacker-controlled",
	//     "Application → database (PostgreSQL): queries built from request data",
	//     "Application → operating system processes (os/exec)",
	//     "Build and deployment configuration (containers, serverless templates): build-time secrets and runtime permissions"
	//   ],
	//   "focus": [
	//     "SQL injection (CWE-89): queries built from request data (PostgreSQL)",
	//     "Command injection (CWE-78): process execution via os/exec",
	//     "Broken access control and IDOR (CWE-862, CWE-639): every handler checks who may act on which object",
	//     "Path traversal (CWE-22): file paths built from request data",
	//     "Authentication and session handling (CWE-287, CWE-384)",
	//     "Hard-coded secrets (CWE-798)"
	//   ],
	//   "out_of_scope": [
	//     "test files (*_test.go)"
	//   ],
	//   "severity_threshold": "low"
	// }
}
