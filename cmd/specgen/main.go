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
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"

	"github.com/switchboard/switchboard/openapi"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/rules"
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
	// The anchor of the event data schemas no route returns (pkg/resource, eventDataSchemas)
	// is not a route: its schemas stay, for eventUnion.
	if doc.Paths.Find(eventDataAnchor) == nil {
		return fmt.Errorf("no %s in the swagger: pkg/resource's eventDataSchemas anchor is missing", eventDataAnchor)
	}
	doc.Paths.Delete(eventDataAnchor)
	fixErrorMediaTypes(doc)
	requireResponseFields(doc)
	fixOperations(doc)
	fixSecurity(doc)
	addHeaders(doc)
	addRateLimits(doc)
	fixNullableRefs(doc)
	fixRequests(doc)
	fixPatterns(doc)
	fixTimeRanges(doc)
	requestUnions(doc)
	problemCodes(doc)
	eventTypes(doc)
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

// addressLimited are the operations without a credential that spend the client address's
// budget (api/server.go); the others without one (probes, provider webhooks, signed media
// URLs) are not limited.
var addressLimited = map[string]bool{"/v1/auth/login": true, "/v1/auth/refresh": true}

// addRateLimits documents the budgets' middleware (api/ratelimit.go) on every operation it
// guards: every operation with a credential, and login and refresh. Each of their answers may
// carry RateLimit-Limit, -Remaining and -Reset (not required: an answer before the budget is
// known, a 400 for a malformed query, has none, and a server with RATE_LIMITS=off sends none);
// each may answer 429 rate_limited with Retry-After.
func addRateLimits(doc *openapi3.T) {
	integer := func() *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema().WithMin(0)}
	}
	headers := []struct{ name, component, description string }{
		{"RateLimit-Limit", "RateLimitLimit", "The budget of the credential (requests a minute: RATE_LIMIT_PER_MINUTE, or the key's rate_limit_per_minute), or of the client address on routes without a credential (RATE_LIMIT_PER_ADDRESS)."},
		{"RateLimit-Remaining", "RateLimitRemaining", "Requests left in the budget now, after this one."},
		{"RateLimit-Reset", "RateLimitReset", "Seconds until the budget is full again (RateLimit-Remaining equals RateLimit-Limit); the budget refills evenly, one request every minute/RateLimit-Limit."},
		{"Retry-After", "RetryAfter", "Seconds to wait before the next request is allowed."},
	}
	refs := map[string]*openapi3.HeaderRef{}
	for _, h := range headers {
		doc.Components.Headers[h.component] = &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
			Description: h.description, Schema: integer()}}}
		refs[h.name] = &openapi3.HeaderRef{Ref: "#/components/headers/" + h.component, Value: doc.Components.Headers[h.component].Value}
	}
	problem, ok := doc.Components.Schemas["Problem"]
	if !ok {
		panic("no Problem schema: see api/problem.go")
	}
	problemRef := &openapi3.SchemaRef{Ref: "#/components/schemas/Problem", Value: problem.Value}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if (op.Security == nil || len(*op.Security) == 0) && !addressLimited[path] {
				continue
			}
			if op.Responses.Value("429") == nil {
				desc := "rate_limited: the credential's budget of requests a minute (or, without a valid credential, the client address's) is spent; Retry-After says when to try again."
				if op.OperationID == "sendMessage" {
					desc = "rate_limited: the credential's budget of requests a minute, or the workspace's of sends a second (SEND_RATE_PER_SECOND), is spent; Retry-After says when to try again."
				}
				resp := openapi3.NewResponse().WithDescription(desc).
					WithContent(openapi3.Content{"application/problem+json": openapi3.NewMediaType().WithSchemaRef(problemRef)})
				resp.Headers = openapi3.Headers{"Retry-After": refs["Retry-After"],
					"X-Request-Id": &openapi3.HeaderRef{Ref: "#/components/headers/RequestId", Value: doc.Components.Headers["RequestId"].Value}}
				op.Responses.Set("429", &openapi3.ResponseRef{Value: resp})
			}
			for _, ref := range op.Responses.Map() {
				if ref.Value == nil {
					continue
				}
				for _, name := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
					ref.Value.Headers[name] = refs[name]
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
//   - the {id} path parameter and the id-valued query parameters are UUIDs (pathID, uuidParam);
//   - a file part of a multipart body (a binary member) has at least one byte, as media.Put
//     refuses an empty file (swag takes no minlength on a file parameter).
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
				if mt := op.RequestBody.Value.Content.Get("multipart/form-data"); mt != nil && mt.Schema != nil && mt.Schema.Value != nil {
					for _, p := range mt.Schema.Value.Properties {
						if p.Value != nil && p.Value.Format == "binary" {
							p.Value.MinLength = 1
						}
					}
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
var uuidQuery = map[string]bool{"assignee_id": true, "channel_id": true, "conversation_id": true, "as_user": true, "label_id": true,
	"contact_id": true, "team_id": true}

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

// eventDataAnchor is the path of pkg/resource's eventDataSchemas: an annotation that makes
// swag keep the schemas of event data that no route returns.
const eventDataAnchor = "/x-event-data"

// eventResources maps an event type's prefix to the schema of its data.
var eventResources = []struct{ prefix, schema, name string }{
	{"message.", "Message", "EventMessage"},
	{"conversation.", "Conversation", "EventConversation"},
	// Before "contact.": a type goes to the first entry it matches.
	{"contact.merged", "ContactMerged", "EventContactMerged"},
	{"contact.", "Contact", "EventContact"},
	{"note.", "Message", "EventNote"},
	{"mention.", "Mention", "EventMention"},
	{"scheduled_message.", "ScheduledMessage", "EventScheduledMessage"},
	{"window.", "WindowAlert", "EventWindow"},
	{"broadcast.", "Broadcast", "EventBroadcast"},
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
			if _, taken := mapping[t.(string)]; !taken && strings.HasPrefix(t.(string), r.prefix) {
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

// fixPatterns turns the x-pattern extension (extensions:"x-pattern=..." on a request field, or
// extensions(x-pattern=...) on a parameter), which swag cannot write as a pattern itself, into
// the schema's pattern; on an array it is the pattern of every item.
func fixPatterns(doc *openapi3.T) {
	take := func(ext map[string]any) (string, bool) {
		v, ok := ext["x-pattern"]
		if !ok {
			return "", false
		}
		delete(ext, "x-pattern")
		s, isString := v.(string)
		if !isString {
			panic(fmt.Sprintf("x-pattern %v is not a string", v))
		}
		if named, ok := namedPatterns[s]; ok {
			return named, true
		}
		return s, true
	}
	set := func(s *openapi3.Schema, pattern string) {
		if s.Type.Is(openapi3.TypeArray) && s.Items != nil && s.Items.Value != nil {
			s = s.Items.Value
		}
		s.Pattern = pattern
	}
	for _, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		for _, p := range ref.Value.Properties {
			if p.Value == nil {
				continue
			}
			if pattern, ok := take(p.Value.Extensions); ok {
				set(p.Value, pattern)
			}
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, pr := range op.Parameters {
				if p := pr.Value; p != nil {
					if pattern, ok := take(p.Extensions); ok {
						set(p.Schema.Value, pattern)
					}
				}
			}
		}
	}
}

// eventTypes writes event.Types, the one list of event types, wherever the spec names them:
// Event's type, the types filter of the event list and stream, and a webhook's events (with
// "*"). Annotations leave them out, so a new event type cannot be missing from one of them.
func eventTypes(doc *openapi3.T) {
	enum := func(s *openapi3.Schema, extra ...string) {
		s.Enum = nil
		for _, t := range append(extra, event.Types...) {
			s.Enum = append(s.Enum, t)
		}
	}
	enum(schema(doc, "Event").Properties["type"].Value)
	for _, name := range []string{"CreateWebhookRequest", "UpdateWebhookRequest"} {
		enum(schema(doc, name).Properties["events"].Value.Items.Value, "*")
	}
	n := 0
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == "types" {
					enum(p.Value.Schema.Value.Items.Value)
					n++
				}
			}
		}
	}
	if n != 2 {
		panic(fmt.Sprintf("%d operations take a types filter, want 2 (listEvents, streamEvents)", n))
	}
}

