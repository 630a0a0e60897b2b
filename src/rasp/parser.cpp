// RASP recursive-descent parser (see parser.h).
#include "rasp/parser.h"

#include <cstdlib>

#include "util/error.h"

namespace attnlab::rasp {

namespace {

class Parser {
 public:
  explicit Parser(const SourcePtr& src) : toks_(lex(src)) {}

  std::vector<StmtPtr> program() {
    std::vector<StmtPtr> out;
    while (peek().kind != Tok::End) out.push_back(statement());
    return out;
  }

  ExprPtr whole_expression() {
    ExprPtr e = expr();
    expect(Tok::End, "after the expression", "an expression must fill the whole text");
    return e;
  }

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int nesting_ = 0;

  struct Nest {  // bounds recursion: every recursive production holds one
    Parser& p;
    explicit Nest(Parser& p_, const SrcLoc& loc) : p(p_) {
      if (++p.nesting_ > kMaxNesting)
        throw Error(loc_message(loc, "nesting deeper than " + std::to_string(kMaxNesting) + " levels"),
                    "split the expression into named steps");
    }
    ~Nest() { --p.nesting_; }
  };

  const Token& peek(size_t k = 0) const { return toks_[std::min(pos_ + k, toks_.size() - 1)]; }
  Token next() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }
  bool accept(Tok k) {
    if (peek().kind != k) return false;
    next();
    return true;
  }
  [[noreturn]] void fail(const Token& at, const std::string& what, const std::string& hint) {
    throw Error(loc_message(at.loc, what + ", found " + token_show(at)), hint);
  }
  Token expect(Tok k, const std::string& context, const std::string& hint) {
    if (peek().kind != k) fail(peek(), "expected " + tok_name(k) + " " + context, hint);
    return next();
  }

  static ExprPtr make(ExprKind kind, SrcLoc loc, std::vector<ExprPtr> items = {}) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = std::move(loc);
    e->items = std::move(items);
    for (const auto& it : e->items) e->depth = std::max(e->depth, it->depth + 1);
    if (e->depth > kMaxNesting)
      throw Error(loc_message(e->loc, "expression nested deeper than " + std::to_string(kMaxNesting) + " levels"),
                  "split the expression into named steps");
    return e;
  }
  static ExprPtr make_op(ExprKind kind, MapOp op, SrcLoc loc, std::vector<ExprPtr> items) {
    ExprPtr e = make(kind, std::move(loc), std::move(items));
    e->op = op;
    return e;
  }

  // ---- statements ----
  std::vector<StmtPtr> block(const char* what) {
    expect(Tok::LBrace, std::string("to open the body of ") + what, "bodies are written { stmt; stmt; }");
    std::vector<StmtPtr> body;
    while (peek().kind != Tok::RBrace) {
      if (peek().kind == Tok::End) fail(peek(), std::string("expected '}' to close the body of ") + what, "add the missing '}'");
      body.push_back(statement());
    }
    next();
    return body;
  }

  std::vector<std::string> names(const char* context) {
    std::vector<std::string> out;
    do out.push_back(expect(Tok::Ident, context, "names start with a letter or '_'").text);
    while (accept(Tok::Comma));
    return out;
  }

  void end_statement(const char* what) {
    expect(Tok::Semi, std::string("to end the ") + what, "RASP statements end with ';'");
  }

