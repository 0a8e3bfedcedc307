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
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/switchboard/switchboard/openapi"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

func main() {
	in := flag.String("in", "", "swagger.json written by swag")
	out := flag.String("out", "openapi", "directory for openapi.json and openapi.yaml")
	examples := flag.String("examples", "openapi/examples", "directory of operation examples (<operationId>.json)")
	flag.Parse()
	if err := run(*in, *out, *examples); err != nil {
		fmt.Fprintln(os.Stderr, "specgen:", err)
		os.Exit(1)
	}
}

func run(in, out, examples string) error {
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
	fixSecurity(doc)
	addHeaders(doc)
	fixNullableRefs(doc)
	fixRequests(doc)
	problemCodes(doc)
	eventUnion(doc)
	if err := addExamples(doc, examples); err != nil {
		return err
	}
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

// fixOperations checks that every operation has one declared tag and its own verbNoun id (an @ID annotation:
// listConversations, sendMessage), which generated clients use as method names, and marks
// operations without a security requirement as public explicitly. An id made up from the
// summary gave clients names like mayIWriteToThisContactNow?, so a missing one stops the build.
func fixOperations(doc *openapi3.T) {
	seen := map[string]string{}
	declared := map[string]bool{}
	for _, t := range doc.Tags {
		declared[t.Name] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(op.Tags) != 1 || !declared[op.Tags[0]] {
				panic(fmt.Sprintf("%s %s: tags %q: an operation has one tag, declared with @tag.name in api/server.go", method, path, op.Tags))
			}
			if !operationID.MatchString(op.OperationID) {
				panic(fmt.Sprintf("%s %s: operationId %q is not a verbNoun id; give the handler an @ID annotation", method, path, op.OperationID))
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

// fixSecurity declares BearerAuth as what it is, HTTP bearer authentication. Swagger 2.0 can
// only say "an apiKey in the Authorization header", which leaves generated clients to build
// the "Bearer " prefix by hand.
func fixSecurity(doc *openapi3.T) {
	ref, ok := doc.Components.SecuritySchemes["BearerAuth"]
	if !ok || ref.Value == nil {
		panic("no BearerAuth security scheme: see the @securityDefinitions in api/server.go")
	}
	doc.Components.SecuritySchemes["BearerAuth"] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type:         "http",
		Scheme:       "bearer",
		BearerFormat: "JWT access token or API key",
		Description:  "A user's access token from POST /v1/auth/login (a JWT), or an API key (sbk_...): `Authorization: Bearer <token>`.",
	}}
}

// addHeaders documents the headers the server's middleware puts on answers, which no handler
// annotation can say once for all: X-Request-Id on every answer (withRequestID), and
// WWW-Authenticate on every 401 (problem.go). It also checks that every operation taking a body
// documents 413, since the body limit applies to all of them.
func addHeaders(doc *openapi3.T) {
	str := &openapi3.SchemaRef{Value: openapi3.NewStringSchema()}
	if doc.Components.Headers == nil {
		doc.Components.Headers = openapi3.Headers{}
	}
	doc.Components.Headers["RequestId"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: "The request's id: the client's X-Request-Id when well formed, else one the server made. Problems repeat it as request_id.",
		Schema:      str}}}
	doc.Components.Headers["WWWAuthenticate"] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: `The scheme to authenticate with: Bearer, with error="invalid_token" when the token was refused.`,
		Schema:      str}}}
	requestID := &openapi3.HeaderRef{Ref: "#/components/headers/RequestId", Value: doc.Components.Headers["RequestId"].Value}
	authenticate := &openapi3.HeaderRef{Ref: "#/components/headers/WWWAuthenticate", Value: doc.Components.Headers["WWWAuthenticate"].Value}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.RequestBody != nil && op.Responses.Value("413") == nil {
				panic(fmt.Sprintf("%s %s takes a body but does not document 413: add @Failure 413 {object} Problem", method, path))
			}
			for code, ref := range op.Responses.Map() {
				if ref.Value == nil {
					continue
				}
				if ref.Value.Headers == nil {
					ref.Value.Headers = openapi3.Headers{}
				}
				ref.Value.Headers["X-Request-Id"] = requestID
				if code == "401" {
					ref.Value.Headers["WWW-Authenticate"] = authenticate
				}
			}
		}
	}
}

// operationID is a lower-camel identifier: a verb, then what it acts on.
var operationID = regexp.MustCompile(`^[a-z]+(?:[A-Z][A-Za-z0-9]*)*$`)

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