// requestUnions gives the request bodies whose members depend on one another one shape per
// case, as the server checks them, so that a client generated from the spec (and the spec
// fuzz run) builds only bodies the server takes:
//   - SendMessageRequest, by type: text, template or attachment (conversation.Draft's validate);
//   - InboundMessageRequest: a text, or attachments with an optional caption (Ingest);
//   - AttachmentRequest: stored media by id, or a link with its type (checkAttachments);
//   - TemplateButtonRequest, by type: quick_reply, url or phone_number (template's validate);
//   - CreateChannelRequest: one shape per channel type and provider that delivers it, with the
//     provider's config (channel.Providers, what parseConfig checks) and the type's rule
//     options (rules.Table);
//   - UpdateChannelRequest: one shape per channel type, and one per type and provider with
//     config, with that type's options and that provider's config as a merge patch;
//   - SetChannelProviderRequest: one shape per channel type and provider, with the provider's
//     whole config, as at creation.
//
// Each shape is a named component schema, closed as bind decodes (unknown members refused).
// The members are swag's, taken by name: a member swag's schema gains or loses fails the
// generation here until it is placed. A null where a shape leaves a member out (a text
// message's "template": null) is taken by the server and refused by the spec.
func requestUnions(doc *openapi3.T) {
	sendUnion(doc)
	inboundUnion(doc)
	attachmentUnion(doc)
	buttonUnion(doc)
	channelUnions(doc)
	broadcastUnions(doc)
}

// broadcastUnions: a broadcast's audience is contact_ids or a tag, never both nor neither;
// its message is a text (not blank once trimmed) or a template, as a send's (conversation's
// BroadcastService validate).
func broadcastUnions(doc *openapi3.T) {
	a := members(doc, "BroadcastAudience", "contact_ids", "tag")
	union(doc, "BroadcastAudience", "Who the broadcast goes to: contacts by id, or every contact with a tag.", "", []shape{
		{"BroadcastAudienceByIDs", "1 to 10 000 contacts of the workspace by id.", openapi3.Schemas{"contact_ids": a["contact_ids"]}, []string{"contact_ids"}},
		{"BroadcastAudienceByTag", "Every contact with the tag (at most 1 000 000).", openapi3.Schemas{"tag": a["tag"]}, []string{"tag"}},
	})
	m := members(doc, "BroadcastMessageRequest", "type", "text", "template")
	text := derived(m["text"], func(s *openapi3.Schema) {
		s.MinLength, s.Pattern = 1, notBlank
		s.Description = "The message: not blank; it is trimmed. {{contact.first_name}}, {{contact.last_name}} and {{contact.custom_fields.KEY}} are filled per recipient (a missing field is the empty string)."
	})
	union(doc, "BroadcastMessageRequest", "The broadcast's message: a text or a template of the channel, as a send's.", "type", []shape{
		{"BroadcastTextMessageRequest", "A free-form text message.",
			openapi3.Schemas{"type": constant("text", ""), "text": text}, []string{"type", "text"}},
		{"BroadcastTemplateMessageRequest", "A template of the channel, with its variables ({{contact.*}} filled per recipient).",
			openapi3.Schemas{"type": constant("template", ""), "template": m["template"]}, []string{"type", "template"}},
	})
}

