// The RASP interpreter: executes statements, building the program graph (graph.h) as it goes. Constants
// are computed at once; anything involving an s-op or selector becomes a graph node, evaluated later on an
// input by eval.h. Functions, loops and comprehensions run at definition time, exactly as in the original
// RASP REPL. Every loop, recursion and size is bounded by Limits, so no program can hang or crash it.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "rasp/ast.h"
#include "rasp/graph.h"

namespace attnlab::rasp {

struct Limits {
  int max_call_depth = 100;          // nested function calls
  int64_t max_steps = 20'000'000;    // statements + expressions executed
  size_t max_list = 1'000'000;       // elements in one list, range or string
  size_t max_nodes = 2'000'000;      // nodes in the program graph
  int max_eval_depth = 1500;         // nested expression evaluations, across calls (bounds the C++ stack)
};

class Interpreter;
struct Env;
using EnvPtr = std::shared_ptr<Env>;

struct Env {
  std::unordered_map<std::string, Value> vars;
  EnvPtr parent;  // enclosing scope (the defining scope for a function's locals)
  const Value* find(const std::string& name) const;
};

using BuiltinFn = Value (*)(Interpreter& in, const std::vector<Value>& args, const SrcLoc& loc);

struct Function {
  std::string name;
  std::vector<std::string> params;
  StmtPtr def;          // user function: its 'def' statement (params, body)
  EnvPtr closure;       // user function: the scope it was defined in
  BuiltinFn builtin = nullptr;
  int min_args = 0, max_args = 0;  // builtin arity
};

// Installs the builtin functions and primitives (tokens, indices, length, tokens_int, ...) into env.
void builtins_install(Interpreter& in, Env& env);

class Interpreter {
 public:
  explicit Interpreter(Limits limits = {});
  ~Interpreter();  // breaks the scope ↔ function reference cycles that 'def' creates
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs a file as the main program (load statements inside it resolve relative to it, then the library).
  void run_file(const std::string& path);
  // Runs program text; name is used in error locations ("<repl>", "prog.rasp").
  void run_source(const std::string& text, const std::string& name);

  // Called after each top-level assignment of the main program (REPL: print on the example).
  std::function<void(const std::string& name, const Value& v)> on_assign;
  // Called with the value of each top-level expression statement of the main program.
  std::function<void(const Value& v)> on_expr;

  const Value* lookup(const std::string& name) const { return globals_->find(name); }
  // A fresh scope whose parent is the global one (builders evaluate expressions in it).
  EnvPtr scope_new() const {
    auto env = std::make_shared<Env>();
    env->parent = globals_;
    return env;
  }
  // Top-level names currently bound to s-ops, in first-assignment order.
  std::vector<std::pair<std::string, const Node*>> sops() const;
  // The s-op most recently assigned at the top level of the main program (null if none).
  const Node* last_sop() const { return last_sop_; }

  Graph& graph() { return graph_; }
  const Limits& limits() const { return limits_; }
  void step(const SrcLoc& loc);  // counts one step; throws when max_steps is exceeded
  void def_scope_add(const EnvPtr& env) { def_scopes_.push_back(env); }  // a scope that holds a 'def'
  // Records names assigned in env when env is the global scope (for sops(), in first-assignment order).
  void assigned(const EnvPtr& env, const std::vector<std::string>& names);
  int eval_depth = 0;            // current nesting of expression evaluation (see Limits::max_eval_depth)

  // Turns an atom into a Const node and passes nodes through; anything else is a type error.
  const Node* as_node(const Value& v, const SrcLoc& loc, const std::string& what);
  // Library search path for load "x": the current file's folder, the working directory, then these.
  std::vector<std::string> library_dirs;

 private:
  friend struct Exec;
  Limits limits_;
  Graph graph_;
  EnvPtr globals_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  int load_depth_ = 0;
  std::vector<std::string> file_stack_;   // files being run (for relative loads and cycle checks)
  std::set<std::string> loaded_;          // canonical paths already loaded
  std::vector<std::string> order_;        // global names in first-assignment order
  std::set<std::string> ordered_;         // the names in order_
  const Node* last_sop_ = nullptr;
  std::vector<std::weak_ptr<Env>> def_scopes_;  // scopes whose functions capture them (cycles)

  void run_statements(const std::vector<StmtPtr>& prog);
  void load(const std::string& path, const SrcLoc& loc, bool force);
  std::string resolve(const std::string& path, const SrcLoc& loc) const;
};

// The s-op a command works on: the one named `name`, else the last s-op the file assigns at top level.
// Errors name the file and list the s-ops it does assign.
const Node* interp_sop_pick(const Interpreter& in, const std::string& name, const std::string& file);
// The top-level name an s-op was assigned to (its label when it has none).
std::string interp_sop_name(const Interpreter& in, const Node* n);

// Evaluates one expression in an environment (used by the builders' map(x, "x + 1")).
Value interp_eval_expr(Interpreter& in, const Expr& e, const EnvPtr& env);
// Calls a function value with arguments.
Value interp_call(Interpreter& in, const Value& f, const std::vector<Value>& args, const SrcLoc& loc);
// The operators with RASP's lifting: on constants they compute, on s-ops they build Map nodes, on
// selectors 'and' / 'or' / 'not' build compositions. The parser's expressions and the C++ builders both
// go through these, so both produce the same graph.
Value interp_unary(Interpreter& in, MapOp op, const Value& x, const SrcLoc& loc);
Value interp_binary(Interpreter& in, MapOp op, const Value& a, const Value& b, const SrcLoc& loc);
Value interp_ternary(Interpreter& in, const Value& then, const Value& cond, const Value& otherwise, const SrcLoc& loc);
Value interp_index(Interpreter& in, const Value& container, const Value& index, const SrcLoc& loc);
// Binds one name to v, or several names to the elements of a list v (a, b = ...).
void bind_targets(const std::vector<std::string>& names, const Value& v, Env& env, const SrcLoc& loc);
// Runs statements in env; returns the value of a 'return' if one ran (Kind::None otherwise), and sets
// *returned.
Value interp_exec_block(Interpreter& in, const std::vector<StmtPtr>& body, const EnvPtr& env, bool* returned);

}  // namespace attnlab::rasp
