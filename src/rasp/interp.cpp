// RASP statements, function calls and file loading (see interp.h).
#include "rasp/interp.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "rasp/parser.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab::rasp {

namespace fs = std::filesystem;

[[noreturn]] static void fail(const SrcLoc& loc, const std::string& msg, const std::string& hint = "") {
  throw Error(loc_message(loc, msg), hint);
}

const Value* Env::find(const std::string& name) const {
  for (const Env* e = this; e; e = e->parent.get()) {
    auto it = e->vars.find(name);
    if (it != e->vars.end()) return &it->second;
  }
  return nullptr;
}

Interpreter::Interpreter(Limits limits)
    : limits_(limits), graph_(limits.max_nodes), globals_(std::make_shared<Env>()) {
  builtins_install(*this, *globals_);
  if (const char* p = std::getenv("ATTNLAB_RASP_PATH")) library_dirs.push_back(p);
#ifdef ATTNLAB_SOURCE_DIR
  library_dirs.push_back(std::string(ATTNLAB_SOURCE_DIR) + "/src/rasp");
  library_dirs.push_back(std::string(ATTNLAB_SOURCE_DIR) + "/src/rasp/lib");
#endif
}

Interpreter::~Interpreter() {
  for (auto& w : def_scopes_)
    if (EnvPtr env = w.lock()) env->vars.clear();
  globals_->vars.clear();
}

void Interpreter::step(const SrcLoc& loc) {
  if (++steps_ > limits_.max_steps)
    fail(loc, "the program ran more than " + std::to_string(limits_.max_steps) + " steps",
         "a loop or recursion runs too long; check its bounds");
}

std::vector<std::pair<std::string, const Node*>> Interpreter::sops() const {
  std::vector<std::pair<std::string, const Node*>> out;
  for (const std::string& name : order_) {
    const Value* v = globals_->find(name);
    if (v && v->kind == Value::Kind::Node && !v->node->is_selector()) out.push_back({name, v->node});
  }
  return out;
}

void Interpreter::run_file(const std::string& path) { load(path, SrcLoc{}, true); }

void Interpreter::run_source(const std::string& text, const std::string& name) {
  auto src = std::make_shared<SourceFile>(SourceFile{name, text});
  std::vector<StmtPtr> prog = parse_program(src);
  file_stack_.push_back(name);
  try {
    run_statements(prog);
  } catch (...) {
    file_stack_.pop_back();
    throw;
  }
  file_stack_.pop_back();
}

void Interpreter::assigned(const EnvPtr& env, const std::vector<std::string>& names) {
  if (env != globals_) return;
  for (const std::string& n : names)
    if (ordered_.insert(n).second) order_.push_back(n);
}

void Interpreter::run_statements(const std::vector<StmtPtr>& prog) {
  for (const StmtPtr& s : prog) {
    bool top = load_depth_ == 0;
    if (s->kind == StmtKind::Return) fail(s->loc, "'return' outside a function", "return only inside def f(...) { ... }");
    if (s->kind == StmtKind::Expr) {
      Value v = interp_eval_expr(*this, *s->exprs[0], globals_);
      if (top && on_expr) on_expr(v);
      continue;
    }
    bool returned = false;
    interp_exec_block(*this, {s}, globals_, &returned);
    if (s->kind == StmtKind::Def && top && on_assign) on_assign(s->name, *globals_->find(s->name));
    if (s->kind != StmtKind::Assign) continue;
    for (const std::string& n : s->targets) {
      const Value* v = globals_->find(n);
      if (top && v->is_sop()) last_sop_ = v->node;
      if (top && on_assign) on_assign(n, *v);
    }
  }
}

std::string Interpreter::resolve(const std::string& path, const SrcLoc& loc) const {
  std::vector<std::string> dirs;
  if (!file_stack_.empty()) dirs.push_back(fs::path(file_stack_.back()).parent_path().string());
  dirs.push_back(".");
  dirs.insert(dirs.end(), library_dirs.begin(), library_dirs.end());
  std::string tried;
  for (const std::string& d : dirs) {
    for (const std::string& name : {path, path + ".rasp"}) {
      fs::path p = fs::path(path).is_absolute() ? fs::path(name) : fs::path(d.empty() ? "." : d) / name;
      std::error_code ec;
      if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
    }
    if (fs::path(path).is_absolute()) {
      tried = "\n  " + path + "[.rasp]";
      break;
    }
    tried += "\n  " + (fs::path(d.empty() ? "." : d) / path).string() + "[.rasp]";
  }
  fail(loc, "cannot find the RASP file '" + path + "'; looked in:" + tried,
       "check the name; the standard library is loaded as load \"lib/sort\"; or load \"sort\";");
}

