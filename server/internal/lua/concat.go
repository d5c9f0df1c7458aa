package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// The .. operator builds its result in one allocation that gopher-lua does
// not bound (s = s .. s doubles a string until the process runs out of
// memory faster than any watchdog samples). Scripts are therefore compiled
// with every chain of .. rewritten into one call of luaConcatName, a
// function that refuses results over the script memory limit and
// otherwise does what .. does (metamethods included).

// luaConcatName is the global the rewritten chains call. A script that
// replaces it only changes how its own .. works, and the memory watchdog
// still bounds it.
const luaConcatName = "__gridnode_concat"

// concatRewrite rewrites the .. chains of a syntax tree in place. It runs
// after depthCheck, so its recursion is bounded.
type concatRewrite struct{}

func (r concatRewrite) stmts(ss []ast.Stmt) {
	for _, s := range ss {
		r.stmt(s)
	}
}

func (r concatRewrite) exprs(es []ast.Expr) {
	for i := range es {
		r.expr(&es[i])
	}
}

func (r concatRewrite) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		r.exprs(s.Lhs)
		r.exprs(s.Rhs)
	case *ast.LocalAssignStmt:
		r.exprs(s.Exprs)
	case *ast.FuncCallStmt:
		r.expr(&s.Expr)
	case *ast.DoBlockStmt:
		r.stmts(s.Stmts)
	case *ast.WhileStmt:
		r.expr(&s.Condition)
		r.stmts(s.Stmts)
	case *ast.RepeatStmt:
		r.expr(&s.Condition)
		r.stmts(s.Stmts)
	case *ast.IfStmt:
		r.expr(&s.Condition)
		r.stmts(s.Then)
		r.stmts(s.Else)
	case *ast.NumberForStmt:
		r.expr(&s.Init)
		r.expr(&s.Limit)
		r.expr(&s.Step)
		r.stmts(s.Stmts)
	case *ast.GenericForStmt:
		r.exprs(s.Exprs)
		r.stmts(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			r.expr(&s.Name.Func)
			r.expr(&s.Name.Receiver)
		}
		if s.Func != nil {
			r.stmts(s.Func.Stmts)
		}
	case *ast.ReturnStmt:
		r.exprs(s.Exprs)
	}
}

func (r concatRewrite) expr(p *ast.Expr) {
	switch e := (*p).(type) {
	case nil:
	case *ast.AttrGetExpr:
		r.expr(&e.Object)
		r.expr(&e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				r.expr(&f.Key)
				r.expr(&f.Value)
			}
		}
	case *ast.FuncCallExpr:
		r.expr(&e.Func)
		r.expr(&e.Receiver)
		r.exprs(e.Args)
	case *ast.LogicalOpExpr:
		r.expr(&e.Lhs)
		r.expr(&e.Rhs)
	case *ast.RelationalOpExpr:
		r.expr(&e.Lhs)
		r.expr(&e.Rhs)
	case *ast.ArithmeticOpExpr:
		r.expr(&e.Lhs)
		r.expr(&e.Rhs)
	case *ast.UnaryMinusOpExpr:
		r.expr(&e.Expr)
	case *ast.UnaryNotOpExpr:
		r.expr(&e.Expr)
	case *ast.UnaryLenOpExpr:
		r.expr(&e.Expr)
	case *ast.FunctionExpr:
		r.stmts(e.Stmts)
	case *ast.StringConcatOpExpr:
		// a .. b .. c parses as a .. (b .. c): flatten the right spine.
		var args []ast.Expr
		cur := ast.Expr(e)
		for {
			c, ok := cur.(*ast.StringConcatOpExpr)
			if !ok {
				args = append(args, cur)
				break
			}
			args = append(args, c.Lhs)
			cur = c.Rhs
		}
		for i := range args {
			r.expr(&args[i])
		}
		// The last argument of a call expands to all its values; an
		// operand of .. is one value.
		switch last := args[len(args)-1].(type) {
		case *ast.FuncCallExpr:
			last.AdjustRet = true
		case *ast.Comma3Expr:
			last.AdjustRet = true
		}
		fn := &ast.IdentExpr{Value: luaConcatName}
		fn.SetLine(e.Line())
		fn.SetLastLine(e.LastLine())
		call := &ast.FuncCallExpr{Func: fn, Args: args}
		call.SetLine(e.Line())
		call.SetLastLine(e.LastLine())
		*p = call
	}
}

// luaConcat is .. over its arguments (at least two), right to left as Lua
// does, refusing any result over the script memory limit.
func (vm *VM) luaConcat(L *glua.LState) int {
	n := L.GetTop()
	limit := vm.limit()
	rhs := L.Get(n)
	for i := n - 1; i >= 1; i-- {
		lhs := L.Get(i)
		if !glua.LVCanConvToString(lhs) || !glua.LVCanConvToString(rhs) {
			op := L.GetMetaField(lhs, "__concat")
			if op == glua.LNil {
				op = L.GetMetaField(rhs, "__concat")
			}
			if op.Type() != glua.LTFunction {
				bad := lhs
				if glua.LVCanConvToString(lhs) {
					bad = rhs
				}
				L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
			}
			L.Push(op)
			L.Push(lhs)
			L.Push(rhs)
			L.Call(2, 1)
			rhs = L.Get(-1)
			L.Pop(1)
			continue
		}
		// The longest run of strings and numbers ending at i, in one join.
		j := i
		for j > 1 && glua.LVCanConvToString(L.Get(j-1)) {
			j--
		}
		parts := make([]string, 0, i-j+2)
		total := int64(0)
		for k := j; k <= i; k++ {
			s := glua.LVAsString(L.Get(k))
			parts = append(parts, s)
			total += int64(len(s))
		}
		last := glua.LVAsString(rhs)
		parts = append(parts, last)
		if total += int64(len(last)); total > limit {
			L.RaiseError("string concatenation: the result would be over the script memory limit of %d bytes", limit)
		}
		rhs = glua.LString(strings.Join(parts, ""))
		i = j
	}
	L.Push(rhs)
	return 1
}
