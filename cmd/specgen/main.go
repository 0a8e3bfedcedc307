// Command specgen turns the Swagger 2.0 document that swag generates from the handlers'
// annotations into the committed OpenAPI 3 document (openapi/openapi.json and .yaml).
//
// swag only writes Swagger 2.0; kin-openapi's openapi2conv converts it. On the way, error
// responses get their real media type, application/problem+json, which Swagger 2.0's one
// global "produces" list cannot say.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/switchboard/switchboard/openapi"
)

func main() {
	in := flag.String("in", "", "swagger.json written by swag")
	out := flag.String("out", "openapi", "directory for openapi.json and openapi.yaml")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return errors.New("-in is required")
	}
	raw, err := os.ReadFile(in)
	if err != nil {
		return fmt.Errorf("read swagger: %w", err)
	}
	var v2 openapi2.T
	if err := json.Unmarshal(raw, &v2); err != nil {
		return fmt.Errorf("parse swagger: %w", err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return fmt.Errorf("convert to OpenAPI 3: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/", Description: "This server"}}
	fixErrorMediaTypes(doc)
	requireResponseFields(doc)
	fixOperations(doc)
	fixNullableRefs(doc)
	// The same strict checks as openapi's TestStrictlyValid, so a generation that would fail
	// make test fails here first, naming the problem.
	if err := doc.Validate(context.Background(), openapi.Strict...); err != nil {
		return fmt.Errorf("the generated document is invalid: %w", err)
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	js = append(js, '\n')
	ya, err := yaml.JSONToYAML(js)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "openapi.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "openapi.yaml"), ya, 0o644)
}

// requireResponseFields marks every property of a response schema required, since the API
// always writes every key (null when empty); clients can rely on that and tests check it.
// Schemas named *Request are inputs and keep their own rules; a property tagged x-optional
// (extensions:"x-optional") may be absent.
func requireResponseFields(doc *openapi3.T) {
	for name, ref := range doc.Components.Schemas {
		s := ref.Value
		if s == nil || strings.HasSuffix(name, "Request") {
			continue
		}
		s.Required = s.Required[:0]
		for prop, pr := range s.Properties {
			if pr.Value != nil {
				if _, ok := pr.Value.Extensions["x-optional"]; ok {
					delete(pr.Value.Extensions, "x-optional")
					continue
				}
			}
			s.Required = append(s.Required, prop)
		}
		sort.Strings(s.Required)
	}
}

// fixOperations names every operation after its summary ("List API keys" → listAPIKeys), so
// generated clients get stable method names, and marks operations without a security
// requirement as public explicitly.
func fixOperations(doc *openapi3.T) {
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				op.OperationID = camel(op.Summary)
			}
			if prev, dup := seen[op.OperationID]; dup {
				panic(fmt.Sprintf("operationId %q of %s %s repeats %s", op.OperationID, method, path, prev))
			}
			seen[op.OperationID] = method + " " + path
			if op.Security == nil {
				op.Security = &openapi3.SecurityRequirements{}
			}
		}
	}
}

func camel(summary string) string {
	var b strings.Builder
	for i, w := range strings.Fields(summary) {
		w = strings.Trim(w, ".,:;'\"()")
		if w == "" {
			continue
		}
		if i == 0 {
			b.WriteString(strings.ToLower(w[:1]) + w[1:])
		} else {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// fixNullableRefs gives a nullable allOf wrapper (swag's form of a nullable $ref) its type,
// as OpenAPI 3.0 wants a type beside nullable, and untypes properties marked x-any.
func fixNullableRefs(doc *openapi3.T) {
	for _, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		for _, p := range ref.Value.Properties {
			if v := p.Value; v != nil && v.Nullable && v.Type == nil && len(v.AllOf) > 0 {
				v.Type = &openapi3.Types{openapi3.TypeObject}
			}
			// swag cannot say "any JSON value"; x-any marks such a property and loses its type here.
			if v := p.Value; v != nil {
				if _, ok := v.Extensions["x-any"]; ok {
					delete(v.Extensions, "x-any")
					v.Type = nil
					v.Example = nil
				}
			}
		}
	}
}

// fixErrorMediaTypes serves every 4xx/5xx response as application/problem+json, and gives
// operations without one a description so the linter has nothing to say.
func fixErrorMediaTypes(doc *openapi3.T) {
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code, ref := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil || n < 400 || ref.Value == nil {
					continue
				}
				mt, ok := ref.Value.Content["application/json"]
				if !ok {
					// An operation that produces something else (text/event-stream) still
					// answers its errors as problems.
					for _, m := range ref.Value.Content {
						mt, ok = m, true
						break
					}
				}
				if ok {
					ref.Value.Content = openapi3.Content{"application/problem+json": mt}
					continue
				}
				// An operation that produces another type (plain text) still fails with problems.
				for _, mt := range ref.Value.Content {
					if mt.Schema != nil && strings.HasSuffix(mt.Schema.Ref, "/Problem") {
						ref.Value.Content = openapi3.Content{"application/problem+json": mt}
						break
					}
				}
			}
		}
	}
}