  StmtPtr statement() {
    Nest guard(*this, peek().loc);
    auto s = std::make_shared<Stmt>();
    s->loc = peek().loc;
    switch (peek().kind) {
      case Tok::Def: {
        next();
        s->kind = StmtKind::Def;
        s->name = expect(Tok::Ident, "after 'def' (the function's name)", "write def name(a, b) { ... }").text;
        expect(Tok::LParen, "after the function name", "write def name(a, b) { ... }");
        if (peek().kind != Tok::RParen) s->targets = names("as a parameter name");
        expect(Tok::RParen, "to close the parameter list", "parameters are names separated by ','");
        s->body = block("the function");
        return s;
      }
      case Tok::For: {
        next();
        s->kind = StmtKind::For;
        s->targets = names("as the loop variable");
        expect(Tok::In, "after the loop variable", "write for x in list { ... }");
        s->exprs.push_back(expr());
        s->body = block("the loop");
        return s;
      }
      case Tok::Return:
        next();
        s->kind = StmtKind::Return;
        do s->exprs.push_back(expr());
        while (accept(Tok::Comma));
        end_statement("return statement");
        return s;
      case Tok::Load:
        next();
        s->kind = StmtKind::Load;
        s->name = expect(Tok::String, "after 'load' (the file to load)", "write load \"lib/sort\";").text;
        end_statement("load statement");
        return s;
      default:
        return simple_statement(s);
    }
  }

  StmtPtr simple_statement(std::shared_ptr<Stmt> s) {
    bool is_assign = peek().kind == Tok::Ident && (peek(1).kind == Tok::Assign || peek(1).kind == Tok::Comma);
    if (!is_assign) {
      s->kind = StmtKind::Expr;
      s->exprs.push_back(expr());
      if (peek().kind == Tok::Assign) fail(peek(), "cannot assign to this expression", "only names can be assigned: x = ...;");
      end_statement("expression statement");
      return s;
    }
    s->kind = StmtKind::Assign;
    s->targets = names("as an assignment target");
    expect(Tok::Assign, "after the assignment targets", "write a, b = e1, e2;");
    do s->exprs.push_back(expr());
    while (accept(Tok::Comma));
    end_statement("assignment");
    return s;
  }

  // ---- expressions, lowest precedence first ----
  ExprPtr expr() {
    Nest guard(*this, peek().loc);
    ExprPtr a = or_expr();
    if (peek().kind != Tok::If) return a;
    SrcLoc loc = next().loc;
    ExprPtr c = or_expr();
    expect(Tok::Else, "in the conditional expression", "write a if cond else b");
    ExprPtr b = expr();
    std::vector<ExprPtr> items;
    items.push_back(std::move(a));
    items.push_back(std::move(c));
    items.push_back(std::move(b));
    return make(ExprKind::Ternary, loc, std::move(items));
  }

  ExprPtr binary_tail(ExprPtr lhs, const Token& op_tok, MapOp op, ExprPtr rhs) {
    std::vector<ExprPtr> items;
    items.push_back(std::move(lhs));
    items.push_back(std::move(rhs));
    return make_op(ExprKind::Binary, op, op_tok.loc, std::move(items));
  }

  ExprPtr or_expr() {
    ExprPtr e = and_expr();
    while (peek().kind == Tok::Or) {
      Token t = next();
      e = binary_tail(std::move(e), t, MapOp::Or, and_expr());
    }
    return e;
  }

  ExprPtr and_expr() {
    ExprPtr e = not_expr();
    while (peek().kind == Tok::And) {
      Token t = next();
      e = binary_tail(std::move(e), t, MapOp::And, not_expr());
    }
    return e;
  }

  ExprPtr not_expr() {
    if (peek().kind != Tok::Not) return comparison();
    Nest guard(*this, peek().loc);
    Token t = next();
    std::vector<ExprPtr> items;
    items.push_back(not_expr());
    return make_op(ExprKind::Unary, MapOp::Not, t.loc, std::move(items));
  }

  static bool comparison_op(Tok k, MapOp* op) {
    switch (k) {
      case Tok::Eq: *op = MapOp::Eq; return true;
      case Tok::Ne: *op = MapOp::Ne; return true;
      case Tok::Lt: *op = MapOp::Lt; return true;
      case Tok::Gt: *op = MapOp::Gt; return true;
      case Tok::Le: *op = MapOp::Le; return true;
      case Tok::Ge: *op = MapOp::Ge; return true;
      case Tok::In: *op = MapOp::In; return true;
      default: return false;
    }
  }