// fixRequests declares on the request side what the server enforces beyond the annotations
// swag can express, so a client or fuzzer generated from the spec sends what the server takes:
//   - every request body schema (the *Request schemas) has additionalProperties: false, as
//     bind decodes with DisallowUnknownFields (a 400 unknown_field); free-form members
//     (config, custom_fields) are inline schemas and stay open, their values nullable where
//     the field is a merge patch (x-nullable-values);
//   - limit is 1..page.MaxLimit and cursor at most 512 characters (pageParams);
//   - the {id} path parameter and the id-valued query parameters are UUIDs (pathID, uuidParam).
func fixRequests(doc *openapi3.T) {
	for name, ref := range doc.Components.Schemas {
		if ref.Value != nil && strings.HasSuffix(name, "Request") {
			no := false
			ref.Value.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
			// A merge patch's map (extensions:"x-nullable-values") takes null to clear a key.
			for _, p := range ref.Value.Properties {
				if v := p.Value; v != nil {
					if _, ok := v.Extensions["x-nullable-values"]; ok {
						delete(v.Extensions, "x-nullable-values")
						v.AdditionalProperties = openapi3.AdditionalProperties{Schema: &openapi3.SchemaRef{Value: &openapi3.Schema{Nullable: true}}}
					}
				}
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil &&
					mt.Schema.Ref != "" && !strings.HasSuffix(mt.Schema.Ref, "Request") {
					panic(fmt.Sprintf("%s: request body schema %s is not named *Request; name it so (// @name ...Request) to get the request rules", path, mt.Schema.Ref))
				}
			}
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				p := pr.Value
				if p == nil || p.Schema == nil || p.Schema.Value == nil {
					continue
				}
				s := p.Schema.Value
				switch {
				case p.In == openapi3.ParameterInQuery && p.Name == "limit":
					s.Min, s.Max = ptr(1.0), ptr(float64(page.MaxLimit))
				case p.In == openapi3.ParameterInQuery && p.Name == "cursor":
					s.MaxLength = ptr(uint64(512))
				case p.In == openapi3.ParameterInPath && p.Name == "id",
					p.In == openapi3.ParameterInQuery && uuidQuery[p.Name]:
					s.Format = "uuid"
				}
			}
		}
	}
}

// uuidQuery are the query parameters read with uuidParam (api/bind.go).
var uuidQuery = map[string]bool{"assignee_id": true, "channel_id": true, "conversation_id": true, "as_user": true}

func ptr[T any](v T) *T { return &v }

// problemCodes makes Problem.code the enum of errkind.Codes and lists what each code means,
// so a client can switch on it exhaustively. The api tests validate every problem they see
// against it, and errkind's test holds the table to the source.
func problemCodes(doc *openapi3.T) {
	code := schema(doc, "Problem").Properties["code"]
	if code == nil || code.Value == nil {
		panic("Problem has no code property")
	}
	var desc strings.Builder
	desc.WriteString("A stable, machine-readable code for the error; switch on it rather than on title or detail.")
	for _, name := range errkind.CodeNames() {
		code.Value.Enum = append(code.Value.Enum, name)
		fmt.Fprintf(&desc, "\n- `%s`: %s", name, errkind.Codes[name])
	}
	code.Value.Description = desc.String()
}

// eventResources maps an event type's prefix to the schema of its data.
var eventResources = []struct{ prefix, schema, name string }{
	{"message.", "Message", "EventMessage"},
	{"conversation.", "Conversation", "EventConversation"},
	{"contact.", "Contact", "EventContact"},
	{"note.", "Message", "EventNote"},
	{"mention.", "Mention", "EventMention"},
}

// eventUnion turns Event, whose data swag can only call an object, into a oneOf discriminated
// by type: EventMessage (data is a Message), EventConversation and EventContact, each with the
// type values of its resource. Generated clients then type data per event type. Every type in
// Event's enum must fall in one of them.
func eventUnion(doc *openapi3.T) {
	event := schema(doc, "Event")
	types := event.Properties["type"].Value.Enum
	mapping := map[string]openapi3.MappingRef{}
	union := openapi3.SchemaRefs{}
	for _, r := range eventResources {
		variant := *event // a shallow copy: properties are replaced, not changed in place
		variant.Properties = openapi3.Schemas{}
		for k, v := range event.Properties {
			variant.Properties[k] = v
		}
		typ := *event.Properties["type"].Value
		typ.Enum = nil
		for _, t := range types {
			if strings.HasPrefix(t.(string), r.prefix) {
				typ.Enum = append(typ.Enum, t)
				mapping[t.(string)] = openapi3.MappingRef{Ref: "#/components/schemas/" + r.name}
			}
		}
		if len(typ.Enum) == 0 {
			panic("no event type starts with " + r.prefix)
		}
		typ.Example = typ.Enum[0]
		variant.Properties["type"] = &openapi3.SchemaRef{Value: &typ}
		variant.Properties["data"] = &openapi3.SchemaRef{Ref: "#/components/schemas/" + r.schema, Value: schema(doc, r.schema)}
		variant.Description = fmt.Sprintf("An event about a %s: data is the %s as the API returns it.", strings.ToLower(r.schema), r.schema)
		doc.Components.Schemas[r.name] = &openapi3.SchemaRef{Value: &variant}
		union = append(union, &openapi3.SchemaRef{Ref: "#/components/schemas/" + r.name, Value: &variant})
	}
	for _, t := range types {
		if _, ok := mapping[t.(string)]; !ok {
			panic(fmt.Sprintf("event type %q has no data schema: add its prefix to eventResources", t))
		}
	}
	// In place: the $refs to Event (EventList's items) hold this same value.
	*event = openapi3.Schema{
		Description:   "One change in the workspace, as GET /v1/events lists it, the stream sends it and subscriber webhooks receive it. type says what happened and which schema data has.",
		OneOf:         union,
		Discriminator: &openapi3.Discriminator{PropertyName: "type", Mapping: mapping},
	}
}

