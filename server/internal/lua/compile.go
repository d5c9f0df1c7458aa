package lua

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Compiling: the source bound, the depth check and the rewrite of .. (see
// concat.go).

// Script is a compiled script. It holds no interpreter state: one Script
// may run on any number of VMs, one run at a time on each.
type Script struct {
	proto *glua.FunctionProto
	size  int
}

// Compile compiles the source of a script, named "user_script" in its
// error messages as in Redis 7. It refuses sources over MaxSource bytes and
// syntax trees deeper than the interpreter can compile in bounded time.
func Compile(src []byte) (*Script, error) {
	proto, err := compile(string(src), chunkName)
	if err != nil {
		return nil, err
	}
	return &Script{proto: proto, size: protoSize(proto)}, nil
}

// Size estimates the bytes the compiled script holds (its source not
// counted).
func (s *Script) Size() int { return s.size }

// SHA1Hex returns the lower-case hex SHA1 of src, the name of a script.
func SHA1Hex(src []byte) string {
	h := sha1.Sum(src)
	return hex.EncodeToString(h[:])
}

// protoSize estimates the bytes a compiled script holds.
func protoSize(p *glua.FunctionProto) int {
	n := 128 + 4*len(p.Code) + 16*len(p.Constants) + 8*len(p.DbgSourcePositions)
	for _, k := range p.Constants {
		if s, ok := k.(glua.LString); ok {
			n += len(s)
		}
	}
	for _, f := range p.FunctionPrototypes {
		n += protoSize(f)
	}
	return n
}

// Bounds of scripts.
const (
	// MaxSource bounds the source of one script (and of one loadstring
	// chunk).
	MaxSource = 1 << 20
	// DefaultMaxMemory is the memory limit of a Run that sets none.
	DefaultMaxMemory = 64 << 20
	// chunkName names scripts in Lua error messages, as Redis 7 does.
	chunkName = "user_script"
	// maxSyntaxDepth bounds the nesting of a script's syntax levels,
	// counted as Lua 5.1 does: the left operand of a left-associative
	// operator (1+1+...+1, a and b and c) adds no level, so such chains
	// parse as in Redis. maxTreeDepth bounds the depth of the syntax tree
	// itself, chains included: the compiler recurses on it and is
	// quadratic in it (a 1,500-term chain of variables compiles in about
	// 0.2 s, 2,000 terms in 0.4 s).
	maxSyntaxDepth = 1000
	maxTreeDepth   = 2000
)

// compile compiles a script (or a loadstring chunk) named name.
func compile(src string, name string) (proto *glua.FunctionProto, err error) {
	if len(src) > MaxSource {
		return nil, fmt.Errorf("script of %d bytes is over the limit of %d bytes", len(src), MaxSource)
	}
	defer func() {
		if r := recover(); r != nil {
			proto, err = nil, fmt.Errorf("%s: cannot compile: %v", name, r)
		}
	}()
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, err
	}
	d := depthCheck{limit: level{syntax: maxSyntaxDepth, tree: maxTreeDepth}}
	d.stmts(chunk, level{})
	switch d.over {
	case overSyntax:
		return nil, fmt.Errorf("%s: chunk has too many syntax levels (over %d)", name, maxSyntaxDepth)
	case overTree:
		return nil, fmt.Errorf("%s: expression too complex (over %d nested operations)", name, maxTreeDepth)
	}
	concatRewrite{}.stmts(chunk)
	return glua.Compile(chunk, name)
}

// depthCheck finds syntax trees deeper than limit, without recursing
// deeper than that.
type depthCheck struct {
	limit level
	over  overKind
}

// level is the depth of a node: in syntax levels (Lua 5.1's count) and
// in the tree.
type level struct{ syntax, tree int }

// deeper is the level of a node's operands.
func (l level) deeper() level { return level{l.syntax + 1, l.tree + 1} }

// leftOperand is the level of the left operand of a left-associative
// operator at l: one deeper in the tree, no syntax level more.
func (l level) leftOperand() level { return level{l.syntax, l.tree + 1} }

type overKind int

const (
	notOver overKind = iota
	overSyntax
	overTree
)

// exceeded records and reports a level over the limits.
func (d *depthCheck) exceeded(l level) bool {
	switch {
	case d.over != notOver:
	case l.syntax > d.limit.syntax:
		d.over = overSyntax
	case l.tree > d.limit.tree:
		d.over = overTree
	}
	return d.over != notOver
}

func (d *depthCheck) stmts(ss []ast.Stmt, lv level) {
	for _, s := range ss {
		if d.over != notOver {
			return
		}
		d.stmt(s, lv)
	}
}

func (d *depthCheck) exprs(es []ast.Expr, lv level) {
	for _, e := range es {
		if d.over != notOver {
			return
		}
		d.expr(e, lv)
	}
}

func (d *depthCheck) stmt(s ast.Stmt, lv level) {
	if d.exceeded(lv) {
		return
	}
	in := lv.deeper()
	switch s := s.(type) {
	case *ast.AssignStmt:
		d.exprs(s.Lhs, in)
		d.exprs(s.Rhs, in)
	case *ast.LocalAssignStmt:
		d.exprs(s.Exprs, in)
	case *ast.FuncCallStmt:
		d.expr(s.Expr, in)
	case *ast.DoBlockStmt:
		d.stmts(s.Stmts, in)
	case *ast.WhileStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Stmts, in)
	case *ast.RepeatStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Stmts, in)
	case *ast.IfStmt:
		d.expr(s.Condition, in)
		d.stmts(s.Then, in)
		d.stmts(s.Else, in)
	case *ast.NumberForStmt:
		d.exprs([]ast.Expr{s.Init, s.Limit, s.Step}, in)
		d.stmts(s.Stmts, in)
	case *ast.GenericForStmt:
		d.exprs(s.Exprs, in)
		d.stmts(s.Stmts, in)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			d.exprs([]ast.Expr{s.Name.Func, s.Name.Receiver}, in)
		}
		if s.Func != nil {
			d.expr(s.Func, in)
		}
	case *ast.ReturnStmt:
		d.exprs(s.Exprs, in)
	}
}

func (d *depthCheck) expr(e ast.Expr, lv level) {
	if d.exceeded(lv) {
		return
	}
	in := lv.deeper()
	switch e := e.(type) {
	case *ast.AttrGetExpr: // a.b.c and a[b][c] chain on the left too
		d.expr(e.Object, lv.leftOperand())
		d.expr(e.Key, in)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				d.exprs([]ast.Expr{f.Key, f.Value}, in)
			}
		}
	case *ast.FuncCallExpr: // f()() and o:m():n() chain on the left
		d.exprs([]ast.Expr{e.Func, e.Receiver}, lv.leftOperand())
		d.exprs(e.Args, in)
	case *ast.LogicalOpExpr:
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.RelationalOpExpr:
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.StringConcatOpExpr:
		d.exprs([]ast.Expr{e.Lhs, e.Rhs}, in)
	case *ast.ArithmeticOpExpr:
		if e.Operator == "^" { // right-associative: a^b^c nests on the right
			d.exprs([]ast.Expr{e.Lhs, e.Rhs}, in)
			break
		}
		d.expr(e.Lhs, lv.leftOperand())
		d.expr(e.Rhs, in)
	case *ast.UnaryMinusOpExpr:
		d.expr(e.Expr, in)
	case *ast.UnaryNotOpExpr:
		d.expr(e.Expr, in)
	case *ast.UnaryLenOpExpr:
		d.expr(e.Expr, in)
	case *ast.FunctionExpr:
		d.stmts(e.Stmts, in)
	}
}
