// RASP lexer: source text → tokens with file:line:col, and the one formatter for errors that point into
// source (the message, the offending line, a caret under the column). The syntax is that of the original
// RASP REPL language (Weiss, Goldberg, Yahav, "Thinking Like Transformers", ICML 2021); see docs/rasp.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace attnlab::rasp {

// One source text (a file, a REPL line, a builder expression). Shared by every location pointing into it.
struct SourceFile {
  std::string name;  // path as given, or "<repl>", "<builder>"
  std::string text;  // the whole source
};
using SourcePtr = std::shared_ptr<const SourceFile>;

// A position in a source: 1-based line and column (bytes). file may be null for synthesised nodes.
struct SrcLoc {
  SourcePtr file;
  int line = 0;
  int col = 0;
  std::string str() const;  // "file:line:col" or "<builtin>"
};

// "file:line:col: message\n  12 | the line\n     |     ^" — used by every syntax and runtime error that
// has a location.
std::string loc_message(const SrcLoc& loc, const std::string& message);

enum class Tok {
  End, Ident, Int, Float, String,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace, Comma, Semi, Colon, Assign,
  Eq, Ne, Lt, Gt, Le, Ge, Plus, Minus, Star, Slash, Percent, Caret,
  // keywords
  Def, Return, For, In, If, Else, And, Or, Not, True, False, Load,
};

struct Token {
  Tok kind = Tok::End;
  std::string text;  // identifier name, literal text (string literals unescaped)
  SrcLoc loc;
};

// Human-readable name of a token kind for "expected X" messages: "';'", "an identifier", ...
std::string tok_name(Tok kind);
// How a concrete token is shown in "found X": "'foo'", "end of input", ...
std::string token_show(const Token& t);

// Tokenises the whole source. Throws attnlab::Error (with location, line and caret) on a bad character,
// an unterminated string or a malformed number.
std::vector<Token> lex(const SourcePtr& src);

}  // namespace attnlab::rasp
