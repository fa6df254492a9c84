// Package analyzer reports non-deterministic code in Restate handlers.
//
// Its roots are the functions passed to the SDK's handler constructors
// (restate.NewHandler, NewObjectHandler, NewSharedHandler,
// NewWorkflowHandler, NewWorkflowSharedHandler, also through NoInput,
// NoOutput and NoInputOutput). From each root it follows calls into the
// functions of the analysed packages, across packages through analysis
// facts, and reports clocks, global randomness, the environment and I/O,
// goroutines, channels and waits, map iteration that issues durable
// operations, writes to package-level variables, and the handler's context
// used inside a run closure or stored where it outlives the handler. Each
// finding names the chain of calls from the handler to the offending line.
//
// The closures given to Run, RunAsync and RunVoid are side effects: they may
// do anything except use the handler's context.
//
// A finding is suppressed by a comment "//restatevet:ignore <reason>" on its
// line, on the line above it, or in the doc comment of the function that
// contains it. The reason is required.
package analyzer

import (
	"fmt"
	"go/ast"
	"go/build"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/types/typeutil"
)

// SDKPath is the import path of the Restate SDK whose handlers are checked.
const SDKPath = "github.com/qcodr/restate-sdk-go"

const ignoreDirective = "//restatevet:ignore"

// Analyzer is the restatevet analysis pass.
var Analyzer = &analysis.Analyzer{
	Name:      "restatevet",
	Doc:       "report non-deterministic code reachable from Restate handlers\n\nSee the package documentation of github.com/qcodr/restate-sdk-go/restatevet/analyzer.",
	URL:       "https://pkg.go.dev/github.com/qcodr/restate-sdk-go/restatevet/analyzer",
	Requires:  []*analysis.Analyzer{inspect.Analyzer},
	Run:       run,
	FactTypes: []analysis.Fact{new(funcFact)},
}

// funcFact is exported for every function of an analysed package: the
// findings reachable from it and whether it issues a durable operation.
type funcFact struct {
	Findings []factFinding
	Durable  bool
}

// factFinding is one finding of another package, located by a string.
type factFinding struct {
	Msg   string
	Chain []string
	Loc   string
}

func (*funcFact) AFact() {}

func (f *funcFact) String() string {
	return fmt.Sprintf("restatevet(%d findings, durable=%v)", len(f.Findings), f.Durable)
}

// finding is one offending line reached from a function.
type finding struct {
	pos   token.Pos // in this package, or token.NoPos when loc is set
	loc   string    // location in another package
	msg   string
	chain []string // callees from the summarised function to the line
	fix   *analysis.SuggestedFix
}

type summary struct {
	findings []finding
	durable  bool
}

type checker struct {
	pass      *analysis.Pass
	decls     map[*types.Func]*ast.FuncDecl
	sums      map[*types.Func]*summary
	ignored   map[string]map[int]bool // file name -> lines with a directive
	ignoredFn map[*ast.FuncDecl]bool
}

var handlerCtors = map[string]int{
	"NewHandler":               1,
	"NewObjectHandler":         1,
	"NewSharedHandler":         1,
	"NewWorkflowHandler":       1,
	"NewWorkflowSharedHandler": 1,
	"NoInput":                  0,
	"NoOutput":                 0,
	"NoInputOutput":            0,
}

// pureMethods are SDK methods that read invocation data without a journal entry.
var pureMethods = map[string]bool{"Rand": true, "Log": true, "Request": true, "Key": true, "ID": true}

var runFuncs = map[string]bool{"Run": true, "RunAsync": true, "RunVoid": true}

var handlerContexts = map[string]bool{
	"Context": true, "ObjectContext": true, "ObjectSharedContext": true,
	"WorkflowContext": true, "WorkflowSharedContext": true,
}

