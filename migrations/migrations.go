// Package migrations holds the plain SQL migrations, embedded so the binary can apply them.
package migrations

import "embed"

// FS holds every numbered migration file.
//
//go:embed *.sql
var FS embed.FS