// fixTimeRanges writes out the x-from-now an annotation names (extensions:"x-from-now=sendAt")
// as the range an instant must fall in, relative to the server's clock when it takes the
// request: {"exclusiveMinimum": "PT0S", "maximum": "P30D"} is after now and at most 30 days
// ahead. JSON Schema has no relative time, so the bound is an extension, as Schemathesis is
// taught a format: a client or a fuzzer that reads it draws instants the server takes. The
// durations come from the constants the server checks with, so they cannot drift.
func fixTimeRanges(doc *openapi3.T) {
	for name, ref := range doc.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		for prop, p := range ref.Value.Properties {
			if p.Value == nil {
				continue
			}
			v, ok := p.Value.Extensions["x-from-now"]
			if !ok {
				continue
			}
			named, _ := v.(string)
			r, ok := namedTimeRanges[named]
			if !ok {
				panic(fmt.Sprintf("%s.%s: x-from-now %v names no range of namedTimeRanges", name, prop, v))
			}
			p.Value.Extensions["x-from-now"] = r
		}
	}
}

// namedTimeRanges are the ranges x-from-now names: a scheduled send's send_at, a snooze's
// until, and a received_at that must not be in the future.
var namedTimeRanges = map[string]map[string]string{
	"sendAt":  {"exclusiveMinimum": "PT0S", "maximum": isoDays(conversation.MaxScheduleAhead)},
	"snooze":  {"exclusiveMinimum": "PT0S", "maximum": isoDays(conversation.MaxSnooze)},
	"notLate": {"maximum": "PT0S"},
}

// isoDays writes a whole number of days as an ISO 8601 duration (P30D).
func isoDays(d time.Duration) string {
	if d%(24*time.Hour) != 0 {
		panic(fmt.Sprintf("%s is not a whole number of days", d))
	}
	return fmt.Sprintf("P%dD", d/(24*time.Hour))
}

// namedPatterns are the patterns an annotation names rather than writes out
// (extensions:"x-pattern=notBlank"), so the unions below and the annotations share one text.
var namedPatterns = map[string]string{"notBlank": notBlank, "url": urlPattern, "phone": phonePattern}

// phonePattern is the shape of a phone number (format phone, openapi.FormatPhone): 3 to 20
// digits, with an optional leading +, and spaces, parentheses, dots or dashes between them;
// or empty (the server trims it), which clears the phone.
const phonePattern = `^\s*(\+?[ ().-]*([0-9][ ().-]*){3,20})?\s*$`

// notBlank is the x-pattern of a value the server trims and then requires: one character that
// is not white space (unicode.IsSpace).
const notBlank = "[^\\t\\n\\x0b\\f\\r \\x85\\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"

// The parts of a destination's pattern, as egress checks one (a host name whose last label is
// not a number, an IPv4 address, or an IPv6 address in brackets in a URL), and of an http(s)
// URL without credentials whose port is 1 to 65535 (x-pattern=url in the annotations).
const (
	hostNamePattern = `([A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*[A-Za-z_]([A-Za-z0-9_-]*[A-Za-z0-9_])?\.?`
	ipv4Pattern     = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}`
	ipv6Pattern     = `([0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){7}|([0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){0,2})?::([0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){0,2})?)`
	portPattern     = `(:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?`
	urlPattern      = `^(\s*[Hh][Tt][Tt][Pp][Ss]?://(` + hostNamePattern + `|` + ipv4Pattern + `|\[` + ipv6Pattern + `\])` + portPattern +
		`([/?#]([!-$&-~]|%[0-9A-Fa-f]{2})*)?\s*)$`
	// hostPattern is a host to connect to without a port (an SMTP server): an IPv6 address
	// with or without brackets.
	hostPattern = `^\s*(` + hostNamePattern + `|` + ipv4Pattern + `|` + ipv6Pattern + `|\[` + ipv6Pattern + `\])\s*$`
)

// shape is one member of a request union: a closed object schema, a component of its own.
type shape struct {
	name, description string
	props             openapi3.Schemas
	required          []string
}

// union replaces the schema called name in place (the $refs to it hold this value) with a
// oneOf of the shapes. With a discriminator, each shape's own value of that member (the single
// value of its enum) maps to it.
func union(doc *openapi3.T, name, description, discriminator string, shapes []shape) {
	target := schema(doc, name)
	var disc *openapi3.Discriminator
	if discriminator != "" {
		disc = &openapi3.Discriminator{PropertyName: discriminator, Mapping: map[string]openapi3.MappingRef{}}
	}
	var refs openapi3.SchemaRefs
	for _, sh := range shapes {
		ref := component(doc, sh.name, closed(sh.description, sh.props, sh.required...))
		refs = append(refs, ref)
		if disc != nil {
			p := sh.props[discriminator]
			if p == nil || len(p.Value.Enum) != 1 || !slices.Contains(sh.required, discriminator) {
				panic(fmt.Sprintf("%s: the discriminator %s is not a required member of one value", sh.name, discriminator))
			}
			disc.Mapping[p.Value.Enum[0].(string)] = openapi3.MappingRef{Ref: ref.Ref}
		}
	}
	*target = openapi3.Schema{Description: description, OneOf: refs, Discriminator: disc}
}

// closed is an object schema of these members and no others.
func closed(description string, props openapi3.Schemas, required ...string) *openapi3.Schema {
	for _, r := range required {
		if props[r] == nil {
			panic(fmt.Sprintf("required %q is not a member of %v", r, slices.Sorted(maps.Keys(props))))
		}
	}
	no := false
	return &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeObject}, Description: description, Properties: props,
		Required: slices.Sorted(slices.Values(required)), AdditionalProperties: openapi3.AdditionalProperties{Has: &no}}
}