func run(pass *analysis.Pass) (any, error) {
	// The standard library and the SDK itself are opaque: their
	// non-deterministic functions are named in banned, and the SDK's own
	// clock reads happen inside the durable operations. Returning here also
	// keeps go vet cheap, since it runs the analyzer on every dependency.
	if !followed(pass) {
		return nil, nil
	}
	c := &checker{
		pass:      pass,
		decls:     map[*types.Func]*ast.FuncDecl{},
		sums:      map[*types.Func]*summary{},
		ignored:   map[string]map[int]bool{},
		ignoredFn: map[*ast.FuncDecl]bool{},
	}
	c.collectDirectives()
	for _, f := range pass.Files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			if fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func); ok {
				c.decls[fn] = fd
			}
		}
	}
	// Facts for every function, so other packages can follow calls here.
	fns := make([]*types.Func, 0, len(c.decls))
	for fn := range c.decls {
		fns = append(fns, fn)
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Pos() < fns[j].Pos() })
	for _, fn := range fns {
		c.summarize(fn)
	}
	c.fixpoint(fns)
	for _, fn := range fns {
		s := c.sums[fn]
		// Only exported functions and methods can be called from another
		// package; their summaries already hold their unexported callees'.
		if !fn.Exported() || len(s.findings) == 0 && !s.durable {
			continue
		}
		fact := &funcFact{Durable: s.durable}
		for _, f := range s.findings {
			loc := f.loc
			if loc == "" {
				p := pass.Fset.Position(f.pos)
				loc = fmt.Sprintf("%s:%d", shortFile(p.Filename), p.Line)
			}
			fact.Findings = append(fact.Findings, factFinding{Msg: f.msg, Chain: f.chain, Loc: loc})
		}
		pass.ExportObjectFact(fn, fact)
	}
	c.checkRoots()
	return nil, nil
}

// followed reports whether the analyzer looks into the package: not the
// standard library and not the SDK's own packages (its examples and
// conformance services are followed).
func followed(pass *analysis.Pass) bool {
	path := pass.Pkg.Path()
	if path == SDKPath {
		return false
	}
	if rest, ok := strings.CutPrefix(path, SDKPath+"/"); ok {
		first, _, _ := strings.Cut(rest, "/")
		switch first {
		case "examples", "conformance":
			return true
		}
		return false
	}
	if pass.Module != nil && pass.Module.Path != "" && pass.Module.Path != "std" {
		return true
	}
	first, _, _ := strings.Cut(path, "/")
	if strings.Contains(first, ".") {
		return true
	}
	// A module path without a dot (module myapp) is allowed: tell it
	// from the standard library by where the files are.
	if len(pass.Files) == 0 || build.Default.GOROOT == "" {
		return false
	}
	name := pass.Fset.File(pass.Files[0].Pos()).Name()
	root := filepath.Join(build.Default.GOROOT, "src") + string(filepath.Separator)
	return !strings.HasPrefix(name, root)
}

// fixpoint walks every function again until no summary changes, so a
// function in a cycle of calls sees the findings of the whole cycle. The
// first walk, depth first, already settles every function outside a cycle,
// so this loop usually ends after one round.
func (c *checker) fixpoint(fns []*types.Func) {
	for round := 0; round < 8; round++ {
		changed := false
		for _, fn := range fns {
			fd := c.decls[fn]
			if c.ignoredFn[fd] {
				continue
			}
			w := c.newWalker(fd.Name.Name, fd.Type)
			w.walk(fd.Body)
			s := c.sums[fn]
			if len(w.findings) != len(s.findings) || w.durable != s.durable {
				s.findings, s.durable = w.findings, w.durable
				changed = true
			}
		}
		if !changed {
			return
		}
	}
}

func (c *checker) newWalker(name string, ft *ast.FuncType) *walker {
	return &walker{c: c, fnName: name, ctxName: ctxParamName(c.pass.TypesInfo, ft), seen: map[string]int{}}
}

func shortFile(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		if j := strings.LastIndex(name[:i], "/"); j >= 0 {
			return name[j+1:]
		}
	}
	return name
}

