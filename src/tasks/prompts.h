// LLM prompt sets for the retrieval problem (Musat 2024, arXiv 2411.12118, §3: LLMs solve it without fine-tuning
// under several formulations). Each prompt is one retrieval instance (tasks/retrieval.h) with D steps, written in
// one of five formulations, with its gold answer; a scorer reads answers of any external model and reports
// accuracy per D and per format. No model is run here.
//   F1 assignments  "C = 4, D = C, A = 9, E = D, B = A. What is the value of E? Answer with the number only."
//   F2 language     "C is 4. D is the same as C. ... What is E? Answer with the number only."
//   F3 code         "Consider this program:\nc = 4\nd = c\n...\nprint(e)\nWhat does it print? Answer with ..."
//   F4 multiple choice: F1's statements, "What is the value of E?", four options "A) 9" .. "D) 4" (the gold
//      value, the values of the distractor chains first, then random ones; shuffled); gold = the letter.
//   F5 facts and rules (conditional retrieval, D rule applications): "Alice lives in Paris. Bob's mother is
//      Alice. ... Wizards live with their mothers. Bob is a wizard. Where does Bob live? Answer with the city
//      name only."  gold = the city.
// JSONL, one prompt a line: {"id":"F1-D3-0007","D":3,"format":"F1","prompt":"...","gold":"4"} (+ "options":
// ["9","4","1","7"] for F4). Answers: {"id":"F1-D3-0007","answer":"4"} a line. Answers are compared after
// normalisation (trim, runs of whitespace -> one space, lower case, trailing periods removed).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace attnlab {

struct PromptSetSpec {
  std::vector<int64_t> depths{1, 2, 3, 4};           // D values
  std::vector<std::string> formats{"F1", "F2", "F3", "F4", "F5"};
  int64_t count = 100;   // prompts per (D, format)
  uint64_t seed = 0;
  int64_t chains = 2;    // distractor chains (F1..F4); F5: distractor people
  int64_t chain_len = 0; // distractor chain length; 0 = D
  int64_t assign = 2;    // single distractor assignments (F1..F4)
};

struct Prompt {
  std::string id;                    // "<format>-D<D>-<index, 4 digits>"
  int64_t depth = 0;                 // D
  std::string format;                // F1..F5
  std::string prompt;
  std::string gold;
  std::vector<std::string> options;  // F4 only: the texts of options A..D
};

// "1..8", "3", "1,3,5", "2..4,8" -> sorted distinct depths; Error naming the bad part otherwise.
std::vector<int64_t> prompt_parse_depths(const std::string& text);
// "F1..F5", "F1,F3", "f2" -> sorted distinct formats; Error naming the bad part otherwise.
std::vector<std::string> prompt_parse_formats(const std::string& text);

std::vector<Prompt> prompts_generate(const PromptSetSpec& spec);  // same seed, same bytes
std::string prompts_to_jsonl(const std::vector<Prompt>& prompts);
// Reads a prompts file; Error naming file:line for malformed lines, missing fields and duplicate ids.
std::vector<Prompt> prompts_read(const std::string& path);

std::string answer_normalise(const std::string& text);

struct ScoreCell {
  int64_t correct = 0, total = 0, missing = 0;  // missing answers count as wrong (they are in total)
  double accuracy() const { return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0; }
};

struct PromptScore {
  ScoreCell all;
  std::map<int64_t, ScoreCell> by_depth;
  std::map<std::string, ScoreCell> by_format;
  std::map<std::string, std::map<int64_t, ScoreCell>> by_format_depth;
  std::vector<std::string> missing_ids;  // prompts without an answer, in file order
};

// Scores answers (JSONL of {"id","answer"}) against prompts. Unknown or duplicate answer ids, and malformed
// lines, are errors naming file:line.
PromptScore prompts_score(const std::vector<Prompt>& prompts, const std::string& answers_path);
nlohmann::json prompt_score_json(const PromptScore& score);
std::string prompt_score_table(const PromptScore& score);  // rows D, columns formats, plus totals

}  // namespace attnlab
