package openapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestStrictlyValid loads both committed forms of the document with kin-openapi's loader and
// validates them with Strict; it is `make test`'s spec linter, in Go.
func TestStrictlyValid(t *testing.T) {
	for _, name := range []string{"openapi.json", "openapi.yaml"} {
		t.Run(name, func(t *testing.T) {
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromFile(name)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			if err := doc.Validate(loader.Context, Strict...); err != nil {
				t.Fatalf("invalid: %v", err)
			}
		})
	}
}

// TestYAMLMatchesJSON: the two committed forms describe one document.
func TestYAMLMatchesJSON(t *testing.T) {
	load := func(name string) []byte {
		doc, err := openapi3.NewLoader().LoadFromFile(name)
		if err != nil {
			t.Fatalf("load %s: %v", name, err)
		}
		js, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	if !bytes.Equal(load("openapi.json"), load("openapi.yaml")) {
		t.Fatal("openapi.yaml and openapi.json differ: run 'make openapi'")
	}
}