// collectDirectives records the lines and functions carrying an ignore
// directive, and reports directives without a reason.
func (c *checker) collectDirectives() {
	for _, f := range c.pass.Files {
		for _, cg := range f.Comments {
			for _, cm := range cg.List {
				if !strings.HasPrefix(cm.Text, ignoreDirective) {
					continue
				}
				reason := strings.TrimSpace(strings.TrimPrefix(cm.Text, ignoreDirective))
				if reason == "" {
					c.pass.Reportf(cm.Pos(), "restatevet: ignore directive needs a reason")
					continue
				}
				p := c.pass.Fset.Position(cm.Pos())
				if c.ignored[p.Filename] == nil {
					c.ignored[p.Filename] = map[int]bool{}
				}
				c.ignored[p.Filename][p.Line] = true
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Doc == nil {
				continue
			}
			for _, cm := range fd.Doc.List {
				if strings.HasPrefix(cm.Text, ignoreDirective) && strings.TrimSpace(strings.TrimPrefix(cm.Text, ignoreDirective)) != "" {
					c.ignoredFn[fd] = true
				}
			}
		}
	}
}

func (c *checker) suppressed(pos token.Pos) bool {
	p := c.pass.Fset.Position(pos)
	lines := c.ignored[p.Filename]
	return lines[p.Line] || lines[p.Line-1]
}

// summarize returns the findings reachable from a function of this package.
func (c *checker) summarize(fn *types.Func) *summary {
	if s, ok := c.sums[fn]; ok {
		return s
	}
	s := &summary{}
	c.sums[fn] = s // a recursive call sees the partial summary
	fd := c.decls[fn]
	if fd == nil || c.ignoredFn[fd] {
		return s
	}
	w := c.newWalker(fd.Name.Name, fd.Type)
	w.walk(fd.Body)
	s.findings, s.durable = w.findings, w.durable
	return s
}

// callee returns the summary of a called function: local, or from a fact.
func (c *checker) callee(fn *types.Func) (*summary, bool) {
	fn = fn.Origin()
	if fn.Pkg() == c.pass.Pkg {
		if _, ok := c.decls[fn]; ok {
			return c.summarize(fn), true
		}
		return nil, false
	}
	var fact funcFact
	if !c.pass.ImportObjectFact(fn, &fact) {
		return nil, false
	}
	s := &summary{durable: fact.Durable}
	for _, f := range fact.Findings {
		s.findings = append(s.findings, finding{loc: f.Loc, msg: f.Msg, chain: f.Chain})
	}
	return s, true
}

// checkRoots finds the handler functions and reports what they reach.
func (c *checker) checkRoots() {
	type key struct {
		pos token.Pos
		msg string
	}
	seen := map[key]bool{}
	// wrapped names the NoInput, NoOutput and NoInputOutput calls given
	// straight to a constructor, so their chains start with the handler's
	// name. ast.Inspect visits the constructor before its arguments.
	wrapped := map[*ast.CallExpr]string{}
	rootName := func(call *ast.CallExpr, idx int) string {
		if name, ok := wrapped[call]; ok {
			return name
		}
		return handlerName(c.pass.TypesInfo, call, idx)
	}
	for _, f := range c.pass.Files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
			if !ok || fn.Pkg() == nil || fn.Pkg().Path() != SDKPath {
				return true
			}
			idx, ok := handlerCtors[fn.Name()]
			if !ok || idx >= len(call.Args) {
				return true
			}
			arg := ast.Unparen(call.Args[idx])
			if inner, ok := arg.(*ast.CallExpr); ok && idx == 1 {
				if wfn, ok := typeutil.Callee(c.pass.TypesInfo, inner).(*types.Func); ok && wfn.Pkg() != nil && wfn.Pkg().Path() == SDKPath {
					if widx, ok := handlerCtors[wfn.Name()]; ok && widx == 0 {
						wrapped[inner] = handlerName(c.pass.TypesInfo, call, idx)
					}
				}
			}
			var s *summary
			var name string
			switch a := arg.(type) {
			case *ast.FuncLit:
				name = rootName(call, idx)
				w := c.newWalker(name, a.Type)
				w.walk(a.Body)
				s = &summary{findings: w.findings}
			case *ast.Ident, *ast.SelectorExpr, *ast.IndexExpr, *ast.IndexListExpr:
				var obj types.Object
				switch a := arg.(type) {
				case *ast.Ident:
					obj = c.pass.TypesInfo.Uses[a]
				case *ast.SelectorExpr:
					obj = c.pass.TypesInfo.Uses[a.Sel]
				case *ast.IndexExpr:
					obj = usedObj(c.pass.TypesInfo, a.X)
				case *ast.IndexListExpr:
					obj = usedObj(c.pass.TypesInfo, a.X)
				}
				hf, ok := obj.(*types.Func)
				if !ok {
					return true
				}
				name = rootName(call, idx)
				if name == "handler" {
					name = hf.Name()
				}
				cs, ok := c.callee(hf)
				if !ok {
					return true
				}
				s = &summary{}
				for _, f := range cs.findings {
					f.chain = append([]string{name}, f.chain...)
					if f.loc != "" || hf.Pkg() != c.pass.Pkg {
						f.pos = arg.Pos()
						f.fix = nil
					}
					s.findings = append(s.findings, f)
				}
			default:
				return true
			}
			for _, f := range s.findings {
				chain := f.chain
				if len(chain) == 0 || chain[0] != name {
					chain = append([]string{name}, chain...)
				}
				msg := fmt.Sprintf("%s (chain: %s)", f.msg, strings.Join(chain, " -> "))
				if f.loc != "" {
					msg += " at " + f.loc
				}
				k := key{f.pos, msg}
				if seen[k] {
					continue
				}
				seen[k] = true
				d := analysis.Diagnostic{Pos: f.pos, Message: msg}
				if f.fix != nil {
					d.SuggestedFixes = []analysis.SuggestedFix{*f.fix}
				}
				c.pass.Report(d)
			}
			return true
		})
	}
}

