// LLM prompt sets for the retrieval problem: five formulations of one instance, JSONL export, and a scorer per
// D and format for answers of an external model. Formats and the JSONL schema: prompts.h.
#include "tasks/prompts.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <sstream>

#include "tasks/retrieval.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {

namespace {

const char* const kCities[] = {"Paris", "Lima", "Oslo", "Cairo", "Quito", "Rome", "Tokyo", "Delhi", "Accra", "Hanoi"};
const char* const kNames[] = {"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan",
                              "Judy", "Ken", "Laura", "Mike", "Nina", "Oscar", "Peggy", "Quinn", "Rita",
                              "Sam", "Tina", "Uma", "Victor", "Wendy", "Xavier", "Yara", "Zoe"};
constexpr const char* kFormats[] = {"F1", "F2", "F3", "F4", "F5"};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(trim(part));
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

int64_t parse_int(const std::string& s, const std::string& whole, const std::string& hint) {
  check(!s.empty() && s.size() <= 6 && std::all_of(s.begin(), s.end(), ::isdigit),
        "'" + whole + "': '" + s + "' is not a positive integer", hint);
  return std::stoll(s);
}

uint64_t mix(uint64_t a, uint64_t b) {  // splitmix64 of a combination, platform independent
  uint64_t x = a * 0x9e3779b97f4a7c15ull + b + 0x632be59bd9b4e019ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// F1..F4 from one retrieval instance.
Prompt prompt_chain(const RetrievalSpec& rs, const std::string& format, TaskRng& rng) {
  RetrievalInstance inst = retrieval_instance(rs, rng);
  const auto vocab = retrieval_vocab(rs);
  const int64_t T = static_cast<int64_t>(inst.tokens.size());
  const std::string query = vocab[inst.tokens[T - 1]];
  Prompt p;
  p.gold = vocab[inst.answer];
  std::string body;
  for (int64_t s = 0; 2 * s + 2 < T; ++s) {
    const std::string l = vocab[inst.tokens[2 * s]], r = vocab[inst.tokens[2 * s + 1]];
    const bool is_value = inst.tokens[2 * s + 1] < rs.values;
    if (format == "F1" || format == "F4") body += (s ? ", " : "") + l + " = " + r;
    if (format == "F2") body += (s ? " " : "") + l + (is_value ? " is " : " is the same as ") + r + ".";
    if (format == "F3") body += lower(l) + " = " + lower(r) + "\n";
  }
  if (format == "F1") p.prompt = body + ". What is the value of " + query + "? Answer with the number only.";
  if (format == "F2") p.prompt = body + " What is " + query + "? Answer with the number only.";
  if (format == "F3")
    p.prompt = "Consider this program:\n" + body + "print(" + lower(query) + ")\nWhat does it print? Answer with "
               "the number only.";
  if (format != "F4") return p;
  std::vector<int64_t> opts{inst.answer};  // gold, then the distractor chains' values, then random values
  for (int64_t t = 1; t < T - 2 && opts.size() < 4; t += 2)
    if (inst.chain_of[t] != 0 && inst.tokens[t] < rs.values &&
        std::find(opts.begin(), opts.end(), inst.tokens[t]) == opts.end())
      opts.push_back(inst.tokens[t]);
  while (opts.size() < 4) {
    int64_t v = static_cast<int64_t>(rng_below(rng, rs.values));
    if (std::find(opts.begin(), opts.end(), v) == opts.end()) opts.push_back(v);
  }
  for (int64_t i = 3; i > 0; --i) std::swap(opts[i], opts[rng_below(rng, i + 1)]);
  p.prompt = body + ". What is the value of " + query + "?";
  for (int64_t i = 0; i < 4; ++i) {
    const char letter = static_cast<char>('A' + i);
    p.options.push_back(vocab[opts[i]]);
    p.prompt += std::string("\n") + letter + ") " + vocab[opts[i]];
    if (opts[i] == inst.answer) p.gold = std::string(1, letter);
  }
  p.prompt += "\nAnswer with the letter of the correct option.";
  return p;
}

Prompt prompt_rules(int64_t depth, int64_t distractors, TaskRng& rng) {
  ConditionalSpec cs;
  cs.depth = depth;
  cs.distractors = std::max<int64_t>(1, distractors);
  cs.people = std::max<int64_t>(26, depth + 1 + cs.distractors);
  cs.places = 10;
  ConditionalInstance inst = conditional_instance(cs, rng);
  std::vector<std::string> places(std::begin(kCities), std::end(kCities)), people;
  if (cs.people == 26) people.assign(std::begin(kNames), std::end(kNames));
  Prompt p;
  p.prompt = conditional_text(cs, inst.tokens, places, people) + " Answer with the city name only.";
  p.gold = places[inst.answer];
  return p;
}

[[noreturn]] void line_error(const std::string& path, int64_t line, const std::string& what, const std::string& hint) {
  throw Error(path + ":" + std::to_string(line) + ": " + what, hint);
}

// Each non-blank line of a JSONL file as an object, with its line number.
std::vector<std::pair<int64_t, nlohmann::json>> jsonl_read(const std::string& path, const std::string& hint) {
  std::vector<std::pair<int64_t, nlohmann::json>> rows;
  std::istringstream in(file_read_text(path));
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (trim(line).empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      line_error(path, n, "malformed JSON: " + std::string(e.what()), hint);
    }
    if (!j.is_object()) line_error(path, n, "a line is not a JSON object", hint);
    rows.emplace_back(n, std::move(j));
  }
  return rows;
}

std::string field_string(const nlohmann::json& j, const char* key, const std::string& path, int64_t n,
                         const std::string& hint, bool numbers_ok = false) {
  auto it = j.find(key);
  if (it == j.end()) line_error(path, n, std::string("missing field \"") + key + "\"", hint);
  if (it->is_string()) return it->get<std::string>();
  if (numbers_ok && it->is_number()) return it->dump();
  line_error(path, n, std::string("field \"") + key + "\" is not a string", hint);
}

}  // namespace

