package server

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoGinContextAsContext fails when the package hands a *gin.Context
// where a context.Context (or any interface it satisfies) is expected: gin
// recycles the Context once the handler returns, while what received it
// (database/sql's cancel watcher, a goroutine, a logger) may still read it;
// that was a data race under -race. ContextWithFallback does not help: it
// only forwards to c.Request, which the recycled Context no longer holds.
// Pass c.Request.Context() (or a context detached on purpose).
//
// It type-checks the package's non-test sources against the export data
// `go list -export` builds, so it sees implicit conversions a grep cannot.
func TestNoGinContextAsContext(t *testing.T) {
	out, err := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}} {{.Export}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	export := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if path, file, ok := strings.Cut(line, " "); ok {
			export[path] = file
		}
	}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Defs: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(export[path])
	})}
	if _, err := conf.Check("docplat/server", fset, files, info); err != nil {
		t.Fatalf("type-checking the package: %v", err)
	}

	isGin := func(e ast.Expr) bool {
		tv, ok := info.Types[e]
		return ok && tv.Type != nil && tv.Type.String() == "*github.com/gin-gonic/gin.Context"
	}
	isIface := func(t types.Type) bool {
		if t == nil {
			return false
		}
		_, ok := t.Underlying().(*types.Interface)
		return ok
	}
	flag := func(e ast.Expr, to types.Type) {
		if isGin(e) && isIface(to) {
			t.Errorf("%s: a *gin.Context used as %s; pass c.Request.Context()", fset.Position(e.Pos()), to)
		}
	}
	for _, f := range files {
		var results []*types.Tuple // the enclosing functions' results, innermost last
		var walk func(n ast.Node) bool
		walk = func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl, *ast.FuncLit:
				var sig *types.Signature
				var body *ast.BlockStmt
				if d, ok := n.(*ast.FuncDecl); ok {
					if d.Body == nil {
						return false
					}
					if fn, ok := info.Defs[d.Name].(*types.Func); ok {
						sig, _ = fn.Type().(*types.Signature)
					}
					body = d.Body
				} else {
					l := n.(*ast.FuncLit)
					sig, _ = info.Types[l].Type.(*types.Signature)
					body = l.Body
				}
				if sig == nil {
					sig = types.NewSignatureType(nil, nil, nil, nil, nil, false)
				}
				results = append(results, sig.Results())
				ast.Inspect(body, walk)
				results = results[:len(results)-1]
				return false
			case *ast.CallExpr:
				tv := info.Types[n.Fun]
				if tv.IsType() { // a conversion: context.Context(c)
					if len(n.Args) == 1 {
						flag(n.Args[0], tv.Type)
					}
					return true
				}
				sig, ok := tv.Type.(*types.Signature)
				if !ok {
					return true
				}
				ps := sig.Params()
				for i, a := range n.Args {
					switch {
					case sig.Variadic() && i >= ps.Len()-1:
						if n.Ellipsis.IsValid() {
							continue
						}
						flag(a, ps.At(ps.Len()-1).Type().(*types.Slice).Elem())
					case i < ps.Len():
						flag(a, ps.At(i).Type())
					}
				}
			case *ast.AssignStmt:
				if len(n.Lhs) == len(n.Rhs) {
					for i, r := range n.Rhs {
						flag(r, info.Types[n.Lhs[i]].Type)
					}
				}
			case *ast.ValueSpec:
				if n.Type != nil {
					for _, v := range n.Values {
						flag(v, info.Types[n.Type].Type)
					}
				}
			case *ast.ReturnStmt:
				if len(results) > 0 && results[len(results)-1].Len() == len(n.Results) {
					for i, r := range n.Results {
						flag(r, results[len(results)-1].At(i).Type())
					}
				}
			case *ast.CompositeLit:
				st, ok := info.Types[n].Type.Underlying().(*types.Struct)
				if !ok {
					return true
				}
				for i, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						name := kv.Key.(*ast.Ident).Name
						for j := 0; j < st.NumFields(); j++ {
							if st.Field(j).Name() == name {
								flag(kv.Value, st.Field(j).Type())
							}
						}
					} else if i < st.NumFields() {
						flag(el, st.Field(i).Type())
					}
				}
			case *ast.SendStmt:
				if ch, ok := info.Types[n.Chan].Type.Underlying().(*types.Chan); ok {
					flag(n.Value, ch.Elem())
				}
			}
			return true
		}
		ast.Inspect(f, walk)
	}
}