func usedObj(info *types.Info, e ast.Expr) types.Object {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		return info.Uses[e]
	case *ast.SelectorExpr:
		return info.Uses[e.Sel]
	}
	return nil
}

// handlerName is the constant name given to the constructor, or "handler".
func handlerName(info *types.Info, call *ast.CallExpr, idx int) string {
	if idx == 1 {
		if tv, ok := info.Types[call.Args[0]]; ok && tv.Value != nil {
			return strings.Trim(tv.Value.ExactString(), `"`)
		}
	}
	return "handler"
}

// isHandlerContext reports whether t is one of the SDK's handler contexts.
func isHandlerContext(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != SDKPath {
		return false
	}
	return handlerContexts[n.Obj().Name()]
}

func ctxParamName(info *types.Info, ft *ast.FuncType) string {
	if ft.Params == nil {
		return ""
	}
	for _, f := range ft.Params.List {
		if t := info.TypeOf(f.Type); t != nil && isHandlerContext(t) && len(f.Names) > 0 && f.Names[0].Name != "_" {
			return f.Names[0].Name
		}
	}
	return ""
}

// walker inspects the body of one handler or helper function.
type walker struct {
	c        *checker
	fnName   string
	ctxName  string // the function's handler context parameter, if any
	findings []finding
	durable  bool
	seen     map[string]int // message and place of a finding -> its index
	// defines maps the call of each "x := f()" to its statement, for the
	// time.Now fix, which needs two results.
	defines map[*ast.CallExpr]*ast.AssignStmt
	body    ast.Node // the function body being walked
}

// keep records f unless the same message at the same place is already
// recorded; then it keeps the shorter chain. Without this, a function's
// findings would multiply with every path that reaches the same line.
func (w *walker) keep(f finding) {
	k := f.msg + "\x00" + f.loc
	if f.loc == "" {
		k += fmt.Sprint(f.pos)
	}
	if i, ok := w.seen[k]; ok {
		if len(f.chain) < len(w.findings[i].chain) {
			w.findings[i] = f
		}
		return
	}
	w.seen[k] = len(w.findings)
	w.findings = append(w.findings, f)
}

