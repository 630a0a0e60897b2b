// RASP lexer and the source-pointing error formatter (see lexer.h).
#include "rasp/lexer.h"

#include <cctype>
#include <cstdio>
#include <map>

#include "util/error.h"

namespace attnlab::rasp {

std::string SrcLoc::str() const {
  if (!file) return "<builtin>";
  return file->name + ":" + std::to_string(line) + ":" + std::to_string(col);
}

static std::string source_line(const std::string& text, int line) {
  size_t start = 0;
  for (int l = 1; l < line && start != std::string::npos; ++l) {
    start = text.find('\n', start);
    if (start != std::string::npos) ++start;
  }
  if (start == std::string::npos || start > text.size()) return "";
  size_t end = text.find('\n', start);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string loc_message(const SrcLoc& loc, const std::string& message) {
  if (!loc.file) return message;
  std::string out = loc.str() + ": " + message;
  std::string line = source_line(loc.file->text, loc.line);
  if (line.size() > 200) line = line.substr(0, 200) + " ...";
  std::string num = std::to_string(loc.line);
  std::string pad(num.size(), ' ');
  std::string caret;
  for (int i = 1; i < loc.col && i - 1 < static_cast<int>(line.size()); ++i)
    caret += line[i - 1] == '\t' ? '\t' : ' ';
  out += "\n  " + num + " | " + line + "\n  " + pad + " | " + caret + "^";
  return out;
}

std::string tok_name(Tok kind) {
  static const std::map<Tok, std::string> names = {
      {Tok::End, "end of input"}, {Tok::Ident, "a name"}, {Tok::Int, "an integer"},
      {Tok::Float, "a number"}, {Tok::String, "a string"}, {Tok::LParen, "'('"}, {Tok::RParen, "')'"},
      {Tok::LBracket, "'['"}, {Tok::RBracket, "']'"}, {Tok::LBrace, "'{'"}, {Tok::RBrace, "'}'"},
      {Tok::Comma, "','"}, {Tok::Semi, "';'"}, {Tok::Colon, "':'"}, {Tok::Assign, "'='"},
      {Tok::Eq, "'=='"}, {Tok::Ne, "'!='"}, {Tok::Lt, "'<'"}, {Tok::Gt, "'>'"}, {Tok::Le, "'<='"},
      {Tok::Ge, "'>='"}, {Tok::Plus, "'+'"}, {Tok::Minus, "'-'"}, {Tok::Star, "'*'"},
      {Tok::Slash, "'/'"}, {Tok::Percent, "'%'"}, {Tok::Caret, "'^'"}, {Tok::Def, "'def'"},
      {Tok::Return, "'return'"}, {Tok::For, "'for'"}, {Tok::In, "'in'"}, {Tok::If, "'if'"},
      {Tok::Else, "'else'"}, {Tok::And, "'and'"}, {Tok::Or, "'or'"}, {Tok::Not, "'not'"},
      {Tok::True, "'True'"}, {Tok::False, "'False'"}, {Tok::Load, "'load'"}};
  return names.at(kind);
}

std::string token_show(const Token& t) {
  if (t.kind == Tok::End) return "end of input";
  if (t.kind == Tok::String) return "the string \"" + t.text + "\"";
  return "'" + t.text + "'";
}

namespace {

const std::map<std::string, Tok> kKeywords = {
    {"def", Tok::Def}, {"return", Tok::Return}, {"for", Tok::For}, {"in", Tok::In}, {"if", Tok::If},
    {"else", Tok::Else}, {"and", Tok::And}, {"or", Tok::Or}, {"not", Tok::Not}, {"True", Tok::True},
    {"False", Tok::False}, {"load", Tok::Load}};

struct Lexer {
  SourcePtr src;
  const std::string& s;
  size_t pos = 0;
  int line = 1, col = 1;

  char peek(size_t k = 0) const { return pos + k < s.size() ? s[pos + k] : '\0'; }
  void advance() {
    if (s[pos] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    ++pos;
  }
  SrcLoc here() const { return {src, line, col}; }
  [[noreturn]] void fail(const SrcLoc& loc, const std::string& msg, const std::string& hint) {
    throw Error(loc_message(loc, msg), hint);
  }

  Token number(SrcLoc loc) {
    size_t start = pos;
    bool is_float = false;
    while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      is_float = true;
      advance();
      while (std::isdigit(static_cast<unsigned char>(peek()))) advance();
    }
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')
      fail(here(), "malformed number: a letter follows the digits", "separate the number and the name");
    std::string text = s.substr(start, pos - start);
    if (!is_float && text.size() > 18) fail(loc, "integer literal " + text + " is too large", "use at most 18 digits");
    return {is_float ? Tok::Float : Tok::Int, text, loc};
  }

  Token string_lit(SrcLoc loc) {
    char quote = peek();
    advance();
    std::string out;
    while (true) {
      char c = peek();
      if (c == '\0' && pos >= s.size()) fail(loc, "unterminated string literal", "close it with " + std::string(1, quote));
      if (c == '\n') fail(loc, "unterminated string literal (strings end on the line they start)",
                          "close it with " + std::string(1, quote));
      advance();
      if (c == quote) break;
      if (c == '\\') {
        char e = peek();
        if (pos >= s.size()) continue;
        advance();
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
      } else {
        out += c;
      }
    }
    return {Tok::String, out, loc};
  }

  Token punct(SrcLoc loc) {
    char c = peek(), d = peek(1);
    auto two = [&](Tok k) { advance(); advance(); return Token{k, std::string{c, d}, loc}; };
    auto one = [&](Tok k) { advance(); return Token{k, std::string(1, c), loc}; };
    if (c == '=' && d == '=') return two(Tok::Eq);
    if (c == '!' && d == '=') return two(Tok::Ne);
    if (c == '<' && d == '=') return two(Tok::Le);
    if (c == '>' && d == '=') return two(Tok::Ge);
    switch (c) {
      case '(': return one(Tok::LParen);
      case ')': return one(Tok::RParen);
      case '[': return one(Tok::LBracket);
      case ']': return one(Tok::RBracket);
      case '{': return one(Tok::LBrace);
      case '}': return one(Tok::RBrace);
      case ',': return one(Tok::Comma);
      case ';': return one(Tok::Semi);
      case ':': return one(Tok::Colon);
      case '=': return one(Tok::Assign);
      case '<': return one(Tok::Lt);
      case '>': return one(Tok::Gt);
      case '+': return one(Tok::Plus);
      case '-': return one(Tok::Minus);
      case '*': return one(Tok::Star);
      case '/': return one(Tok::Slash);
      case '%': return one(Tok::Percent);
      case '^': return one(Tok::Caret);
      default: break;
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
    std::string shown = std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : std::string(hex);
    fail(loc, "unexpected character '" + shown + "'",
         "RASP has names, numbers, \"strings\", ( ) [ ] { } , ; : and the operators = == != < > <= >= + - * / % ^");
  }

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      char c = peek();
      if (pos >= s.size()) break;
      if (c == '#') {
        while (pos < s.size() && peek() != '\n') advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        out.push_back(number(here()));
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        SrcLoc loc = here();
        size_t start = pos;
        while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_') advance();
        std::string word = s.substr(start, pos - start);
        auto kw = kKeywords.find(word);
        out.push_back({kw == kKeywords.end() ? Tok::Ident : kw->second, word, loc});
      } else if (c == '"' || c == '\'') {
        out.push_back(string_lit(here()));
      } else {
        out.push_back(punct(here()));
      }
    }
    out.push_back({Tok::End, "", here()});
    return out;
  }
};

}  // namespace

std::vector<Token> lex(const SourcePtr& src) {
  Lexer lx{src, src->text};
  return lx.run();
}

}  // namespace attnlab::rasp
