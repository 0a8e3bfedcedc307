package errkind_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// TestCodesRegistered holds the registry to the source: every code the server can put in a
// problem is in errkind.Codes (and so in the spec's enum for Problem.code), and every
// registered code is still used. A code reaches a problem from errkind.New, an errkind.Error
// literal's Code, or the HTTP layer's own codes (api/problem.go: echoCodes, internal_error).
// At run time, api tests check the same through the spec, for the codes the tests provoke.
func TestCodesRegistered(t *testing.T) {
	used := sourceCodes(t, "../..")
	if len(used) < 20 {
		t.Fatalf("found only %d codes in the source: the scan is broken", len(used))
	}
	for code, where := range used {
		if _, ok := errkind.Codes[code]; !ok {
			t.Errorf("code %q (%s) is not in errkind.Codes: register it with a description", code, where)
		}
	}
	for code := range errkind.Codes {
		if _, ok := used[code]; !ok {
			t.Errorf("errkind.Codes has %q, which no code produces any more: remove it", code)
		}
	}
}

// sourceCodes finds the problem codes written in the module's non-test Go files, each with
// where it was first seen.
func sourceCodes(t *testing.T, root string) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	codes := map[string]string{}
	add := func(lit ast.Expr) {
		b, ok := lit.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return
		}
		s, err := strconv.Unquote(b.Value)
		if err != nil || s == "" {
			return
		}
		if _, seen := codes[s]; !seen {
			codes[s] = fset.Position(b.Pos()).String()
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bench") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inErrkind := f.Name.Name == "errkind"
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				// errkind.New(kind, "code", detail), or New(...) inside errkind.
				if isName(x.Fun, "errkind", "New", inErrkind) && len(x.Args) == 3 {
					add(x.Args[1])
				}
			case *ast.CompositeLit:
				// errkind.Error{Code: "code", ...}, and a send's conversation.Refusal{Code: "code"}.
				if isName(x.Type, "errkind", "Error", inErrkind) || isName(x.Type, "conversation", "Refusal", f.Name.Name == "conversation") {
					for _, el := range x.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && isIdent(kv.Key, "Code") {
							add(kv.Value)
						}
					}
				}
			case *ast.ValueSpec:
				// api/problem.go: var echoCodes = map[int]string{...}; pkg/rules: the
				// const Refusal... codes that a refused send answers with.
				for i, name := range x.Names {
					if f.Name.Name == "rules" && strings.HasPrefix(name.Name, "Refusal") && i < len(x.Values) {
						add(x.Values[i])
					}
					if name.Name == "echoCodes" && i < len(x.Values) {
						if m, ok := x.Values[i].(*ast.CompositeLit); ok {
							for _, el := range m.Elts {
								add(el.(*ast.KeyValueExpr).Value)
							}
						}
					}
				}
			case *ast.AssignStmt:
				// api/problem.go: code = "internal_error"; api/bodycheck.go: e.Code = "..."
				if len(x.Lhs) == 1 && len(x.Rhs) == 1 {
					if sel, ok := x.Lhs[0].(*ast.SelectorExpr); isIdent(x.Lhs[0], "code") || ok && sel.Sel.Name == "Code" {
						add(x.Rhs[0])
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("scan the source: %v", err)
	}
	return codes
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// isName reports whether e is pkg.name, or name alone when the file is package pkg itself.
func isName(e ast.Expr, pkg, name string, inPkg bool) bool {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return isIdent(sel.X, pkg) && sel.Sel.Name == name
	}
	return inPkg && isIdent(e, name)
}

// TestCodesDescribed checks the registry's form: snake_case codes, each with a sentence.
func TestCodesDescribed(t *testing.T) {
	names := make([]string, 0, len(errkind.Codes))
	for code, desc := range errkind.Codes {
		names = append(names, code)
		if strings.Trim(code, "abcdefghijklmnopqrstuvwxyz_") != "" || strings.HasPrefix(code, "_") {
			t.Errorf("code %q is not snake_case", code)
		}
		if !strings.HasSuffix(desc, ".") || len(desc) < 10 {
			t.Errorf("code %q: description %q is not a sentence", code, desc)
		}
	}
	sort.Strings(names)
	if got := errkind.CodeNames(); !slices.Equal(got, names) {
		t.Errorf("CodeNames() = %v, want the sorted keys %v", got, names)
	}
}