// component adds the schema as a component called name and returns a $ref to it.
func component(doc *openapi3.T, name string, s *openapi3.Schema) *openapi3.SchemaRef {
	if _, taken := doc.Components.Schemas[name]; taken {
		panic("a schema called " + name + " exists already")
	}
	doc.Components.Schemas[name] = &openapi3.SchemaRef{Value: s}
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name, Value: s}
}

// members are the properties of swag's schema, which must be exactly these.
func members(doc *openapi3.T, name string, want ...string) openapi3.Schemas {
	s := schema(doc, name)
	if got := slices.Sorted(maps.Keys(s.Properties)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		panic(fmt.Sprintf("%s has members %v, requestUnions places %v: place the new ones in its shapes", name, got, slices.Sorted(slices.Values(want))))
	}
	return s.Properties
}

// with is the members named from all, and more.
func with(all openapi3.Schemas, names []string, more openapi3.Schemas) openapi3.Schemas {
	out := openapi3.Schemas{}
	for _, n := range names {
		out[n] = all[n]
	}
	maps.Copy(out, more)
	return out
}

// derived is a copy of an inline member's schema, changed.
func derived(ref *openapi3.SchemaRef, change func(*openapi3.Schema)) *openapi3.SchemaRef {
	if ref.Ref != "" {
		panic("derived from a $ref: " + ref.Ref)
	}
	v := *ref.Value
	change(&v)
	return &openapi3.SchemaRef{Value: &v}
}

// constant is a string member with one value, a shape's value of its discriminator.
func constant(value, description string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}, Enum: []any{value},
		Example: value, Description: description}}
}

// enumOf is the string values of a member's enum.
func enumOf(ref *openapi3.SchemaRef) []string {
	var out []string
	for _, v := range ref.Value.Enum {
		out = append(out, v.(string))
	}
	return out
}

// sendUnion: SendMessageRequest by type (conversation.Draft's validate). A text message takes
// text only, not blank once trimmed; a template message its template (its text is rendered);
// an attachment message its attachments and an optional caption, which may be blank. Each takes
// channel_id, tag (the rules decide whether a tag is allowed on the channel), on_behalf_of and
// the scheduling members.
func sendUnion(doc *openapi3.T) {
	p := members(doc, "SendMessageRequest", "type", "text", "template", "attachments", "channel_id", "tag", "on_behalf_of",
		"send_at", "fallback_template", "cancel_if_customer_replied")
	if got := enumOf(p["type"]); !slices.Equal(got, []string{"text", "template", "attachment"}) {
		panic(fmt.Sprintf("SendMessageRequest.type is one of %v: give each type a shape", got))
	}
	// Every type may be scheduled (send_at, with its fallback and cancel condition).
	common := []string{"channel_id", "tag", "on_behalf_of", "send_at", "fallback_template", "cancel_if_customer_replied"}
	text := derived(p["text"], func(s *openapi3.Schema) {
		s.MinLength, s.Pattern = 1, notBlank
		s.Description = "The message: not blank; it is trimmed."
	})
	caption := derived(p["text"], func(s *openapi3.Schema) {
		s.Description, s.Example = "An optional caption; it is trimmed.", "Your invoice"
	})
	union(doc, "SendMessageRequest", "A message to send: one shape per type (text, template or attachment), each with only the members that type takes.", "type", []shape{
		{"SendTextMessageRequest", "A free-form text message.",
			with(p, common, openapi3.Schemas{"type": constant("text", ""), "text": text}), []string{"type", "text"}},
		{"SendTemplateMessageRequest", "A template message: an approved template of the channel, with its variables; the message's text is rendered from it.",
			with(p, common, openapi3.Schemas{"type": constant("template", ""), "template": p["template"]}), []string{"type", "template"}},
		{"SendAttachmentMessageRequest", "1 to 10 files (uploaded media or links), with an optional caption.",
			with(p, common, openapi3.Schemas{"type": constant("attachment", ""), "attachments": p["attachments"], "text": caption}), []string{"type", "attachments"}},
	})
}

// inboundUnion: InboundMessageRequest is a text, not blank once trimmed, or attachments with
// an optional caption (conversation's Ingest); the server takes both together, so the text
// shape is the one without attachments.
func inboundUnion(doc *openapi3.T) {
	p := members(doc, "InboundMessageRequest", "identifier", "text", "attachments", "received_at", "contact", "external_id")
	common := []string{"identifier", "received_at", "contact", "external_id"}
	text := derived(p["text"], func(s *openapi3.Schema) {
		s.MinLength, s.Pattern = 1, notBlank
		s.Description = "The customer's message: not blank; it is trimmed."
	})
	caption := derived(p["text"], func(s *openapi3.Schema) {
		s.Description, s.Example = "An optional caption; it is trimmed.", "Here is the photo"
	})
	union(doc, "InboundMessageRequest", "A customer's message: a text, or files with an optional caption.", "", []shape{
		{"InboundTextMessageRequest", "A text message.",
			with(p, common, openapi3.Schemas{"text": text}), []string{"identifier", "text"}},
		{"InboundAttachmentMessageRequest", "1 to 10 files (links or uploaded media), with an optional caption.",
			with(p, common, openapi3.Schemas{"attachments": p["attachments"], "text": caption}), []string{"identifier", "attachments"}},
	})
}

