// The RASP REPL, as in the original: statements are run as they are typed (a 'def' or an open bracket
// keeps reading lines), `set example "hello"` makes every assignment print its value on that example,
// `show example` prints it, errors print and the session goes on. ReplSession holds the logic (and is
// tested); repl_run adds libedit line editing and history around it.
#pragma once

#include <string>
#include <vector>

#include "rasp/eval.h"
#include "rasp/interp.h"

namespace attnlab::rasp {

class ReplSession {
 public:
  ReplSession();
  // Feeds one line. Returns the text to print (may be empty). *more is set when the input so far is an
  // unfinished statement and the prompt should ask for a continuation line.
  std::string line_feed(const std::string& line, bool* more);
  bool causal = false;  // evaluate examples with the causal mask

 private:
  Interpreter in_;
  std::string pending_;              // lines of an unfinished statement
  std::vector<Atom> example_;        // `set example ...`
  bool has_example_ = false;
  std::string out_;                  // output collected while running a chunk
  std::string command(const std::string& text, bool* handled);
  std::string value_show(const std::string& name, const Value& v);
};

// Interactive loop on the terminal (libedit: arrows, history in ~/.attnlab_rasp_history). Runs files
// first if given. Returns the exit status.
int repl_run(const std::vector<std::string>& files, bool causal);

}  // namespace attnlab::rasp