// schema is the component schema called name; a missing one is a bug in the annotations.
func schema(doc *openapi3.T, name string) *openapi3.Schema {
	ref, ok := doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		panic("no schema " + name)
	}
	return ref.Value
}

// exampleFile is openapi/examples/<operationId>.json: named examples of the operation's
// request body and of its answers by status.
type exampleFile struct {
	Request   map[string]*openapi3.Example            `json:"request"`
	Responses map[string]map[string]*openapi3.Example `json:"responses"`
}

// addExamples puts the examples of openapi/examples/ on the main operations, one file an
// operation named by its id, so docs and generated clients show real requests and answers.
// A success answer without a written example gets one built from its schema's property
// examples. The strict validation then checks every example against its schema.
func addExamples(doc *openapi3.T, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no examples in %s", dir)
	}
	ops := map[string]*openapi3.Operation{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops[op.OperationID] = op
		}
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		op, ok := ops[id]
		if !ok {
			return fmt.Errorf("%s: no operation %q", f, id)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var ex exampleFile
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ex); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		if len(ex.Request) > 0 {
			if op.RequestBody == nil || op.RequestBody.Value.Content.Get("application/json") == nil {
				return fmt.Errorf("%s: %s takes no JSON body", f, id)
			}
			op.RequestBody.Value.Content.Get("application/json").Examples = examples(ex.Request)
		}
		for code, named := range ex.Responses {
			mt := mediaType(op, code)
			if mt == nil {
				return fmt.Errorf("%s: %s documents no body for %s", f, id, code)
			}
			mt.Examples = examples(named)
		}
		for code, ref := range op.Responses.Map() {
			if !strings.HasPrefix(code, "2") || ex.Responses[code] != nil {
				continue
			}
			if mt := ref.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
				mt.Examples = openapi3.Examples{"example": {Value: &openapi3.Example{
					Summary: "Built from the schema's examples", Value: exampleOf(mt.Schema)}}}
			}
		}
	}
	return nil
}

func examples(named map[string]*openapi3.Example) openapi3.Examples {
	out := openapi3.Examples{}
	for name, e := range named {
		out[name] = &openapi3.ExampleRef{Value: e}
	}
	return out
}

// mediaType is the body of the operation's answer with that status: JSON, or a problem.
func mediaType(op *openapi3.Operation, code string) *openapi3.MediaType {
	ref := op.Responses.Value(code)
	if ref == nil || ref.Value == nil {
		return nil
	}
	if mt := ref.Value.Content.Get("application/json"); mt != nil {
		return mt
	}
	return ref.Value.Content.Get("application/problem+json")
}

// exampleOf builds a value of the schema from its properties' examples: the first variant of
// a oneOf, null for a nullable property, one item for an array.
func exampleOf(ref *openapi3.SchemaRef) any {
	s := ref.Value
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.OneOf) > 0:
		return exampleOf(s.OneOf[0])
	case s.Nullable:
		// null, as in a fresh resource (an open conversation has no closing note), which
		// keeps the example consistent; the schema shows the shape.
		return nil
	case len(s.AllOf) == 1:
		return exampleOf(s.AllOf[0])
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	switch {
	case s.Type.Is(openapi3.TypeObject):
		out := map[string]any{}
		for name, p := range s.Properties {
			out[name] = exampleOf(p)
		}
		return out
	case s.Type.Is(openapi3.TypeArray):
		return []any{exampleOf(s.Items)}
	case s.Type.Is(openapi3.TypeString):
		return ""
	case s.Type.Is(openapi3.TypeBoolean):
		return false
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		return 0
	}
	return nil
}
