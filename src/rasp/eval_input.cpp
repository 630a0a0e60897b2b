// Inputs of a RASP evaluation: parsing "hello" / "[3, 1, 2]" into atoms, and the typed token primitives
// (tokens_int, tokens_float, tokens_bool, tokens_str) converting each position.
#include <charconv>
#include <cstdlib>

#include "rasp/eval.h"
#include "util/error.h"

namespace attnlab::rasp {

static Error token_error(TokenType t, const Atom& a, size_t pos, const char* want, const char* example) {
  return Error(token_type_name(t) + ": position " + std::to_string(pos) + " holds " + atom_repr(a) + ", which is not " + want,
               std::string("give ") + want + " tokens, e.g. --input \"" + example + "\"");
}

Atom token_convert(TokenType t, const Atom& a, size_t pos) {
  switch (t) {
    case TokenType::Any: return a;
    case TokenType::Str: return atom_str(a);
    case TokenType::Int: {
      if (atom_is_int(a)) return a;
      if (atom_is_bool(a)) return static_cast<int64_t>(std::get<bool>(a));
      if (atom_is_str(a)) {
        const std::string& s = std::get<std::string>(a);
        int64_t v = 0;
        auto r = std::from_chars(s.data(), s.data() + s.size(), v);
        if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
      }
      throw token_error(t, a, pos, "an integer", "[3, 1, 2]");
    }
    case TokenType::Float: {
      if (atom_is_number(a)) return atom_to_double(a);
      if (atom_is_str(a)) {
        const std::string& s = std::get<std::string>(a);
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) return v;
      }
      throw token_error(t, a, pos, "a number", "[0.5, 1.5]");
    }
    case TokenType::Bool: {
      if (atom_is_bool(a)) return a;
      if (atom_is_int(a) && (std::get<int64_t>(a) == 0 || std::get<int64_t>(a) == 1)) return std::get<int64_t>(a) == 1;
      if (atom_is_str(a)) {
        const std::string& s = std::get<std::string>(a);
        if (s == "True" || s == "1") return true;
        if (s == "False" || s == "0") return false;
      }
      throw token_error(t, a, pos, "a boolean", "[True, False]");
    }
  }
  return a;
}

static std::vector<Atom> utf8_chars(const std::string& text) {
  std::vector<Atom> out;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, text.size() - i);
    out.push_back(text.substr(i, len));
    i += len;
  }
  return out;
}

static std::vector<Atom> list_parse(const std::string& text) {
  auto src = std::make_shared<SourceFile>(SourceFile{"<input>", text});
  std::vector<Token> toks = lex(src);
  std::vector<Atom> out;
  size_t p = 1;  // toks[0] is '['
  auto bad = [&](const Token& t) {
    return Error(loc_message(t.loc, "expected a number, string, True or False in the input list, found " + token_show(t)),
                 "write the input as [1, 2, 3] or [\"a\", \"b\"], or as plain text for one token per character");
  };
  while (toks[p].kind != Tok::RBracket) {
    bool neg = toks[p].kind == Tok::Minus;
    if (neg) ++p;
    const Token& t = toks[p];
    if (t.kind == Tok::Int) out.push_back(static_cast<int64_t>((neg ? -1 : 1) * std::strtoll(t.text.c_str(), nullptr, 10)));
    else if (t.kind == Tok::Float) out.push_back((neg ? -1 : 1) * std::strtod(t.text.c_str(), nullptr));
    else if (!neg && t.kind == Tok::String) out.push_back(t.text);
    else if (!neg && (t.kind == Tok::True || t.kind == Tok::False)) out.push_back(t.kind == Tok::True);
    else throw bad(t);
    ++p;
    if (toks[p].kind == Tok::Comma) ++p;
    else if (toks[p].kind != Tok::RBracket) throw bad(toks[p]);
  }
  if (toks[p + 1].kind != Tok::End) throw bad(toks[p + 1]);
  return out;
}

std::vector<Atom> input_parse(const std::string& text, bool chars, bool list_only) {
  size_t first = text.find_first_not_of(" \t\n");
  if (chars || first == std::string::npos || text[first] != '[') return utf8_chars(text);
  if (list_only) return list_parse(text);
  try {
    std::vector<Atom> list = list_parse(text);
    if (!list.empty()) return list;
  } catch (const Error&) {
  }
  return utf8_chars(text);
}

}  // namespace attnlab::rasp
