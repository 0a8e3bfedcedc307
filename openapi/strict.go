package openapi

import "github.com/getkin/kin-openapi/openapi3"

// Strict is how the committed document is validated, by cmd/specgen when it writes it and by
// this package's test (part of `make test`, no Node needed): kin-openapi's checks with every
// optional one turned on. Unknown formats fail, examples and defaults must match their
// schemas, patterns must compile, and an extension beside a $ref (which OpenAPI 3.0 ignores)
// is an error. External $refs are refused by the loader (its default).
var Strict = []openapi3.ValidationOption{
	openapi3.EnableSchemaFormatValidation(),
	openapi3.EnableSchemaPatternValidation(),
	openapi3.EnableSchemaDefaultsValidation(),
	openapi3.EnableExamplesValidation(),
	openapi3.ProhibitExtensionsWithRef(),
	openapi3.EnableMultiError(),
}