func (w *walker) add(pos token.Pos, msg string, fix *analysis.SuggestedFix, chain ...string) {
	if w.c.suppressed(pos) {
		return
	}
	w.keep(finding{pos: pos, msg: "restatevet: " + msg, chain: chain, fix: fix})
}

func (w *walker) walk(body ast.Node) {
	info := w.c.pass.TypesInfo
	if w.body == nil {
		w.body = body
	}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			return w.call(n)
		case *ast.GoStmt:
			if id := findHandlerCtx(info, n.Call, nil); id != nil {
				w.add(n.Pos(), fmt.Sprintf("go statement uses the handler's context %s from another goroutine", id.Name), nil)
			}
		case *ast.SelectStmt:
			w.add(n.Pos(), "select statement: its choice depends on timing, use restate.Select", nil)
		case *ast.SendStmt:
			w.add(n.Pos(), "channel send in handler code: its timing is not journaled", nil)
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				w.add(n.Pos(), "channel receive in handler code: its timing is not journaled", nil)
			}
		case *ast.RangeStmt:
			w.rangeStmt(n)
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == 1 && len(n.Rhs) == 1 {
				if call, ok := ast.Unparen(n.Rhs[0]).(*ast.CallExpr); ok {
					if w.defines == nil {
						w.defines = map[*ast.CallExpr]*ast.AssignStmt{}
					}
					w.defines[call] = n
				}
			}
			for i, lhs := range n.Lhs {
				var rhs ast.Expr
				if len(n.Lhs) == len(n.Rhs) {
					rhs = n.Rhs[i]
				}
				w.store(lhs, rhs)
			}
		case *ast.IncDecStmt:
			w.store(n.X, nil)
		}
		return true
	})
}

// store checks an assignment to lhs: a write to package-level state, or a
// handler context (alone or in a composite literal) stored where it
// outlives the handler: a package-level variable, or a field or element of
// a value the function did not declare itself (a parameter, a captured
// variable, something reached through them).
func (w *walker) store(lhs, rhs ast.Expr) {
	info := w.c.pass.TypesInfo
	ctxValue := false
	if rhs != nil {
		if t := info.TypeOf(rhs); t != nil && isHandlerContext(t) {
			ctxValue = true
		} else if lit := compositeLit(rhs); lit != nil && findHandlerCtx(info, lit, nil) != nil {
			ctxValue = true
		}
	}
	root := rootVar(info, lhs)
	if root == nil {
		return
	}
	v, ok := info.Uses[root].(*types.Var)
	if !ok {
		return
	}
	switch {
	case isPackageVar(v) && ctxValue:
		w.add(root.Pos(), fmt.Sprintf("restate context stored in package-level variable %s: it must not outlive the handler", root.Name), nil)
	case isPackageVar(v):
		w.add(root.Pos(), fmt.Sprintf("write to package-level variable %s from handler code: it is not journaled", root.Name), nil)
	case ctxValue && root != ast.Unparen(lhs) && !w.declaredInside(v):
		what := "struct field"
		name := root.Name
		if sel, ok := ast.Unparen(lhs).(*ast.SelectorExpr); ok {
			name = sel.Sel.Name
		} else {
			what = "element of"
		}
		w.add(lhs.Pos(), fmt.Sprintf("restate context stored in %s %s: it must not outlive the handler", what, name), nil)
	}
}

// declaredInside reports whether v is declared in the body being walked.
func (w *walker) declaredInside(v *types.Var) bool {
	return w.body != nil && v.Pos() >= w.body.Pos() && v.Pos() < w.body.End()
}

// compositeLit returns e as a composite literal, also through &.
func compositeLit(e ast.Expr) *ast.CompositeLit {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	lit, _ := e.(*ast.CompositeLit)
	return lit
}