// attachmentUnion: AttachmentRequest is stored media by id (its type and size are the
// stored ones) or a link with its media type, never both (checkAttachments).
func attachmentUnion(doc *openapi3.T) {
	p := members(doc, "AttachmentRequest", "media_id", "url", "mime_type", "filename")
	union(doc, "AttachmentRequest", "One file: media uploaded with POST /v1/media, or a link.", "", []shape{
		{"MediaAttachmentRequest", "A file uploaded with POST /v1/media.",
			with(p, []string{"filename"}, openapi3.Schemas{"media_id": p["media_id"]}), []string{"media_id"}},
		{"LinkAttachmentRequest", "A file by URL, with its media type.",
			with(p, []string{"filename"}, openapi3.Schemas{"url": p["url"], "mime_type": p["mime_type"]}), []string{"url", "mime_type"}},
	})
}

// buttonUnion: TemplateButtonRequest by type (template's validate): a quick reply has no
// value (empty or absent, as a template answers it), a url button an http(s) URL (a prefix,
// as the server checks it, not trimmed), a phone_number button a value that is not empty.
func buttonUnion(doc *openapi3.T) {
	p := members(doc, "TemplateButtonRequest", "type", "text", "value")
	if got := enumOf(p["type"]); !slices.Equal(got, []string{"quick_reply", "url", "phone_number"}) {
		panic(fmt.Sprintf("TemplateButtonRequest.type is one of %v: give each type a shape", got))
	}
	value := func(description string, example any, change func(*openapi3.Schema)) *openapi3.SchemaRef {
		return derived(p["value"], func(s *openapi3.Schema) {
			s.Description, s.Example = description, example
			change(s)
		})
	}
	union(doc, "TemplateButtonRequest", "A template's button: one shape per type (quick_reply, url or phone_number).", "type", []shape{
		{"TemplateQuickReplyButtonRequest", "A quick reply: the customer's tap answers with its text.",
			with(p, []string{"text"}, openapi3.Schemas{"type": constant("quick_reply", ""),
				"value": value("Empty or absent: a quick reply has no value.", "", func(s *openapi3.Schema) { s.MaxLength = ptr(uint64(0)) })}),
			[]string{"type", "text"}},
		{"TemplateURLButtonRequest", "A call to action that opens a web page.",
			with(p, []string{"text"}, openapi3.Schemas{"type": constant("url", ""),
				"value": value("The page: an http:// or https:// URL.", "https://example.com/track", func(s *openapi3.Schema) { s.Pattern = "^https?://" })}),
			[]string{"type", "text", "value"}},
		{"TemplatePhoneNumberButtonRequest", "A call to action that dials a phone number.",
			with(p, []string{"text"}, openapi3.Schemas{"type": constant("phone_number", ""),
				"value": value("The number to call.", "+12025550100", func(s *openapi3.Schema) { s.MinLength = 1 })}),
			[]string{"type", "text", "value"}},
	})
}

// Component names of channel types and providers, for the shapes' names.
var (
	typeNames = map[rules.ChannelType]string{
		rules.WhatsApp: "WhatsApp", rules.Messenger: "Messenger", rules.Instagram: "Instagram", rules.Viber: "Viber",
		rules.WeChat: "WeChat", rules.Telegram: "Telegram", rules.LINE: "LINE", rules.Webchat: "Webchat",
		rules.SMS: "SMS", rules.Email: "Email", rules.Custom: "Custom",
	}
	providerNames = map[string]string{
		channel.ProviderSandbox: "Sandbox", channel.ProviderWhatsAppCloud: "WhatsAppCloud", channel.ProviderMessenger: "Messenger",
		channel.ProviderInstagram: "Instagram", channel.ProviderTelegram: "Telegram", channel.ProviderTwilio: "Twilio",
		channel.ProviderSMTP: "SMTP", channel.ProviderViber: "Viber", channel.ProviderLINE: "LINE", channel.ProviderWebhook: "Webhook",
	}
)

// channelUnions writes the channel request bodies, whose members depend on the channel's type
// (its rule_options) and provider (its config): create (channelUnion), change (updateChannelUnion)
// and switch providers (providerUnion). A provider's config is one component, <Provider>Config,
// that create and the switch share.
func channelUnions(doc *openapi3.T) {
	providers := channel.Providers()
	for _, pr := range providers {
		if providerNames[pr.Name] == "" {
			panic("provider " + pr.Name + " has no name in specgen's providerNames")
		}
	}
	for _, t := range rules.Types() {
		if typeNames[t] == "" {
			panic("channel type " + string(t) + " has no name in specgen's typeNames")
		}
	}
	configs := map[string]*openapi3.SchemaRef{}
	for _, pr := range providers {
		if len(pr.Config) > 0 {
			configs[pr.Name] = providerConfig(doc, pr)
		}
	}
	channelUnion(doc, providers, configs)
	updateChannelUnion(doc, providers)
	providerUnion(doc, providers, configs)
}

// channelEnums checks that swag's schema of a channel request lists the rule table's types
// and every provider, which the unions' shapes then cover one by one.
func channelEnums(name string, p openapi3.Schemas) {
	var types []string
	for _, t := range rules.Types() {
		types = append(types, string(t))
	}
	if got := enumOf(p["type"]); !slices.Equal(got, types) {
		panic(fmt.Sprintf("%s.type is one of %v, the rule table's types are %v", name, got, types))
	}
	if got := enumOf(p["provider"]); !slices.Equal(got, channel.ProviderNames()) {
		panic(fmt.Sprintf("%s.provider is one of %v, the providers are %v", name, got, channel.ProviderNames()))
	}
}

