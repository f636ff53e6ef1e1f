package profile

import (
	"path"
	"sort"
	"strings"
)

// skipDirs are directory names whose contents are not the application:
// dependencies, build output, tests, docs and examples. Files under them do
// not count as entry points or manifests and are listed as out of scope.
var skipDirs = map[string]string{
	"node_modules": "third-party dependencies", "bower_components": "third-party dependencies",
	"vendor": "vendored dependencies", "third_party": "vendored dependencies", "third-party": "vendored dependencies",
	".venv": "Python virtualenv", "venv": "Python virtualenv", "site-packages": "installed packages",
	"test": "tests", "tests": "tests", "__tests__": "tests", "spec": "tests", "specs": "tests", "e2e": "tests",
	"testdata": "test fixtures", "fixtures": "test fixtures", "__fixtures__": "test fixtures", "__mocks__": "test mocks",
	"docs": "documentation", "doc": "documentation", "documentation": "documentation",
	"examples": "examples", "example": "examples", "samples": "examples", "sample": "examples", "demo": "examples",
	"dist": "build output", "build": "build output", "target": "build output", "coverage": "coverage reports",
	".git": "version control metadata",
}

// isTestFile recognises test files by the naming conventions of the
// ecosystems Vega profiles.
func isTestFile(p string) (pattern string, ok bool) {
	base := path.Base(p)
	lower := strings.ToLower(base)
	switch {
	case strings.HasSuffix(base, "_test.go"):
		return "*_test.go", true
	case strings.Contains(lower, ".test.") || strings.Contains(lower, ".spec."):
		return "*.test.* / *.spec.*", true
	case strings.HasSuffix(base, ".py") && (strings.HasPrefix(base, "test_") || strings.HasSuffix(base, "_test.py")):
		return "test_*.py", true
	case strings.HasSuffix(base, "Test.java") || strings.HasSuffix(base, "Tests.java") || strings.HasSuffix(base, "Test.kt"):
		return "*Test.java", true
	case strings.HasSuffix(base, "_spec.rb") || strings.HasSuffix(base, "_test.rb"):
		return "*_spec.rb", true
	case strings.HasSuffix(base, "Test.php"):
		return "*Test.php", true
	}
	return "", false
}

// skippedDir returns the first out-of-scope directory in p, as the path
// prefix up to it and its name.
func skippedDir(p string) (prefix, name string, ok bool) {
	segs := strings.Split(p, "/")
	for i, s := range segs[:len(segs)-1] {
		if _, skip := skipDirs[s]; skip {
			return strings.Join(segs[:i+1], "/"), s, true
		}
	}
	return "", "", false
}

// outOfScope summarises the skipped directories and test files found, one
// entry per directory name ("vendor/" at the root, "**/node_modules/"
// deeper) so the list stays short in large monorepos.
func outOfScope(dirs map[string]map[string]bool, testPatterns map[string]bool) []string {
	names := make([]string, 0, len(dirs))
	for n := range dirs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		pattern := "**/" + n + "/"
		if len(dirs[n]) == 1 && dirs[n][n] {
			pattern = n + "/"
		}
		out = append(out, pattern+" ("+skipDirs[n]+")")
	}
	if len(testPatterns) > 0 {
		pats := make([]string, 0, len(testPatterns))
		for p := range testPatterns {
			pats = append(pats, p)
		}
		sort.Strings(pats)
		out = append(out, "test files ("+strings.Join(pats, ", ")+")")
	}
	return out
}

// entryDirs are directory names that hold request handlers.
var entryDirs = map[string]string{
	"routes": "HTTP routes", "router": "HTTP routes", "routers": "HTTP routes", "controllers": "request controllers",
	"handlers": "request handlers", "handler": "request handlers", "api": "API handlers", "endpoints": "API endpoints",
	"resolvers": "GraphQL resolvers", "views": "request views", "pages": "page routes", "app": "",
}

// entryFiles are file names that start a program or declare its interface.
var entryFiles = map[string]string{
	"main.go": "Go program entry point", "app.py": "Python application", "main.py": "Python entry point",
	"wsgi.py": "WSGI application", "asgi.py": "ASGI application", "manage.py": "Django management entry point",
	"urls.py": "Django URL routes", "server.js": "Node.js server", "server.ts": "Node.js server", "app.js": "Node.js application",
	"app.ts": "Node.js application", "main.ts": "application entry point", "index.php": "PHP front controller",
	"artisan": "Laravel console", "routes.rb": "Rails routes", "config.ru": "Rack application", "main.rs": "Rust program entry point",
	"Dockerfile": "container image definition", "docker-compose.yml": "service composition", "docker-compose.yaml": "service composition",
	"compose.yaml": "service composition", "compose.yml": "service composition", "serverless.yml": "serverless functions",
	"serverless.yaml": "serverless functions", "template.yaml": "SAM/CloudFormation template", "template.yml": "SAM/CloudFormation template",
	"Procfile": "process definitions", "openapi.yaml": "OpenAPI description", "openapi.yml": "OpenAPI description",
	"openapi.json": "OpenAPI description", "swagger.json": "OpenAPI description", "swagger.yaml": "OpenAPI description",
	"lambda_function.py": "AWS Lambda handler", "handler.js": "serverless handler", "handler.py": "serverless handler",
}

// entryPoint classifies one in-scope file; it returns the entry to record
// (a directory with trailing slash, or the file) and why.
func entryPoint(p string) (entry, why string, ok bool) {
	base := path.Base(p)
	if w, found := entryFiles[base]; found {
		return p, w, true
	}
	switch {
	case strings.HasSuffix(base, ".proto"):
		return p, "gRPC/protobuf service definition", true
	case strings.HasSuffix(base, ".graphql") || strings.HasSuffix(base, ".gql"):
		return p, "GraphQL schema", true
	case strings.HasSuffix(base, "Application.java") || strings.HasSuffix(base, "Application.kt"):
		return p, "Spring Boot application", true
	case strings.HasPrefix(base, "Dockerfile."):
		return p, "container image definition", true
	}
	segs := strings.Split(p, "/")
	for i, s := range segs[:len(segs)-1] {
		if w := entryDirs[s]; w != "" {
			return strings.Join(segs[:i+1], "/") + "/", w, true
		}
		// Next.js app router: app/**/route.ts and app/api/**.
		if s == "app" && (base == "route.ts" || base == "route.js") {
			return strings.Join(segs[:i+1], "/") + "/", "Next.js route handlers", true
		}
	}
	return "", "", false
}
