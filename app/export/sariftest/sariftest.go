// Package sariftest checks SARIF documents against the official SARIF 2.1.0
// JSON schema kept in app/export/testdata, for the export tests and the CLI
// tests that read `vega scan` output.
package sariftest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaName = "sarif-schema-2.1.0.json"

// Schema compiles the SARIF 2.1.0 schema with format assertions on.
func Schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("sariftest: cannot locate the schema")
	}
	f, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", schemaName))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		tb.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaName, doc); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile(schemaName)
	if err != nil {
		tb.Fatal(err)
	}
	return sch
}

// Validate fails the test unless raw is JSON that the schema accepts.
func Validate(tb testing.TB, raw []byte) {
	tb.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		tb.Fatalf("SARIF is not JSON: %v", err)
	}
	if err := Schema(tb).Validate(inst); err != nil {
		tb.Fatalf("SARIF does not validate against the 2.1.0 schema: %v", err)
	}
}