  ExprPtr comparison() {
    ExprPtr e = additive();
    MapOp op;
    if (comparison_op(peek().kind, &op)) {
      Token t = next();
      e = binary_tail(std::move(e), t, op, additive());
      if (comparison_op(peek().kind, &op))
        fail(peek(), "comparisons cannot be chained", "write (a < b) and (b < c)");
    }
    return e;
  }

  ExprPtr additive() {
    ExprPtr e = multiplicative();
    while (peek().kind == Tok::Plus || peek().kind == Tok::Minus) {
      Token t = next();
      e = binary_tail(std::move(e), t, t.kind == Tok::Plus ? MapOp::Add : MapOp::Sub, multiplicative());
    }
    return e;
  }

  ExprPtr multiplicative() {
    ExprPtr e = unary();
    while (peek().kind == Tok::Star || peek().kind == Tok::Slash || peek().kind == Tok::Percent) {
      Token t = next();
      MapOp op = t.kind == Tok::Star ? MapOp::Mul : t.kind == Tok::Slash ? MapOp::Div : MapOp::Mod;
      e = binary_tail(std::move(e), t, op, unary());
    }
    return e;
  }

  ExprPtr unary() {
    if (peek().kind != Tok::Minus && peek().kind != Tok::Plus) return power();
    Nest guard(*this, peek().loc);
    Token t = next();
    std::vector<ExprPtr> items;
    items.push_back(unary());
    return make_op(ExprKind::Unary, t.kind == Tok::Minus ? MapOp::Neg : MapOp::Pos, t.loc, std::move(items));
  }

  ExprPtr power() {
    ExprPtr base = postfix();
    if (peek().kind != Tok::Caret) return base;
    Nest guard(*this, peek().loc);
    Token t = next();
    return binary_tail(std::move(base), t, MapOp::Pow, unary());
  }