// channelUnion: CreateChannelRequest as one shape per channel type and provider that delivers
// it (channel.Providers): CreateWhatsAppCloudChannelRequest, CreateSMSTwilioChannelRequest,
// CreateEmailSandboxChannelRequest, ... Each has its type and provider as single values, the
// provider's config (a component per provider; none for the sandbox) and the type's
// rule_options (a component per type that has options; none for the others).
func channelUnion(doc *openapi3.T, providers []channel.Provider, configs map[string]*openapi3.SchemaRef) {
	p := members(doc, "CreateChannelRequest", "type", "name", "provider", "config", "rule_options")
	channelEnums("CreateChannelRequest", p)
	var shapes []shape
	for _, t := range rules.Types() {
		tn := typeNames[t]
		options := ruleOptions(doc, t)
		for _, pr := range providers {
			if !slices.Contains(pr.Types, t) {
				continue
			}
			pn := providerNames[pr.Name]
			name := "Create" + tn + strings.TrimPrefix(pn, tn) + "ChannelRequest"
			props := openapi3.Schemas{
				"type":         constant(string(t), "The channel's row in the rule table (GET /v1/channel-rules)."),
				"name":         p["name"],
				"rule_options": options,
			}
			required := []string{"type", "name"}
			var description string
			if config, ok := configs[pr.Name]; ok {
				props["provider"] = constant(pr.Name, "")
				props["config"] = config
				required = append(required, "provider", "config")
				description = fmt.Sprintf("%s %s channel delivered by the %s provider.", article(string(t)), t, pr.Name)
			} else {
				props["provider"] = constant(pr.Name, "Leave it out for the sandbox, the default.")
				props["config"] = noConfig(pr.Name)
				description = fmt.Sprintf("%s %s channel on the %s provider, which delivers nothing outside the server.", article(string(t)), t, pr.Name)
			}
			shapes = append(shapes, shape{name, description, props, required})
		}
	}
	union(doc, "CreateChannelRequest", "A channel to connect: one shape per channel type and provider that delivers it (DESIGN §6). "+
		"type is the channel's row in the rule table and decides its rule_options; provider (the sandbox when left out, which "+
		"delivers nothing outside the server) decides its config.\n\n"+p["config"].Value.Description, "", shapes)
}

// noConfig is the config of a provider that takes none (the sandbox).
func noConfig(provider string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: closed(fmt.Sprintf("The %s provider takes no config: an empty object, or leave it out.", provider), openapi3.Schemas{})}
}

// sameType is a change's type: the channel's own, named so that the change's members are read
// as that type's (channel.Service's checkType).
func sameType(t rules.ChannelType) *openapi3.SchemaRef {
	return constant(string(t), "The channel's type, which never changes: another answers 409 channel_type_mismatch.")
}

// updateChannelUnion: UpdateChannelRequest (PATCH /v1/channels/{id}, channel.Service's Update)
// as one shape per channel type, Update<Type>ChannelRequest (name and rule_options), and one
// per type and provider that takes config, Update<Type><Provider>ChannelRequest (and that
// provider's config). Each names the channel's type, and the second its provider, so that its
// members are exactly what that type and provider take: rule_options each nullable (null
// restores the default), config as the provider's merge patch (updateConfig). The provider's
// full name follows the type's, as the sandbox-less shapes of a type named after its provider
// (messenger, telegram, ...) would otherwise take the type's shape's name.
func updateChannelUnion(doc *openapi3.T, providers []channel.Provider) {
	p := members(doc, "UpdateChannelRequest", "type", "name", "provider", "config", "rule_options", "routing")
	channelEnums("UpdateChannelRequest", p)
	configs := map[string]*openapi3.SchemaRef{}
	for _, pr := range providers {
		if len(pr.Config) > 0 {
			configs[pr.Name] = updateConfig(doc, pr)
		}
	}
	var shapes []shape
	for _, t := range rules.Types() {
		tn := typeNames[t]
		options := updateRuleOptions(doc, t)
		shapes = append(shapes, shape{"Update" + tn + "ChannelRequest",
			fmt.Sprintf("Changes %s %s channel's name or rule options.", strings.ToLower(article(string(t))), t),
			openapi3.Schemas{"type": sameType(t), "name": p["name"], "rule_options": options, "routing": p["routing"]}, []string{"type"}})
		for _, pr := range providers {
			config, ok := configs[pr.Name]
			if !ok || !slices.Contains(pr.Types, t) {
				continue
			}
			shapes = append(shapes, shape{"Update" + tn + providerNames[pr.Name] + "ChannelRequest",
				fmt.Sprintf("Changes %s %s channel on the %s provider: its name, rule options or config.", strings.ToLower(article(string(t))), t, pr.Name),
				openapi3.Schemas{
					"type":         sameType(t),
					"provider":     constant(pr.Name, "The channel's provider: another answers 409 provider_mismatch (PUT /v1/channels/{id}/provider switches providers)."),
					"name":         p["name"],
					"rule_options": options,
					"routing":      p["routing"],
					"config":       config,
				}, []string{"type", "provider"}})
		}
	}
	union(doc, "UpdateChannelRequest", "Changes to a channel: one shape per channel type, and one per type and provider with config. "+
		"type is the channel's (it never changes); provider, named with config, is the channel's (PUT /v1/channels/{id}/provider switches "+
		"providers). config is merged over the current settings and rule_options over the current options.", "", shapes)
}