// rootVar returns the variable an assignment target starts from: x in
// x.f[i].g, *x and pkg.X (then X).
func rootVar(info *types.Info, e ast.Expr) *ast.Ident {
	for {
		switch x := ast.Unparen(e).(type) {
		case *ast.Ident:
			return x
		case *ast.SelectorExpr:
			if id, ok := ast.Unparen(x.X).(*ast.Ident); ok {
				if _, ok := info.Uses[id].(*types.PkgName); ok {
					return x.Sel
				}
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		default:
			return nil
		}
	}
}

func isPackageVar(v *types.Var) bool {
	return v.Pkg() != nil && v.Parent() == v.Pkg().Scope()
}

func (w *walker) rangeStmt(n *ast.RangeStmt) {
	info := w.c.pass.TypesInfo
	t := info.TypeOf(n.X)
	if t == nil {
		return
	}
	switch t.Underlying().(type) {
	case *types.Chan:
		w.add(n.Pos(), "range over a channel in handler code: its timing is not journaled", nil)
	case *types.Map:
		if w.issuesDurable(n.Body) {
			w.add(n.Pos(), "range over a map issues durable operations in random order: sort the keys first", nil)
		}
	case *types.Signature:
		// maps.Keys, maps.Values and maps.All iterate in the map's order.
		call, ok := ast.Unparen(n.X).(*ast.CallExpr)
		if !ok {
			return
		}
		fn, ok := typeutil.Callee(info, call).(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "maps" {
			return
		}
		switch fn.Name() {
		case "Keys", "Values", "All":
			if w.issuesDurable(n.Body) {
				w.add(n.Pos(), fmt.Sprintf("range over maps.%s issues durable operations in random order: use slices.Sorted(maps.Keys(m))", fn.Name()), nil)
			}
		}
	}
}

// issuesDurable reports whether body calls the SDK or a function that does.
func (w *walker) issuesDurable(body ast.Node) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		fn, ok := typeutil.Callee(w.c.pass.TypesInfo, call).(*types.Func)
		if !ok {
			return true
		}
		if isDurable(fn) {
			found = true
		} else if s, ok := w.c.callee(fn); ok && s.durable {
			found = true
		}
		return !found
	})
	return found
}

// isDurable reports whether fn is an SDK function or method that takes a
// handler context, or a method of an SDK type (futures, handlers, keys).
func isDurable(fn *types.Func) bool {
	if fn.Pkg() == nil || fn.Pkg().Path() != SDKPath {
		return false
	}
	sig := fn.Type().(*types.Signature)
	if sig.Recv() != nil {
		return !pureMethods[fn.Name()]
	}
	for i := 0; i < sig.Params().Len(); i++ {
		if isHandlerContext(sig.Params().At(i).Type()) {
			return true
		}
	}
	return false
}

// findHandlerCtx returns the first identifier in n whose value is a handler
// context declared outside the node `inside` (nil: anywhere).
func findHandlerCtx(info *types.Info, n ast.Node, inside ast.Node) *ast.Ident {
	var found *ast.Ident
	ast.Inspect(n, func(m ast.Node) bool {
		id, ok := m.(*ast.Ident)
		if !ok || found != nil {
			return found == nil
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || !isHandlerContext(v.Type()) {
			return true
		}
		if inside != nil && v.Pos() >= inside.Pos() && v.Pos() < inside.End() {
			return true
		}
		found = id
		return false
	})
	return found
}

func (w *walker) call(call *ast.CallExpr) bool {
	info := w.c.pass.TypesInfo
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok {
		return true
	}
	if isDurable(fn) {
		w.durable = true
	}
	if fn.Pkg() != nil && fn.Pkg().Path() == SDKPath && runFuncs[fn.Name()] {
		for i, a := range call.Args {
			lit, ok := ast.Unparen(a).(*ast.FuncLit)
			if !ok || i == 0 {
				continue
			}
			w.runClosure(lit)
		}
		if len(call.Args) > 0 {
			w.walk(call.Args[0])
		}
		return false
	}
	if msg, fix := w.banned(fn, call); msg != "" {
		w.add(call.Pos(), msg, fix)
		return true
	}
	if s, ok := w.c.callee(fn); ok {
		name := fn.Name()
		for _, f := range s.findings {
			f.chain = append([]string{name}, f.chain...)
			if f.loc != "" {
				f.pos = call.Pos()
			}
			if w.c.suppressed(call.Pos()) {
				continue
			}
			f.fix = nil
			w.keep(f)
		}
		if s.durable {
			w.durable = true
		}
	}
	return true
}

// runClosure checks a run closure: only uses of the handler's context.
func (w *walker) runClosure(lit *ast.FuncLit) {
	info := w.c.pass.TypesInfo
	param := ""
	if lit.Type.Params != nil && len(lit.Type.Params.List) > 0 && len(lit.Type.Params.List[0].Names) > 0 {
		param = lit.Type.Params.List[0].Names[0].Name
	}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || !isHandlerContext(v.Type()) || (v.Pos() >= lit.Pos() && v.Pos() < lit.End()) {
			return true
		}
		var fix *analysis.SuggestedFix
		msg := fmt.Sprintf("handler context %s used inside a run closure: use the run's RunContext parameter", id.Name)
		if param != "" && param != "_" {
			msg = fmt.Sprintf("handler context %s used inside a run closure: use the run's parameter %s", id.Name, param)
			fix = &analysis.SuggestedFix{
				Message:   "use the run's parameter " + param,
				TextEdits: []analysis.TextEdit{{Pos: id.Pos(), End: id.End(), NewText: []byte(param)}},
			}
		}
		w.add(id.Pos(), msg, fix)
		return true
	})
}

var timeFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true,
}

var randConstructors = map[string]bool{
	"New": true, "NewSource": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true,
}

var osFuncs = map[string]bool{
	"Getenv": true, "LookupEnv": true, "Environ": true, "Hostname": true, "Getpid": true,
	"Open": true, "OpenFile": true, "Create": true, "ReadFile": true, "WriteFile": true,
	"ReadDir": true, "Stat": true, "Lstat": true, "Remove": true, "RemoveAll": true,
	"Mkdir": true, "MkdirAll": true, "Rename": true, "Getwd": true, "CreateTemp": true,
}

// banned returns the message for a call that is non-deterministic outside a
// run, and a fix where one is mechanical.
func (w *walker) banned(fn *types.Func, call *ast.CallExpr) (string, *analysis.SuggestedFix) {
	if fn.Pkg() == nil {
		return "", nil
	}
	path, name := fn.Pkg().Path(), fn.Name()
	sig := fn.Type().(*types.Signature)
	recv := ""
	if sig.Recv() != nil {
		t := sig.Recv().Type()
		if p, ok := t.(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := t.(*types.Named); ok {
			recv = n.Obj().Name()
		}
	}
	full := path + "." + name
	if recv != "" {
		full = path + "." + recv + "." + name
	}
	switch {
	case path == "time" && recv == "" && timeFuncs[name]:
		if name == "Sleep" || name == "After" {
			return fmt.Sprintf("time.%s outside a run: use restate.%s(ctx, d)", name, name), nil
		}
		var fix *analysis.SuggestedFix
		if name == "Now" {
			fix = w.nowFix(call)
		}
		return fmt.Sprintf("time.%s reads the clock outside a run: use restate.Now(ctx)", name), fix
	case (path == "math/rand" || path == "math/rand/v2") && recv == "" && !randConstructors[name]:
		return fmt.Sprintf("%s uses global randomness: use ctx.Rand()", full), w.randFix(path, name, call)
	case path == "crypto/rand":
		return fmt.Sprintf("%s is random on every replay: call it inside a run", full), nil
	case path == "os" && recv == "" && osFuncs[name]:
		return fmt.Sprintf("%s reads the environment or files outside a run: call it inside a run", full), nil
	case path == "os" && recv == "File":
		return fmt.Sprintf("%s does file I/O outside a run: call it inside a run", full), nil
	case path == "net" || path == "net/http" && (recv == "Client" || recv == "" && (name == "Get" || name == "Post" || name == "Head" || name == "PostForm")):
		return fmt.Sprintf("%s does network I/O outside a run: call it inside a run", full), nil
	case path == "sync" && (recv == "WaitGroup" || recv == "Cond") && name == "Wait":
		return fmt.Sprintf("sync.%s.Wait blocks on other goroutines: use futures and restate.Select", recv), nil
	}
	return "", nil
}

// randFix rewrites rand.F(args) to ctx.Rand().F(args) for math/rand/v2 when
// the enclosing function has a handler context and *rand.Rand has F.
func (w *walker) randFix(path, name string, call *ast.CallExpr) *analysis.SuggestedFix {
	if w.ctxName == "" {
		return nil
	}
	// ctx.Rand() is a math/rand/v2 *Rand; a math/rand function maps to
	// the v2 method of the same meaning (Intn and IntN both return [0,n)).
	method := name
	if path == "math/rand" {
		v2, ok := randV1toV2[name]
		if !ok {
			return nil
		}
		method = v2
	}
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	if path == "math/rand/v2" && !v2RandMethod(w.c.pass.Pkg, name) {
		return nil
	}
	return &analysis.SuggestedFix{
		Message:   "use " + w.ctxName + ".Rand()." + method,
		TextEdits: []analysis.TextEdit{{Pos: sel.Pos(), End: sel.End(), NewText: []byte(w.ctxName + ".Rand()." + method)}},
	}
}

// randV1toV2 maps math/rand's top-level functions to the methods of
// math/rand/v2's *Rand that return the same range.
var randV1toV2 = map[string]string{
	"Int": "Int", "Intn": "IntN", "Int31": "Int32", "Int31n": "Int32N",
	"Int63": "Int64", "Int63n": "Int64N", "Uint32": "Uint32", "Uint64": "Uint64",
	"Float32": "Float32", "Float64": "Float64", "Perm": "Perm", "Shuffle": "Shuffle",
	"NormFloat64": "NormFloat64", "ExpFloat64": "ExpFloat64",
}

// v2RandMethod reports whether math/rand/v2's *Rand, as imported by pkg,
// has the method name (rand.N, a generic function, has none).
func v2RandMethod(pkg *types.Package, name string) bool {
	for _, imp := range pkg.Imports() {
		if imp.Path() != "math/rand/v2" {
			continue
		}
		rt, ok := imp.Scope().Lookup("Rand").(*types.TypeName)
		if !ok {
			return false
		}
		obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(rt.Type()), true, imp, name)
		return obj != nil
	}
	return false
}