  ExprPtr postfix() {
    ExprPtr e = primary();
    while (true) {
      if (peek().kind == Tok::LBracket) {
        Token t = next();
        std::vector<ExprPtr> items;
        items.push_back(std::move(e));
        items.push_back(expr());
        expect(Tok::RBracket, "to close the index", "write a[i]");
        e = make(ExprKind::Index, t.loc, std::move(items));
      } else if (peek().kind == Tok::LParen) {
        e = call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr call(ExprPtr callee) {
    Token t = next();
    std::vector<ExprPtr> items;
    items.push_back(std::move(callee));
    if (peek().kind != Tok::RParen) {
      do items.push_back(argument());
      while (accept(Tok::Comma));
    }
    expect(Tok::RParen, "to close the argument list", "arguments are separated by ','");
    SrcLoc loc = items[0]->kind == ExprKind::Name ? items[0]->loc : t.loc;  // errors point at the function's name
    return make(ExprKind::Call, loc, std::move(items));
  }

  // An argument may be a bare comparison operator: select(k, q, ==).
  ExprPtr argument() {
    MapOp op;
    bool bare = comparison_op(peek().kind, &op) && op != MapOp::In &&
                (peek(1).kind == Tok::Comma || peek(1).kind == Tok::RParen);
    if (!bare) return expr();
    Token t = next();
    ExprPtr e = make(ExprKind::CmpLit, t.loc);
    static const Cmp cmps[] = {Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Gt, Cmp::Le, Cmp::Ge};
    e->cmp = cmps[static_cast<int>(op) - static_cast<int>(MapOp::Eq)];
    return e;
  }

  ExprPtr primary();
  ExprPtr list_or_comprehension(const Token& open);
  ExprPtr dict_or_comprehension(const Token& open);
  void comprehension_tail(Expr& e, const char* close_what);
};

ExprPtr Parser::primary() {
  Token t = next();
  switch (t.kind) {
    case Tok::Int: {
      ExprPtr e = make(ExprKind::Literal, t.loc);
      e->literal = static_cast<int64_t>(std::strtoll(t.text.c_str(), nullptr, 10));
      return e;
    }
    case Tok::Float: {
      ExprPtr e = make(ExprKind::Literal, t.loc);
      e->literal = std::strtod(t.text.c_str(), nullptr);
      return e;
    }
    case Tok::String: {
      ExprPtr e = make(ExprKind::Literal, t.loc);
      e->literal = t.text;
      return e;
    }
    case Tok::True:
    case Tok::False: {
      ExprPtr e = make(ExprKind::Literal, t.loc);
      e->literal = t.kind == Tok::True;
      return e;
    }
    case Tok::Ident: {
      ExprPtr e = make(ExprKind::Name, t.loc);
      e->name = t.text;
      return e;
    }
    case Tok::LParen: {
      ExprPtr e = expr();
      expect(Tok::RParen, "to close the parenthesis", "add the missing ')'");
      return e;
    }
    case Tok::LBracket: return list_or_comprehension(t);
    case Tok::LBrace: return dict_or_comprehension(t);
    default:
      fail(t, "expected an expression (a name, number, string, list, dict or '(')",
           t.kind == Tok::End ? "the input ends in the middle of an expression" : "check for a missing operand");
  }
}

void Parser::comprehension_tail(Expr& e, const char* close_what) {
  e.vars = names("as the comprehension variable");
  expect(Tok::In, "after the comprehension variable", "write [e for x in list]");
  e.items.push_back(or_expr());
  if (accept(Tok::If)) {
    e.has_cond = true;
    e.items.push_back(or_expr());
  }
  expect(e.kind == ExprKind::ListComp ? Tok::RBracket : Tok::RBrace, std::string("to close the ") + close_what, "");
  for (const auto& it : e.items) e.depth = std::max(e.depth, it->depth + 1);
}

ExprPtr Parser::list_or_comprehension(const Token& open) {
  ExprPtr e = make(ExprKind::List, open.loc);
  if (accept(Tok::RBracket)) return e;
  e->items.push_back(expr());
  if (accept(Tok::For)) {
    e->kind = ExprKind::ListComp;
    comprehension_tail(*e, "list comprehension");
    return e;
  }
  while (accept(Tok::Comma)) {
    if (peek().kind == Tok::RBracket) break;
    e->items.push_back(expr());
  }
  expect(Tok::RBracket, "to close the list", "list items are separated by ','");
  for (const auto& it : e->items) e->depth = std::max(e->depth, it->depth + 1);
  return e;
}

ExprPtr Parser::dict_or_comprehension(const Token& open) {
  ExprPtr e = make(ExprKind::Dict, open.loc);
  if (accept(Tok::RBrace)) return e;
  do {
    if (peek().kind == Tok::RBrace) break;
    e->items.push_back(expr());
    expect(Tok::Colon, "between a dict key and its value", "write {key: value, ...}");
    e->items.push_back(expr());
    if (e->items.size() == 2 && accept(Tok::For)) {
      e->kind = ExprKind::DictComp;
      comprehension_tail(*e, "dict comprehension");
      return e;
    }
  } while (accept(Tok::Comma));
  expect(Tok::RBrace, "to close the dict", "dict entries are separated by ','");
  for (const auto& it : e->items) e->depth = std::max(e->depth, it->depth + 1);
  return e;
}

}  // namespace

std::vector<StmtPtr> parse_program(const SourcePtr& src) { return Parser(src).program(); }

ExprPtr parse_expression(const SourcePtr& src) { return Parser(src).whole_expression(); }

bool parse_needs_more(const std::string& text) {
  std::vector<Token> toks;
  try {
    toks = lex(std::make_shared<SourceFile>(SourceFile{"<repl>", text}));
  } catch (const Error&) {
    return false;
  }
  int depth = 0;
  for (const Token& t : toks) {
    if (t.kind == Tok::LParen || t.kind == Tok::LBracket || t.kind == Tok::LBrace) ++depth;
    if (t.kind == Tok::RParen || t.kind == Tok::RBracket || t.kind == Tok::RBrace) --depth;
  }
  if (depth > 0) return true;
  if (toks.size() <= 1) return false;
  Tok last = toks[toks.size() - 2].kind;
  return last != Tok::Semi && last != Tok::RBrace;
}

}  // namespace attnlab::rasp
