// The RASP REPL (see repl.h).
#include "rasp/repl.h"

#include <editline/readline.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "rasp/parser.h"
#include "util/error.h"

namespace attnlab::rasp {

static std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

static std::string example_text(const std::vector<Atom>& ex) {
  bool chars = true;
  std::string joined;
  for (const Atom& a : ex) {
    chars = chars && atom_is_str(a) && std::get<std::string>(a).size() == 1;
    if (chars) joined += std::get<std::string>(a);
  }
  if (chars) return "\"" + joined + "\"";
  std::string s = "[";
  for (size_t i = 0; i < ex.size(); ++i) s += (i ? ", " : "") + atom_repr(ex[i]);
  return s + "]";
}

ReplSession::ReplSession() {
  in_.on_assign = [this](const std::string& name, const Value& v) { out_ += value_show(name, v); };
  in_.on_expr = [this](const Value& v) { out_ += value_show("", v); };
}

std::string ReplSession::value_show(const std::string& name, const Value& v) {
  std::string lhs = name.empty() ? "" : name;
  if (v.kind == Value::Kind::Func) return (lhs.empty() ? "" : lhs + " = ") + "function " + v.func->name + "\n";
  if (v.kind != Value::Kind::Node) return (lhs.empty() ? "" : lhs + " = ") + value_repr(v) + "\n";
  std::string kind = v.node->is_selector() ? "selector" : "s-op";
  if (lhs.empty()) lhs = v.node->label();
  if (!has_example_) return lhs + " = " + kind + " (set example \"...\" to see its values)\n";
  EvalOptions opts;
  opts.causal = causal;
  opts.keep_selectors = true;
  try {
    Evaluation ev = evaluate({v.node}, example_, opts);
    std::string head = lhs + "(" + example_text(example_) + ") = ";
    if (!v.node->is_selector()) {
      std::string s = "[";
      const Column& c = ev.at(v.node);
      for (size_t i = 0; i < c.size(); ++i) s += (i ? ", " : "") + atom_repr(c[i]);
      return head + s + "]\n";
    }
    const BitMatrix& m = ev.selectors.at(v.node);
    std::string s = head + "selector (row = query, column = key)\n";
    for (size_t i = 0; i < m.n; ++i) {
      s += "  " + atom_str(example_[i]) + " |";
      for (size_t j = 0; j < m.n; ++j) s += m.get(i, j) ? " 1" : " 0";
      s += "\n";
    }
    return s;
  } catch (const Error& e) {
    return lhs + " = " + kind + ", but on the example:\n" + e.format() + "\n";
  }
}

std::string ReplSession::command(const std::string& text, bool* handled) {
  *handled = true;
  if (text.rfind("set example", 0) == 0) {
    std::string arg = trim(text.substr(11));
    if (arg.size() >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg.back() == arg[0]) arg = arg.substr(1, arg.size() - 2);
    example_ = input_parse(arg);
    has_example_ = true;
    return "example = " + example_text(example_) + "\n";
  }
  if (text == "show example") return has_example_ ? "example = " + example_text(example_) + "\n" : "no example set\n";
  if (text == "set causal on" || text == "set causal off") {
    causal = text == "set causal on";
    return std::string("causal mode ") + (causal ? "on" : "off") + "\n";
  }
  if (text.rfind("show ", 0) == 0 && text.find(';') == std::string::npos) {
    std::string name = trim(text.substr(5));
    const Value* v = in_.lookup(name);
    if (!v) return "error: unknown name '" + name + "'\n";
    return value_show(name, *v);
  }
  if (text == "help")
    return "RASP statements end with ';' (def/for bodies with '}'). Commands: set example \"hello\" | "
           "set example [1, 2] | show example | show NAME | set causal on|off | exit\n";
  *handled = false;
  return "";
}

std::string ReplSession::line_feed(const std::string& line, bool* more) {
  *more = false;
  if (pending_.empty()) {
    bool handled = false;
    std::string out;
    try {
      out = command(trim(line), &handled);
    } catch (const Error& e) {
      return e.format() + "\n";
    }
    if (handled) return out;
    if (trim(line).empty()) return "";
  }
  pending_ += line + "\n";
  if (parse_needs_more(pending_)) {
    *more = true;
    return "";
  }
  std::string chunk = pending_;
  pending_.clear();
  out_.clear();
  try {
    in_.run_source(chunk, "<repl>");
  } catch (const Error& e) {
    out_ += e.format() + "\n";
  }
  return out_;
}

int repl_run(const std::vector<std::string>& files, bool causal) {
  ReplSession session;
  session.causal = causal;
  for (const std::string& f : files) {
    bool more = false;
    std::cout << session.line_feed("load \"" + f + "\";", &more);
  }
  std::string history;
  if (const char* home = std::getenv("HOME")) history = std::string(home) + "/.attnlab_rasp_history";
  using_history();
  if (!history.empty()) read_history(history.c_str());
  std::cout << "attnlab RASP REPL — statements end with ';', 'help' for commands, Ctrl-D to leave\n";
  bool more = false;
  while (true) {
    char* raw = readline(more ? "..> " : ">> ");
    if (!raw) break;
    std::string line = raw;
    std::free(raw);
    if (!more && (trim(line) == "exit" || trim(line) == "quit")) break;
    if (!trim(line).empty()) add_history(line.c_str());
    std::cout << session.line_feed(line, &more) << std::flush;
  }
  if (!history.empty()) write_history(history.c_str());
  std::cout << "\n";
  return 0;
}

}  // namespace attnlab::rasp