std::vector<int64_t> prompt_parse_depths(const std::string& text) {
  const std::string hint = "write depths as 3, 1..8 or 1,3,5 (each between 1 and 64)";
  std::set<int64_t> out;
  check(!trim(text).empty(), "depth list is empty", hint);
  for (const auto& part : split(text, ',')) {
    size_t dots = part.find("..");
    int64_t lo = parse_int(dots == std::string::npos ? part : part.substr(0, dots), text, hint);
    int64_t hi = dots == std::string::npos ? lo : parse_int(part.substr(dots + 2), text, hint);
    check(lo >= 1 && hi <= 64 && lo <= hi, "depth range '" + part + "' in '" + text + "' is not within 1..64", hint);
    for (int64_t d = lo; d <= hi; ++d) out.insert(d);
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> prompt_parse_formats(const std::string& text) {
  const std::string hint = "formats are F1..F5: write F1..F5, F2 or F1,F3";
  auto index = [&](const std::string& f) {
    for (int i = 0; i < 5; ++i)
      if (lower(f) == lower(kFormats[i])) return i;
    throw Error("unknown format '" + f + "' in '" + text + "'", hint);
  };
  std::set<int> out;
  check(!trim(text).empty(), "format list is empty", hint);
  for (const auto& part : split(text, ',')) {
    size_t dots = part.find("..");
    int lo = index(dots == std::string::npos ? part : part.substr(0, dots));
    int hi = dots == std::string::npos ? lo : index(part.substr(dots + 2));
    check(lo <= hi, "format range '" + part + "' runs backwards", hint);
    for (int f = lo; f <= hi; ++f) out.insert(f);
  }
  std::vector<std::string> v;
  for (int f : out) v.push_back(kFormats[f]);
  return v;
}

std::vector<Prompt> prompts_generate(const PromptSetSpec& spec) {
  check(spec.count >= 1 && spec.count <= 100000, "prompt count " + std::to_string(spec.count) + " (must be 1..100000)",
        "pass --count between 1 and 100000");
  check(!spec.depths.empty() && !spec.formats.empty(), "no depths or no formats", "pass --D and --format");
  check(spec.chains >= 0 && spec.chain_len >= 0 && spec.assign >= 0,
        "negative distractor counts (chains " + std::to_string(spec.chains) + ", chain length " +
            std::to_string(spec.chain_len) + ", assignments " + std::to_string(spec.assign) + ")",
        "distractor counts are >= 0");
  std::vector<Prompt> out;
  for (const auto& format : spec.formats) {
    const int64_t fi = std::find(std::begin(kFormats), std::end(kFormats), format) - std::begin(kFormats);
    check(fi < 5, "unknown format '" + format + "'", "formats are F1..F5");
    for (int64_t D : spec.depths) {
      RetrievalSpec rs{D, spec.chains, spec.chain_len, spec.assign, 26, 10, true};
      rs.variables = std::max<int64_t>(26, D + spec.chains * (spec.chain_len ? spec.chain_len : D) + spec.assign);
      if (format != "F5") retrieval_validate(rs);
      TaskRng rng(mix(mix(spec.seed, static_cast<uint64_t>(fi)), static_cast<uint64_t>(D)));
      for (int64_t i = 0; i < spec.count; ++i) {
        Prompt p = format == "F5" ? prompt_rules(D, spec.chains, rng) : prompt_chain(rs, format, rng);
        char id[64];
        std::snprintf(id, sizeof id, "%s-D%lld-%04lld", format.c_str(), static_cast<long long>(D),
                      static_cast<long long>(i));
        p.id = id;
        p.depth = D;
        p.format = format;
        out.push_back(std::move(p));
      }
    }
  }
  return out;
}

std::string prompts_to_jsonl(const std::vector<Prompt>& prompts) {
  std::string out;
  for (const auto& p : prompts) {
    nlohmann::ordered_json j{{"id", p.id}, {"D", p.depth}, {"format", p.format}, {"prompt", p.prompt},
                             {"gold", p.gold}};
    if (!p.options.empty()) j["options"] = p.options;
    out += j.dump() + "\n";
  }
  return out;
}

std::vector<Prompt> prompts_read(const std::string& path) {
  const std::string hint = "a prompts file has one JSON object per line with id, D, format, prompt, gold, as "
                           "written by 'attnlab retrieval prompts'";
  std::vector<Prompt> out;
  std::set<std::string> seen;
  for (const auto& [n, j] : jsonl_read(path, hint)) {
    Prompt p;
    p.id = field_string(j, "id", path, n, hint);
    p.format = field_string(j, "format", path, n, hint);
    p.prompt = field_string(j, "prompt", path, n, hint);
    p.gold = field_string(j, "gold", path, n, hint);
    if (!j.contains("D") || !j["D"].is_number_integer()) line_error(path, n, "field \"D\" is missing or no integer", hint);
    p.depth = j["D"].get<int64_t>();
    if (!seen.insert(p.id).second) line_error(path, n, "duplicate id '" + p.id + "'", hint);
    if (j.contains("options") && j["options"].is_array())
      for (const auto& o : j["options"]) p.options.push_back(o.is_string() ? o.get<std::string>() : o.dump());
    out.push_back(std::move(p));
  }
  check(!out.empty(), path + ": no prompts", hint);
  return out;
}

std::string answer_normalise(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : trim(text)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return out;
}

PromptScore prompts_score(const std::vector<Prompt>& prompts, const std::string& answers_path) {
  const std::string hint = "an answers file has one JSON object per line: {\"id\": \"F1-D3-0007\", \"answer\": \"4\"}, "
                           "with the ids of the prompts file";
  std::map<std::string, const Prompt*> by_id;
  for (const auto& p : prompts) by_id[p.id] = &p;
  std::map<std::string, std::string> answer;
  for (const auto& [n, j] : jsonl_read(answers_path, hint)) {
    std::string id = field_string(j, "id", answers_path, n, hint);
    std::string a = field_string(j, "answer", answers_path, n, hint, true);
    if (!by_id.count(id)) line_error(answers_path, n, "unknown id '" + id + "' (not in the prompts file)", hint);
    if (!answer.emplace(id, a).second) line_error(answers_path, n, "second answer for id '" + id + "'", hint);
  }
  PromptScore s;
  for (const auto& p : prompts) {
    auto it = answer.find(p.id);
    const bool missing = it == answer.end();
    const bool right = !missing && answer_normalise(it->second) == answer_normalise(p.gold);
    if (missing) s.missing_ids.push_back(p.id);
    for (ScoreCell* c : {&s.all, &s.by_depth[p.depth], &s.by_format[p.format], &s.by_format_depth[p.format][p.depth]}) {
      c->total += 1;
      c->correct += right;
      c->missing += missing;
    }
  }
  return s;
}

nlohmann::json prompt_score_json(const PromptScore& s) {
  auto cell = [](const ScoreCell& c) {
    return nlohmann::json{{"correct", c.correct}, {"total", c.total}, {"missing", c.missing}, {"accuracy", c.accuracy()}};
  };
  nlohmann::json j{{"overall", cell(s.all)}, {"missing_ids", s.missing_ids}};
  for (const auto& [d, c] : s.by_depth) j["by_D"][std::to_string(d)] = cell(c);
  for (const auto& [f, c] : s.by_format) j["by_format"][f] = cell(c);
  for (const auto& [f, row] : s.by_format_depth)
    for (const auto& [d, c] : row) j["by_format_D"][f][std::to_string(d)] = cell(c);
  return j;
}

std::string prompt_score_table(const PromptScore& s) {
  char buf[64];
  std::string out = "   D";
  for (const auto& [f, c] : s.by_format) out += "       " + f;
  out += "      all\n";
  for (const auto& [d, all] : s.by_depth) {
    std::snprintf(buf, sizeof buf, "%4lld", static_cast<long long>(d));
    out += buf;
    for (const auto& [f, c] : s.by_format) {
      auto it = s.by_format_depth.at(f).find(d);
      if (it == s.by_format_depth.at(f).end()) std::snprintf(buf, sizeof buf, "  %7s", "-");
      else std::snprintf(buf, sizeof buf, "  %7.3f", it->second.accuracy());
      out += buf;
    }
    std::snprintf(buf, sizeof buf, "  %7.3f\n", all.accuracy());
    out += buf;
  }
  out += " all";
  for (const auto& [f, c] : s.by_format) {
    std::snprintf(buf, sizeof buf, "  %7.3f", c.accuracy());
    out += buf;
  }
  std::snprintf(buf, sizeof buf, "  %7.3f\n", s.all.accuracy());
  out += buf;
  std::snprintf(buf, sizeof buf, "%lld/%lld correct, %lld missing answers (counted wrong)\n",
                static_cast<long long>(s.all.correct), static_cast<long long>(s.all.total),
                static_cast<long long>(s.all.missing));
  return out + buf;
}

}  // namespace attnlab
