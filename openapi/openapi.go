// Package openapi embeds the committed OpenAPI 3 description of the API, generated from the
// handlers' annotations by `make openapi`.
package openapi

import _ "embed"

// JSON is openapi.json, served at /openapi.json.
//
//go:embed openapi.json
var JSON []byte
