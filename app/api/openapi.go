package api

import (
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/vegasec/vega/store"
)

// Op documents one route for the OpenAPI document.
type Op struct {
	Method, Path string // filled by Router.Add
	Tag          string // filled by Router.Add: the area's tag
	Summary      string
	Request      any  // zero value of the JSON body type, if any
	BodyOptional bool // the JSON body may be omitted (the handler uses DecodeOptional)
	Response     any  // zero value of the success body type, if any
	Status       int  // success status (Router.Add makes 0 200)
	Paged        bool // takes ?limit= and ?cursor=
	Public       bool // no bearer credential needed
	QueryToken   bool // also accepts ?access_token= (EventSource)
	Query        []string
	QueryDoc     map[string]string // description of a query parameter, by name
	Multipart    bool              // body may also be multipart/form-data
	Produces     string            // non-JSON success content type
	Groups       []string          // the caller must be in one of these groups (none: any caller)

	// Description is longer text, when the summary cannot say enough (a stream's frames).
	Description string
}

var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)\??`)

func openAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

// OpenAPI builds the OpenAPI 3.1 document from the registered operations.
func (r *Router) OpenAPI() map[string]any {
	schemas := map[string]any{}
	gen := &schemaGen{defs: schemas}
	paths := map[string]map[string]any{}
	for _, op := range r.ops {
		p := openAPIPath(op.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		o := map[string]any{"summary": op.Summary, "tags": []string{op.Tag},
			"operationId": strings.ToLower(op.Method) + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(op.Path, "/", "_"), ":", ""), "-", "_")}
		if op.Description != "" {
			o["description"] = op.Description
		}
		var params []any
		for _, m := range fiberParam.FindAllStringSubmatch(op.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if op.Paged {
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": store.MaxLimit, "default": store.DefaultLimit}},
				map[string]any{"name": "cursor", "in": "query", "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.Query {
			p := map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}}
			if d := op.QueryDoc[q]; d != "" {
				p["description"] = d
			}
			params = append(params, p)
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.Request != nil {
			content := map[string]any{"application/json": map[string]any{"schema": gen.schema(reflect.TypeOf(op.Request))}}
			if op.Multipart {
				content["multipart/form-data"] = map[string]any{"schema": map[string]any{"type": "object",
					"properties": map[string]any{"archive": map[string]any{"type": "string", "format": "binary"}, "name": map[string]any{"type": "string"}}}}
			}
			o["requestBody"] = map[string]any{"required": !op.BodyOptional, "content": content}
		}
		status := op.Status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": "Success"}
		switch {
		case op.Produces != "":
			ok["content"] = map[string]any{op.Produces: map[string]any{}}
		case op.Response != nil:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": gen.schema(reflect.TypeOf(op.Response))}}
		}
		o["responses"] = map[string]any{
			fmt.Sprint(status): ok,
			"default":          map[string]any{"description": "Error envelope", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}},
		}
		if !op.Public {
			o["security"] = []any{map[string]any{"bearer": []string{}}}
		}
		paths[p][strings.ToLower(op.Method)] = o
	}
	schemas["Error"] = gen.schema(reflect.TypeOf(envelope{}))
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Vega API", "version": r.deps.Version,
			"description": "AI code security scanner. Errors use one envelope; lists return {items, next_cursor}."},
		"servers":    []any{map[string]any{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "Access token or API key (vega_…)"}}},
	}
	if len(r.outgoing) > 0 {
		doc["webhooks"] = r.outgoingDocs(gen)
	}
	return doc
}

// outgoingDocs describes the events Vega POSTs to webhooks (docs/webhooks.md).
func (r *Router) outgoingDocs(gen *schemaGen) map[string]any {
	header := func(name, desc string) map[string]any {
		return map[string]any{"name": name, "in": "header", "required": true, "description": desc, "schema": map[string]any{"type": "string"}}
	}
	out := map[string]any{}
	for _, w := range r.outgoing {
		out[w.Name] = map[string]any{"post": map[string]any{
			"summary": w.Summary,
			"description": "Body of a webhook of format json (format slack posts {\"text\": …} instead). " +
				"Verify Vega-Signature before trusting it: t=<unix seconds>,v1=<hex HMAC-SHA256 over \"<t>.<body>\" keyed with the webhook's secret>.",
			"parameters": []any{
				header("Vega-Signature", "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">"),
				header("Vega-Event", "The event name"),
				header("Vega-Delivery", "The delivery ID (= the body's id); the same on every retry"),
			},
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": gen.schema(reflect.TypeOf(w.Body))}}},
			"responses":   map[string]any{"2XX": map[string]any{"description": "Received; any other answer (or none within 10 s) is retried with backoff for up to 24 h"}},
		}}
	}
	return out
}

func (r *Router) openAPIJSON(c *fiber.Ctx) error { return c.JSON(r.OpenAPI()) }

// schemaGen turns Go types into JSON Schema, naming structs as components.
type schemaGen struct{ defs map[string]any }

var timeType = reflect.TypeOf(time.Time{})
var rawJSON = reflect.TypeOf(json.RawMessage{})
var eventType = reflect.TypeOf(store.Event{})

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawJSON:
		return map[string]any{}
	case t == eventType:
		return g.eventSchema()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		if _, done := g.defs[name]; !done {
			g.defs[name] = map[string]any{} // break recursion
			props := map[string]any{}
			g.fields(t, props)
			g.defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// eventSchema documents store.Event as one variant per kind, told apart by
// "kind" (a discriminator), each with its payload type from store: an
// Event's payload is a raw JSON field in Go, but never free-form.
func (g *schemaGen) eventSchema() map[string]any {
	const name = "Event"
	if _, done := g.defs[name]; !done {
		g.defs[name] = map[string]any{} // break recursion
		base := map[string]any{}
		g.fields(eventType, base)
		variants := make([]any, 0, len(store.EventKinds))
		mapping := map[string]any{}
		for _, kind := range store.EventKinds {
			payload, _ := store.NewEventPayload(kind)
			props := maps.Clone(base)
			props["kind"] = map[string]any{"type": "string", "const": string(kind)}
			props["payload"] = g.schema(reflect.TypeOf(payload))
			variant := "Event_" + string(kind)
			g.defs[variant] = map[string]any{"type": "object", "properties": props, "required": []string{"scan_id", "seq", "kind", "payload", "created_at"}}
			ref := "#/components/schemas/" + variant
			variants = append(variants, map[string]any{"$ref": ref})
			mapping[string(kind)] = ref
		}
		g.defs[name] = map[string]any{"oneOf": variants, "discriminator": map[string]any{"propertyName": "kind", "mapping": mapping},
			"description": "One entry of a scan's log; the payload's shape depends on kind (docs/scan-lifecycle.md)."}
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name := strings.Split(tag, ",")[0]
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
	}
}

var genericArgs = regexp.MustCompile(`[^A-Za-z0-9]+`)

func schemaName(t reflect.Type) string {
	pkg := t.PkgPath()
	name := t.Name()
	if i := strings.Index(name, "["); i >= 0 { // generic instantiation, e.g. List[store.Project]
		inner := name[i+1 : len(name)-1]
		inner = inner[strings.LastIndex(inner, ".")+1:]
		name = name[:i] + genericArgs.ReplaceAllString(inner, "")
	}
	prefix := ""
	if p := pkg[strings.LastIndex(pkg, "/")+1:]; p != "store" && p != "api" && p != "" {
		prefix = strings.ToUpper(p[:1]) + p[1:] // e.g. ProjectsWithStats
	}
	return prefix + name
}

var docsTmpl = template.Must(template.New("docs").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vega API</title>
<style>body{font:14px/1.5 system-ui,sans-serif;max-width:1000px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
h2{margin-top:2rem;border-bottom:1px solid #ddd}.op{margin:.4rem 0;padding:.4rem .6rem;border:1px solid #e3e3e3;border-radius:6px}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.GET{color:#0a6}.POST{color:#06c}.PUT,.PATCH{color:#a60}.DELETE{color:#c22}
code{background:#f4f4f4;padding:0 .25rem;border-radius:3px}.lock{color:#888;font-size:12px}</style></head><body>
<h1>Vega API</h1><p>Machine-readable: <a href="/v1/openapi.json">/v1/openapi.json</a> (OpenAPI 3.1). Authenticate with <code>Authorization: Bearer &lt;access token or API key&gt;</code>.
Errors: <code>{"schema_version":1,"error":{"code","message","retryable","details","request_id"}}</code>. Lists: <code>{"items":[…],"next_cursor":…}</code> with <code>?limit=&amp;cursor=</code>.</p>
{{range .}}<h2>{{.Tag}}</h2>{{range .Ops}}<div class="op"><span class="m {{.Method}}">{{.Method}}</span><code>{{.Path}}</code> — {{.Summary}}{{if .Public}}{{else}} <span class="lock">(bearer)</span>{{end}}</div>{{end}}{{end}}
</body></html>`))

type docsGroup struct {
	Tag string
	Ops []Op
}

func (r *Router) docsPage(c *fiber.Ctx) error {
	byTag := map[string][]Op{}
	var tags []string
	for _, op := range r.ops {
		if _, ok := byTag[op.Tag]; !ok {
			tags = append(tags, op.Tag)
		}
		byTag[op.Tag] = append(byTag[op.Tag], op)
	}
	sort.Strings(tags)
	groups := make([]docsGroup, 0, len(tags))
	for _, t := range tags {
		groups = append(groups, docsGroup{Tag: t, Ops: byTag[t]})
	}
	c.Type("html", "utf-8")
	return docsTmpl.Execute(c.Response().BodyWriter(), groups)
}

// Ops lists the documented operations.
func (r *Router) Ops() []Op { return r.ops }