// providerUnion: SetChannelProviderRequest (PUT /v1/channels/{id}/provider, channel.Service's
// SetProvider) as one shape per channel type and provider that delivers it, named as create's
// (SetWhatsAppCloudProviderRequest, SetSMSTwilioProviderRequest, SetEmailSandboxProviderRequest):
// the channel's type and the provider with its whole config, the same component as create's.
func providerUnion(doc *openapi3.T, providers []channel.Provider, configs map[string]*openapi3.SchemaRef) {
	p := members(doc, "SetChannelProviderRequest", "type", "provider", "config")
	channelEnums("SetChannelProviderRequest", p)
	var shapes []shape
	for _, t := range rules.Types() {
		tn := typeNames[t]
		for _, pr := range providers {
			if !slices.Contains(pr.Types, t) {
				continue
			}
			props := openapi3.Schemas{"type": sameType(t), "provider": constant(pr.Name, "")}
			required := []string{"type", "provider"}
			description := fmt.Sprintf("Switches %s %s channel to the %s provider, with its settings.", strings.ToLower(article(string(t))), t, pr.Name)
			if config, ok := configs[pr.Name]; ok {
				props["config"] = config
				required = append(required, "config")
			} else {
				props["config"] = noConfig(pr.Name)
				description = fmt.Sprintf("Switches %s %s channel to the %s provider, which delivers nothing outside the server.", strings.ToLower(article(string(t))), t, pr.Name)
			}
			shapes = append(shapes, shape{"Set" + tn + strings.TrimPrefix(providerNames[pr.Name], tn) + "ProviderRequest", description, props, required})
		}
	}
	union(doc, "SetChannelProviderRequest", "A channel's new provider: one shape per channel type and provider that delivers it, with the "+
		"provider's whole config, which replaces the current settings (secrets sealed anew). type is the channel's (it never changes).\n\n"+
		p["config"].Value.Description, "", shapes)
}

// providerConfig is the component schema of a provider's config, <Provider>Config, as
// parseConfig checks it: each setting of its kind, the required ones required, the optional
// ones nullable (null is as absent). A group of which exactly one must be set makes the
// config a oneOf of one closed shape per member of the group, <Provider><Member>Config.
func providerConfig(doc *openapi3.T, pr channel.Provider) *openapi3.SchemaRef {
	props, required := configMembers(pr)
	for name, p := range props {
		p.Value.Nullable = !slices.Contains(required, name)
	}
	name := providerNames[pr.Name] + "Config"
	description := fmt.Sprintf("The %s provider's settings.", pr.Name)
	group := configGroup(pr)
	if group == nil {
		return component(doc, name, closed(description, props, required...))
	}
	// Each shape sets its member; the group's others may only be null, which is as absent.
	var refs openapi3.SchemaRefs
	for _, member := range group {
		shapeProps := settingMember(props, group, member, fmt.Sprintf("Only null (as absent): this shape sets %s.", member))
		refs = append(refs, component(doc, providerNames[pr.Name]+camel(member)+"Config",
			closed(fmt.Sprintf("%s With %s, not %s.", description, member, strings.Join(othersOf(group, member), ", ")),
				shapeProps, append(slices.Clone(required), member)...)))
	}
	return component(doc, name, &openapi3.Schema{Description: fmt.Sprintf("%s Exactly one of %s is set.", description, strings.Join(group, ", ")), OneOf: refs})
}

// settingMember is a config's members for the shape of a one-of group (group) that sets
// member: member required to be a value (not null, so not "null clears it"), the group's
// others only null, which is as absent (onlyNullNote says why). Create's config and a
// change's (updateConfig) build their group shapes with it.
func settingMember(props openapi3.Schemas, group []string, member, onlyNullNote string) openapi3.Schemas {
	out := maps.Clone(props)
	for _, other := range group {
		o := *props[other].Value
		if other == member {
			o.Nullable = false
			o.Description = strings.TrimSuffix(o.Description, " null clears it.")
		} else {
			onlyNull(&o, onlyNullNote)
		}
		out[other] = &openapi3.SchemaRef{Value: &o}
	}
	return out
}

// updateConfig is the component schema of a provider's config in a change (PATCH),
// Update<Provider>Config, as channel.Service's mergeConfig and then parseConfig take it: merged
// over the channel's settings, so no member is required; an optional one is nullable (null
// clears it), a required one is not (it can be changed, never cleared). A group of which
// exactly one must be set is a oneOf of a shape per member that sets it (setting one replaces
// the group; the others may be null, as absent) and one that leaves the whole group out (a
// member is never cleared alone), so whether a change is taken does not depend on which
// member the channel has.
func updateConfig(doc *openapi3.T, pr channel.Provider) *openapi3.SchemaRef {
	props, required := configMembers(pr)
	for name, p := range props {
		if slices.Contains(required, name) {
			p.Value.Description += " Required by the provider: it can be changed, not cleared."
		} else {
			p.Value.Nullable = true
			p.Value.Description += " null clears it."
		}
	}
	pn := providerNames[pr.Name]
	description := fmt.Sprintf("Changes to the %s provider's settings, merged over the channel's: a setting left out keeps its value, a secret too.", pr.Name)
	group := configGroup(pr)
	if group == nil {
		return component(doc, "Update"+pn+"Config", closed(description, props))
	}
	var refs openapi3.SchemaRefs
	for _, member := range group {
		shapeProps := settingMember(props, group, member, fmt.Sprintf("Only null (as absent): setting %s replaces it.", member))
		refs = append(refs, component(doc, "Update"+pn+camel(member)+"Config",
			closed(fmt.Sprintf("%s Sets %s, which replaces %s.", description, member, strings.Join(othersOf(group, member), ", ")), shapeProps, member)))
	}
	kept := maps.Clone(props)
	var names []string
	for _, member := range group {
		delete(kept, member)
		names = append(names, camel(member))
	}
	refs = append(refs, component(doc, "Update"+pn+"Keep"+strings.Join(names, "Or")+"Config",
		closed(fmt.Sprintf("%s Leaves %s as they are.", description, strings.Join(group, " and ")), kept)))
	return component(doc, "Update"+pn+"Config", &openapi3.Schema{OneOf: refs,
		Description: fmt.Sprintf("%s Sets one of %s, which replaces the other, or neither; one is never cleared alone.", description, strings.Join(group, ", "))})
}

// configGroup is the provider's group of settings of which exactly one must be set, if any.
func configGroup(pr channel.Provider) []string {
	switch len(pr.OneOf) {
	case 0:
		return nil
	case 1:
		return pr.OneOf[0]
	}
	panic(pr.Name + ": more than one group of which exactly one must be set")
}

