package profile

import (
	"encoding/json"
	"errors"
	"path"
	"sort"
	"strings"
	"testing"
)

// tree is a fixture repository: path → content.
type tree map[string]string

var langByExt = map[string]string{
	".go": "Go", ".py": "Python", ".js": "JavaScript", ".ts": "TypeScript", ".tsx": "TypeScript",
	".rb": "Ruby", ".java": "Java", ".php": "PHP", ".rs": "Rust", ".c": "C",
}

func (t tree) files() []File {
	var out []File
	for p, c := range t {
		out = append(out, File{Path: p, Size: int64(len(c)), Language: langByExt[path.Ext(p)]})
	}
	return out
}

func (t tree) read(p string) ([]byte, error) {
	c, ok := t[p]
	if !ok {
		return nil, errors.New("not found")
	}
	return []byte(c), nil
}

func joined(list []string) string { return strings.Join(list, "\n") }

func TestDerive(t *testing.T) {
	cases := []struct {
		name string
		tree tree
		// every substring must appear in the named field
		want map[string][]string
		// none of these may appear anywhere in the profile
		absent []string
	}{
		{
			name: "express app with postgres, axios and react",
			tree: tree{
				"package.json":                       `{"dependencies":{"express":"^4","pg":"^8","axios":"1","jsonwebtoken":"9"},"devDependencies":{"react":"18"}}`,
				"server.js":                          "const express = require('express')\nconst { exec } = require('child_process')\n",
				"src/routes/users.js":                "router.get('/users/:id', h)",
				"src/routes/orders.js":               "router.get('/orders', h)",
				"src/routes/users.test.js":           "test()",
				"node_modules/fastify/package.json":  `{"dependencies":{"mongodb":"6"}}`,
				"node_modules/fastify/lib/server.js": "x",
				"docs/setup.md":                      "# docs",
				"Dockerfile":                         "FROM node:20",
			},
			want: map[string][]string{
				"summary":          {"JavaScript web application with a browser front end", "Express", "React", "PostgreSQL (pg)"},
				"entry_points":     {"server.js (Node.js server)", "src/routes/ (HTTP routes)", "Dockerfile (container image definition)"},
				"trust_boundaries": {"HTTP handlers (Express)", "database (PostgreSQL (pg))", "outbound HTTP (axios)", "operating system processes (child_process)", "Build and deployment"},
				"assets":           {"Credentials and secrets", "Data stored in PostgreSQL (pg)", "User accounts and sessions", "jsonwebtoken"},
				"focus":            {"SQL injection", "Command injection (CWE-78): process execution via child_process", "Server-side request forgery", "Cross-site scripting (CWE-79): output encoding in React", "Broken access control"},
				"out_of_scope":     {"node_modules/ (third-party dependencies)", "docs/ (documentation)", "test files (*.test.* / *.spec.*)"},
			},
			// node_modules content must not count as the app's own dependencies.
			absent: []string{"Fastify", "MongoDB", "fastify/lib"},
		},
		{
			name: "go service with gin, pgx, aws and exec",
			tree: tree{
				"go.mod":                         "module example.com/svc\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.0\n\tgithub.com/jackc/pgx/v5 v5.5.0 // indirect\n\tgithub.com/aws/aws-sdk-go-v2 v1.2.0\n)\n",
				"cmd/api/main.go":                "package main\nimport \"os/exec\"\n",
				"internal/handlers/user.go":      "package handlers",
				"internal/handlers/user_test.go": "package handlers",
				"vendor/modules.txt":             "x",
				"api/service.proto":              "service S {}",
			},
			want: map[string][]string{
				"summary":          {"A Go web application or service built with Gin", "PostgreSQL (pgx)", "AWS"},
				"entry_points":     {"cmd/api/main.go (Go program entry point)", "internal/handlers/ (request handlers)", "api/service.proto (gRPC/protobuf service definition)"},
				"trust_boundaries": {"Gin", "RPC/GraphQL interfaces", "cloud provider APIs (AWS)", "os/exec"},
				"focus":            {"SQL injection (CWE-89): queries built from request data (PostgreSQL (pgx))", "Command injection", "Hard-coded secrets"},
				"out_of_scope":     {"vendor/ (vendored dependencies)", "test files (*_test.go)"},
			},
			absent: []string{"Cross-site scripting", "Server-side request forgery"},
		},
		{
			name: "go net/http from source",
			tree: tree{
				"go.mod":  "module x\n",
				"main.go": "package main\nimport \"net/http\"\nfunc main(){ http.HandleFunc(\"/\", h); http.ListenAndServe(\":8080\", nil) }\n",
			},
			want: map[string][]string{
				"summary":          {"Go web application or service built with net/http"},
				"trust_boundaries": {"HTTP handlers (net/http)"},
			},
		},
		{
			name: "django with pickle and celery",
			tree: tree{
				"requirements.txt":      "Django==4.2  # web\npsycopg2-binary>=2.9\ncelery[redis]==5.3\nrequests\n-r base.txt\n",
				"manage.py":             "import os",
				"shop/urls.py":          "urlpatterns = []",
				"shop/cache.py":         "import pickle\n",
				"shop/templates/x.html": "{{ x }}",
				"tests/test_views.py":   "import pickle",
			},
			want: map[string][]string{
				"summary":          {"A Python web application or service built with Django", "Celery"},
				"entry_points":     {"manage.py (Django management entry point)", "shop/urls.py (Django URL routes)"},
				"trust_boundaries": {"Message queues and background jobs (Celery)"},
				"focus":            {"SQL injection", "Insecure deserialization (CWE-502): pickle", "Server-side request forgery (CWE-918): outbound requests via requests"},
				"out_of_scope":     {"tests/ (tests)"},
			},
		},
		{
			name: "fastapi and flask from pyproject",
			tree: tree{
				"pyproject.toml": "[project]\nname = \"svc\"\ndependencies = [\n  \"fastapi>=0.100\",\n  \"SQLAlchemy[asyncio]~=2.0\",\n  \"httpx\",\n]\n[tool.poetry.dependencies]\nflask = \"^3\"\n",
				"app/main.py":    "from fastapi import FastAPI",
			},
			want: map[string][]string{
				"summary": {"FastAPI", "Flask", "SQLAlchemy"},
				"focus":   {"SQL injection", "Server-side request forgery (CWE-918): outbound requests via httpx"},
			},
		},
		{
			name: "rails app",
			tree: tree{
				"Gemfile":               "source 'https://rubygems.org'\ngem 'rails', '~> 7.1'\ngem \"pg\"\ngem 'sidekiq'\ngem 'devise'\n",
				"config/routes.rb":      "Rails.application.routes.draw do\nend",
				"app/controllers/a.rb":  "class A; def x; YAML.load(params[:y]); end; end",
				"spec/models/a_spec.rb": "",
			},
			want: map[string][]string{
				"summary":      {"Ruby web application or service built with Rails", "Sidekiq"},
				"entry_points": {"config/routes.rb (Rails routes)", "app/controllers/ (request controllers)"},
				"assets":       {"Devise"},
				"focus":        {"Insecure deserialization (CWE-502): YAML.load"},
				"out_of_scope": {"spec/ (tests)"},
			},
		},
		{
			name: "spring from pom and gradle",
			tree: tree{
				"pom.xml":          "<project><dependencies><dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency><dependency><artifactId>jackson-databind</artifactId></dependency><dependency><artifactId>postgresql</artifactId></dependency></dependencies></project>",
				"lib/build.gradle": "dependencies { implementation 'org.apache.kafka:kafka-clients:3.6.0' }",
				"src/main/java/com/x/ShopApplication.java": "class ShopApplication { ObjectInputStream in; }",
			},
			want: map[string][]string{
				"summary":      {"Java web application or service built with Spring", "Kafka", "PostgreSQL"},
				"entry_points": {"src/main/java/com/x/ShopApplication.java (Spring Boot application)"},
				"focus":        {"Insecure deserialization (CWE-502): Jackson, Java serialization"},
			},
		},
		{
			name: "laravel and symfony",
			tree: tree{
				"composer.json":    `{"require":{"php":"^8.2","laravel/framework":"^10","symfony/http-kernel":"^6","guzzlehttp/guzzle":"^7","twig/twig":"3"}}`,
				"public/index.php": "<?php echo unserialize($_GET['x']);",
			},
			want: map[string][]string{
				"summary":      {"PHP web application or service", "Laravel", "Symfony"},
				"entry_points": {"public/index.php (PHP front controller)"},
				"focus":        {"Server-side request forgery (CWE-918): outbound requests via Guzzle", "Cross-site scripting (CWE-79): output encoding in Twig", "unserialize"},
			},
		},
		{
			name: "rust axum, actix and rocket",
			tree: tree{
				"Cargo.toml":  "[package]\nname = \"x\"\n\n[dependencies]\naxum = \"0.7\"\nactix-web = { version = \"4\" }\nsqlx = \"0.7\"\n\n[dependencies.rocket]\nversion = \"0.5\"\n\n[dev-dependencies]\nreqwest = \"0.11\"\n",
				"src/main.rs": "fn main() {}",
			},
			want: map[string][]string{
				"summary":      {"Rust web application or service built with Rocket, actix-web, axum", "SQLx"},
				"entry_points": {"src/main.rs (Rust program entry point)"},
			},
		},
		{
			name: "next.js front end",
			tree: tree{
				"package.json":           `{"dependencies":{"next":"14","react":"18"}}`,
				"app/api/login/route.ts": "export async function POST() {}",
				"app/page.tsx":           "export default function Page() {}",
			},
			want: map[string][]string{
				"summary":      {"TypeScript web application with a browser front end built with Next.js, React"},
				"entry_points": {"app/ (Next.js route handlers)"},
			},
		},
		{
			name: "plain c library",
			tree: tree{
				"src/parse.c":     "int parse(char *b) { char x[8]; strcpy(x, b); }",
				"include/parse.h": "int parse(char*);",
				"examples/demo.c": "int main() {}",
			},
			want: map[string][]string{
				"summary":          {"A C codebase; 2 files in scope, 0 entry points"},
				"trust_boundaries": {"Process inputs"},
				"focus":            {"Memory safety (CWE-787, CWE-416): buffer handling and lifetimes in C", "Hard-coded secrets"},
				"out_of_scope":     {"examples/ (examples)"},
			},
			absent: []string{"HTTP", "SQL injection"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Derive(tc.tree.files(), tc.tree.read)
			fields := map[string]string{
				"summary": p.Summary, "assets": joined(p.Assets), "entry_points": joined(p.EntryPoints),
				"trust_boundaries": joined(p.TrustBoundaries), "focus": joined(p.Focus), "out_of_scope": joined(p.OutOfScope),
			}
			for field, wants := range tc.want {
				for _, w := range wants {
					if !strings.Contains(fields[field], w) {
						t.Errorf("%s lacks %q:\n%s", field, w, fields[field])
					}
				}
			}
			all, _ := json.Marshal(p)
			for _, a := range tc.absent {
				if strings.Contains(string(all), a) {
					t.Errorf("profile mentions %q: %s", a, all)
				}
			}
			if p.SeverityThreshold != "low" {
				t.Errorf("severity threshold %q", p.SeverityThreshold)
			}
		})
	}
}