void Interpreter::load(const std::string& path, const SrcLoc& loc, bool force) {
  std::string full = resolve(path, loc);
  if (!force && loaded_.count(full)) return;
  if (std::find(file_stack_.begin(), file_stack_.end(), full) != file_stack_.end())
    fail(loc, "'" + path + "' loads itself (through a cycle of load statements)", "remove the cycle");
  if (file_stack_.size() > 32) fail(loc, "load statements nested more than 32 files deep", "");
  loaded_.insert(full);
  std::error_code ec;
  std::string shown = loc.file ? fs::relative(full, ec).string() : path;  // how locations name the file
  if (shown.empty()) shown = full;
  auto src = std::make_shared<SourceFile>(SourceFile{shown, file_read_text(full)});
  std::vector<StmtPtr> prog = parse_program(src);
  bool nested = !file_stack_.empty();
  file_stack_.push_back(full);
  if (nested) ++load_depth_;
  try {
    run_statements(prog);
  } catch (...) {
    file_stack_.pop_back();
    if (nested) --load_depth_;
    throw;
  }
  file_stack_.pop_back();
  if (nested) --load_depth_;
}

static Value exec_stmt(Interpreter& in, const StmtPtr& sp, const EnvPtr& env, bool* returned);

Value interp_exec_block(Interpreter& in, const std::vector<StmtPtr>& body, const EnvPtr& env, bool* returned) {
  for (const StmtPtr& s : body) {
    Value v = exec_stmt(in, s, env, returned);
    if (*returned) return v;
  }
  return Value{};
}

static Value exec_assign(Interpreter& in, const Stmt& s, const EnvPtr& env) {
  Value v;
  if (s.exprs.size() == 1) {
    v = interp_eval_expr(in, *s.exprs[0], env);
  } else {
    List items;
    for (const auto& e : s.exprs) items.push_back(interp_eval_expr(in, *e, env));
    v = Value::of_list(std::move(items));
  }
  bind_targets(s.targets, v, *env, s.loc);
  in.assigned(env, s.targets);
  for (const std::string& n : s.targets) {
    const Value* b = env->find(n);
    if (b->kind == Value::Kind::Node) in.graph().name_set(b->node, n);
  }
  return Value{};
}

// Loads are resolved by the interpreter object; a friend helper keeps load() private.
struct Exec {
  static void load(Interpreter& in, const Stmt& s, bool force) { in.load(s.name, s.loc, force); }
  static bool at_repl_top(const Interpreter& in) { return in.load_depth_ == 0; }
  struct CallDepth {  // bounds recursion so that no program can overflow the C++ stack
    Interpreter& in;
    CallDepth(Interpreter& in_, const SrcLoc& loc, const std::string& fn) : in(in_) {
      if (in.call_depth_ >= in.limits_.max_call_depth)
        fail(loc, "function calls nested more than " + std::to_string(in.limits_.max_call_depth) + " deep (in " + fn + ")",
             "unbounded recursion? give the recursion a base case");
      ++in.call_depth_;
    }
    ~CallDepth() { --in.call_depth_; }
  };
};