// onlyNull makes a member one that may only be null, which the server reads as absent.
func onlyNull(s *openapi3.Schema, description string) {
	s.Nullable, s.Description = true, description
	s.Not = &openapi3.SchemaRef{Value: &openapi3.Schema{Type: s.Type}}
}

// othersOf is the group without member.
func othersOf(group []string, member string) []string {
	return slices.DeleteFunc(slices.Clone(group), func(g string) bool { return g == member })
}

// configMembers are the schemas of a provider's settings, as parseConfig checks each (fresh
// values, for the caller to change), and the names of the required ones.
func configMembers(pr channel.Provider) (openapi3.Schemas, []string) {
	props := openapi3.Schemas{}
	var required []string
	for _, f := range pr.Config {
		s := &openapi3.Schema{Type: &openapi3.Types{openapi3.TypeString}}
		switch f.Kind {
		case "string":
			s.MinLength, s.MaxLength, s.Pattern = 1, ptr(uint64(f.MaxLength)), notBlank
			s.Description = fmt.Sprintf("1 to %d characters; trimmed.", f.MaxLength)
		case "url":
			s.MinLength, s.MaxLength, s.Pattern = 1, ptr(uint64(f.MaxLength)), urlPattern
			s.Description = "An absolute http(s) URL without credentials."
		case "host":
			s.MinLength, s.MaxLength, s.Pattern = 1, ptr(uint64(f.MaxLength)), hostPattern
			s.Description = "A host name or IP address, without a port."
		case "port":
			s.Type = &openapi3.Types{openapi3.TypeInteger}
			s.Min, s.Max = ptr(1.0), ptr(65535.0)
			s.Description = "A port, 1 to 65535."
		case "enum":
			for _, v := range f.Enum {
				s.Enum = append(s.Enum, v)
			}
			s.Description = "One of " + strings.Join(f.Enum, ", ") + "."
		default:
			panic(fmt.Sprintf("%s.%s: kind %q has no schema in configMembers", pr.Name, f.Name, f.Kind))
		}
		if f.Name == channel.APIBaseField {
			s.Description += " Replaces the provider's API base URL; accepted only when the server runs with PROVIDER_API_BASE_OVERRIDE=true."
		}
		if f.Secret {
			// Not writeOnly: oapi-codegen would make a required secret optional in Go.
			s.Description += " A secret: sealed at rest, never returned (secrets_set names it)."
		}
		if f.Required {
			required = append(required, f.Name)
		}
		props[f.Name] = &openapi3.SchemaRef{Value: s}
	}
	return props, required
}

// article is the indefinite article before a word: An email, A custom.
func article(word string) string {
	if strings.ContainsAny(word[:1], "aeiou") {
		return "An"
	}
	return "A"
}

// camel is a setting's name as a component name's part: messaging_service_sid, MessagingServiceSid.
func camel(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// ruleOptions is the schema of a channel type's rule_options (rules.Table): <Type>RuleOptions
// with each option of its kind and range, or an empty object for a type without options.
func ruleOptions(doc *openapi3.T, t rules.ChannelType) *openapi3.SchemaRef {
	props := ruleOptionMembers(t)
	if len(props) == 0 {
		return noRuleOptions(t)
	}
	return component(doc, typeNames[t]+"RuleOptions", closed(fmt.Sprintf("The rule options of %s channels; each left out keeps its default.", t), props))
}

// updateRuleOptions is the schema of a channel type's rule_options in a change (PATCH),
// Update<Type>RuleOptions: merged over the channel's options, each nullable (null restores its
// default); an empty object for a type without options.
func updateRuleOptions(doc *openapi3.T, t rules.ChannelType) *openapi3.SchemaRef {
	props := ruleOptionMembers(t)
	if len(props) == 0 {
		return noRuleOptions(t)
	}
	for _, p := range props {
		p.Value.Nullable = true
		p.Value.Description += " null restores the default."
	}
	return component(doc, "Update"+typeNames[t]+"RuleOptions",
		closed(fmt.Sprintf("Changes to the rule options of %s channels, merged over the channel's: each left out keeps its value.", t), props))
}

func noRuleOptions(t rules.ChannelType) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: closed(fmt.Sprintf("%s channels take no rule options: an empty object, or leave it out.", t), openapi3.Schemas{})}
}

// ruleOptionMembers are the schemas of a channel type's rule options (fresh values, for the
// caller to change): each of its kind and range.
func ruleOptionMembers(t rules.ChannelType) openapi3.Schemas {
	props := openapi3.Schemas{}
	for _, o := range rules.Lookup(t).Options {
		s := &openapi3.Schema{Description: fmt.Sprintf("%s Default: %v.", o.Description, o.Default)}
		switch o.Kind {
		case "bool":
			s.Type = &openapi3.Types{openapi3.TypeBoolean}
		case "int":
			s.Type, s.Min = &openapi3.Types{openapi3.TypeInteger}, ptr(0.0)
			switch o.Name {
			case rules.OptionMonthlyInitiatedLimit:
				s.Max = ptr(float64(rules.MaxMonthlyInitiatedLimit))
			case rules.OptionWindowHours:
				s.Max = ptr(float64(rules.MaxWindowHours))
			default:
				panic("rule option " + o.Name + " has no range in specgen's ruleOptionMembers")
			}
		case "enum":
			s.Type = &openapi3.Types{openapi3.TypeString}
			for _, v := range o.Enum {
				s.Enum = append(s.Enum, v)
			}
		default:
			panic(fmt.Sprintf("rule option %s: kind %q has no schema in specgen's ruleOptionMembers", o.Name, o.Kind))
		}
		props[o.Name] = &openapi3.SchemaRef{Value: s}
	}
	return props
}