func TestDeriveIsDeterministic(t *testing.T) {
	tr := tree{
		"package.json":    `{"dependencies":{"express":"4","pg":"8","mysql2":"3","mongoose":"7","@aws-sdk/client-s3":"3","@google-cloud/storage":"7","kafkajs":"2","bullmq":"4"}}`,
		"src/routes/a.js": "", "src/api/b.js": "", "server.js": "",
	}
	files := tr.files()
	first, _ := json.Marshal(Derive(files, tr.read))
	for i := 0; i < 20; i++ {
		// Reverse and shuffle order: the manifest order must not matter.
		sort.Slice(files, func(a, b int) bool { return (files[a].Path < files[b].Path) == (i%2 == 0) })
		again, _ := json.Marshal(Derive(files, tr.read))
		if string(first) != string(again) {
			t.Fatalf("profile differs between runs:\n%s\n%s", first, again)
		}
	}
}

func TestDeriveWithoutReaderAndHostileManifests(t *testing.T) {
	tr := tree{
		"package.json":     `{"dependencies": "not an object"`,
		"go.mod":           strings.Repeat("require x\n", 10),
		"../../etc/passwd": "root",
		"server.js":        "",
	}
	files := tr.files()
	files = append(files, File{Path: "huge/package.json", Size: maxManifestBytes + 1})
	p := Derive(files, func(p string) ([]byte, error) {
		if p == "huge/package.json" {
			t.Fatal("oversized manifest was read")
		}
		return tr.read(p)
	})
	if !strings.Contains(joined(p.EntryPoints), "server.js") {
		t.Errorf("entry points %v", p.EntryPoints)
	}
	if strings.Contains(joined(p.EntryPoints), "..") {
		t.Errorf("path not normalised: %v", p.EntryPoints)
	}
	q := Derive(files, nil)
	if q.Summary == "" || q.Assets == nil || q.Focus == nil {
		t.Errorf("profile without reader is incomplete: %+v", q)
	}
	empty := Derive(nil, nil)
	if empty.Summary == "" || empty.EntryPoints == nil || empty.OutOfScope == nil {
		t.Errorf("empty profile %+v", empty)
	}
}

func TestEntryPointsAreCapped(t *testing.T) {
	tr := tree{}
	for i := 0; i < 50; i++ {
		tr[path.Join("svc", string(rune('a'+i%26))+strings.Repeat("x", i/26), "main.go")] = ""
	}
	p := Derive(tr.files(), tr.read)
	if len(p.EntryPoints) != maxEntryPoints+1 || p.EntryPoints[maxEntryPoints] != "… and 20 more" {
		t.Errorf("entry points: %d, last %q", len(p.EntryPoints), p.EntryPoints[len(p.EntryPoints)-1])
	}
}