static Value exec_stmt(Interpreter& in, const StmtPtr& sp, const EnvPtr& env, bool* returned) {
  const Stmt& s = *sp;
  in.step(s.loc);
  switch (s.kind) {
    case StmtKind::Assign: return exec_assign(in, s, env);
    case StmtKind::Expr: interp_eval_expr(in, *s.exprs[0], env); return Value{};
    case StmtKind::Def: {
      auto f = std::make_shared<Function>();
      f->name = s.name;
      f->params = s.targets;
      f->def = sp;  // shares ownership of the syntax tree: the function outlives the program text
      f->closure = env;
      in.def_scope_add(env);
      Value v;
      v.kind = Value::Kind::Func;
      v.func = f;
      env->vars[s.name] = v;
      return Value{};
    }
    case StmtKind::For: {
      Value src = interp_eval_expr(in, *s.exprs[0], env);
      List items;
      if (src.kind == Value::Kind::List) items = *src.list;
      else if (src.kind == Value::Kind::Dict) for (const auto& kv : *src.dict) items.push_back(Value::of(kv.first));
      else if (src.is_atom() && atom_is_str(src.atom)) for (char c : std::get<std::string>(src.atom)) items.push_back(Value::of(std::string(1, c)));
      else fail(s.exprs[0]->loc, "cannot loop over a " + value_type_name(src), "loop over a list, range(n), a string or a dict");
      for (const Value& item : items) {
        bind_targets(s.targets, item, *env, s.loc);
        Value r = interp_exec_block(in, s.body, env, returned);
        if (*returned) return r;
      }
      return Value{};
    }
    case StmtKind::Return: {
      *returned = true;
      if (s.exprs.size() == 1) return interp_eval_expr(in, *s.exprs[0], env);
      List items;
      for (const auto& e : s.exprs) items.push_back(interp_eval_expr(in, *e, env));
      return Value::of_list(std::move(items));
    }
    case StmtKind::Load:
      Exec::load(in, s, Exec::at_repl_top(in) && s.loc.file && s.loc.file->name == "<repl>");
      return Value{};
  }
  return Value{};
}

Value interp_call(Interpreter& in, const Value& f, const std::vector<Value>& args, const SrcLoc& loc) {
  if (f.kind != Value::Kind::Func)
    fail(loc, "a " + value_type_name(f) + " is not a function and cannot be called", "");
  const Function& fn = *f.func;
  int n = static_cast<int>(args.size());
  if (fn.builtin) {
    if (n < fn.min_args || n > fn.max_args) {
      std::string want = fn.min_args == fn.max_args ? std::to_string(fn.min_args)
                                                    : std::to_string(fn.min_args) + " to " + std::to_string(fn.max_args);
      fail(loc, fn.name + "() takes " + want + " argument" + (want == "1" ? "" : "s") + ", got " + std::to_string(n), "");
    }
    try {
      return fn.builtin(in, args, loc);
    } catch (const Error& e) {
      if (loc.file && e.message().find(loc.file->name + ":") == 0) throw;
      throw Error(loc_message(loc, fn.name + "(): " + e.message()), e.hint());
    }
  }
  if (n != static_cast<int>(fn.params.size()))
    fail(loc, fn.name + "() takes " + std::to_string(fn.params.size()) + " argument" +
                  (fn.params.size() == 1 ? "" : "s") + ", got " + std::to_string(n),
         "it is defined at " + fn.def->loc.str());
  Exec::CallDepth guard(in, loc, fn.name);
  auto scope = std::make_shared<Env>();
  scope->parent = fn.closure;
  for (int i = 0; i < n; ++i) scope->vars[fn.params[i]] = args[i];
  bool returned = false;
  Value r = interp_exec_block(in, fn.def->body, scope, &returned);
  if (!returned) fail(loc, fn.name + "() ended without 'return'", "end the function body with return <value>;");
  return r;
}

const Node* interp_sop_pick(const Interpreter& in, const std::string& name, const std::string& file) {
  std::string names;
  for (const auto& [n, node] : in.sops()) names += (names.empty() ? "" : ", ") + n;
  if (name.empty()) {
    check(in.last_sop() != nullptr, file + " assigns no s-op", "assign one, e.g. out = reverse(tokens);");
    return in.last_sop();
  }
  const Value* v = in.lookup(name);
  if (!v) throw Error("no s-op named '" + name + "' in " + file, names.empty() ? "the file assigns no s-ops" : "its s-ops: " + names);
  if (!v->is_sop())
    throw Error("'" + name + "' in " + file + " is a " + value_type_name(*v) + ", not an s-op",
                names.empty() ? "the file assigns no s-ops" : "its s-ops: " + names);
  return v->node;
}

std::string interp_sop_name(const Interpreter& in, const Node* n) {
  for (const auto& [name, node] : in.sops())
    if (node == n) return name;
  return n->label();
}

}  // namespace attnlab::rasp