// nowFix rewrites "t := time.Now()" to "t, err := restate.Now(ctx)" when the
// enclosing function has a handler context. restate.Now also returns an
// error, so the fix applies only where a statement declares the result, and
// the author then checks err (the compiler insists if err is new).
func (w *walker) nowFix(call *ast.CallExpr) *analysis.SuggestedFix {
	as, ok := w.defines[call]
	if !ok || w.ctxName == "" {
		return nil
	}
	lhs, ok := as.Lhs[0].(*ast.Ident)
	if !ok || lhs.Name == "_" {
		return nil
	}
	sdk := w.c.sdkName(call.Pos())
	if sdk == "" {
		return nil
	}
	text := fmt.Sprintf("%s, err := %s.Now(%s)", lhs.Name, sdk, w.ctxName)
	return &analysis.SuggestedFix{
		Message:   "use " + sdk + ".Now(" + w.ctxName + ") and check err",
		TextEdits: []analysis.TextEdit{{Pos: as.Pos(), End: as.End(), NewText: []byte(text)}},
	}
}

// sdkName is the name under which the file holding pos imports the SDK, or
// "" when it does not import it by a usable name.
func (c *checker) sdkName(pos token.Pos) string {
	for _, f := range c.pass.Files {
		if pos < f.FileStart || pos >= f.FileEnd {
			continue
		}
		for _, imp := range f.Imports {
			if strings.Trim(imp.Path.Value, `"`) != SDKPath {
				continue
			}
			if imp.Name == nil {
				return "restate"
			}
			if imp.Name.Name == "_" || imp.Name.Name == "." {
				return ""
			}
			return imp.Name.Name
		}
	}
	return ""
}
