// The model directory: save/load round trips, and every kind of bad directory rejected with a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/weights.h"
#include "model_test_util.h"
#include "util/error.h"
#include "util/fs.h"

using namespace attnlab;
using namespace attnlab::test;

namespace {

ModelConfig full_config() {
  ModelConfig c = tiny_config(6, 4, 10);
  c.n_layers = 2;
  c.n_heads = 2;
  c.d_head = 3;
  c.attn_only = false;
  c.d_mlp = 7;
  c.act_fn = MlpKind::Gelu;
  c.normalization = NormKind::LN;
  c.pos_embed = PosEmbedKind::Learned;
  c.causal = true;
  c.vocab = {"<s>", "x", "y", "z"};
  c.vocab_out = {"<s>", "x", "y", "z"};
  c.bos = "<s>";
  return c;
}

// Expects `fn` to throw an Error whose message contains `needle` and whose hint is non-empty.
template <class F>
void expect_error(F fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
    EXPECT_FALSE(e.hint().empty()) << e.message();
  }
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST(ModelIo, SaveLoadRoundTripIsExact) {
  for (auto type : {ModelType::Transformer, ModelType::Gru}) {
    ModelConfig c = full_config();
    if (type == ModelType::Gru) {
      c.model_type = type;
      c.d_hidden = 5;
      c.n_ctx = 0;
    }
    auto m = model_create(c);
    model_init_random(m, 11, 0.5);
    std::string dir = temp_dir("roundtrip");
    model_save(dir, m);
    auto back = model_load(dir);
    EXPECT_EQ(config_to_json(back->config()), config_to_json(m->config()));
    auto x = tokens({0, 1, 2, 3, 1});
    EXPECT_EQ((back->forward({x}) - m->forward({x})).abs().max().item<double>(), 0.0);
    std::filesystem::remove_all(dir);
  }
}

TEST(ModelIo, Float32FileLoadsIntoFloat64AndBack) {
  auto m = model_create(full_config());
  model_init_random(m, 12, 0.5);
  std::string dir = temp_dir("f32");
  model_save(dir, m, torch::kFloat32);
  auto back = model_load(dir, torch::kFloat32);
  auto x = tokens({0, 2, 3});
  EXPECT_LT((back->forward({x}).to(torch::kFloat64) - m->forward({x})).abs().max().item<double>(), 1e-5);
  std::filesystem::remove_all(dir);
}

TEST(ModelIo, BadDirectoriesGiveClearErrors) {
  auto m = model_create(full_config());
  std::string dir = temp_dir("bad");
  expect_error([&] { model_load(dir + "/nope"); }, "does not exist");
  expect_error([&] { model_load(dir); }, "config.json");  // empty dir: no config
  model_save(dir, m);
  write(dir + "/config.json", "{\"d_model\": ");
  expect_error([&] { model_load(dir); }, "not valid JSON");
  write(dir + "/config.json", "[1,2]");
  expect_error([&] { model_load(dir); }, "must be a JSON object");
  auto j = config_to_json(m->config());
  auto with = [&](const std::string& key, nlohmann::json v) {
    auto k = j;
    k[key] = v;
    write(dir + "/config.json", k.dump());
  };
  with("d_model", "six");
  expect_error([&] { model_load(dir); }, "field 'd_model' must be an integer");
  with("d_model", -3);
  expect_error([&] { model_load(dir); }, "field 'd_model' must be in");
  with("act_fn", "swish");
  expect_error([&] { model_load(dir); }, "unknown value 'swish'");
  with("attention_dir", 3);
  expect_error([&] { model_load(dir); }, "attention_dir");
  with("n_heads", 0);
  expect_error([&] { model_load(dir); }, "n_heads and d_head must be positive");
  std::filesystem::remove_all(dir);
}

TEST(ModelIo, WeightsThatDisagreeWithTheConfigAreListed) {
  auto m = model_create(full_config());
  std::string dir = temp_dir("shapes");
  model_save(dir, m);
  auto tensors = tensors_read(dir + "/model.safetensors");
  for (auto& [name, t] : tensors)
    if (name == "blocks.1.attn.W_Q") t = torch::zeros({2, 6, 4}, torch::kFloat64);
  tensors.erase(std::remove_if(tensors.begin(), tensors.end(), [](auto& p) { return p.first == "unembed.b_U"; }),
                tensors.end());
  tensors.emplace_back("blocks.9.attn.W_Q", torch::zeros({1}, torch::kFloat64));
  tensors_write(dir + "/model.safetensors", tensors);
  try {
    model_load(dir);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("'blocks.1.attn.W_Q' has shape [2, 6, 4] but the config needs [2, 6, 3]"),
              std::string::npos) << e.message();
    EXPECT_NE(e.message().find("missing tensor 'unembed.b_U'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("unexpected tensor 'blocks.9.attn.W_Q'"), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
}

TEST(ModelIo, InputsAreChecked) {
  auto m = model_create(full_config());
  const auto& c = m->config();
  EXPECT_EQ(tokens_encode(c, "x y z"), (std::vector<int64_t>{0, 1, 2, 3}));  // BOS prepended
  EXPECT_EQ(tokens_encode(c, "xyz"), (std::vector<int64_t>{0, 1, 2, 3}));    // one-character tokens
  expect_error([&] { tokens_encode(c, "x q z"); }, "unknown token 'q' at position 2");
  expect_error([&] { m->forward({tokens(std::vector<int64_t>(11, 1))}); }, "n_ctx is 10");
  expect_error([&] { m->forward({tokens({0, 7})}); }, "token id out of range");
  expect_error([&] { m->forward({torch::Tensor(), torch::zeros({1, 2, 1}, torch::kFloat64)}); },
               "takes no real-valued inputs");
}

TEST(ModelIo, SaveNeverLeavesAHalfWrittenFile) {
  auto m = model_create(full_config());
  std::string dir = temp_dir("atomic");
  model_save(dir, m);
  auto before = file_read_bytes(dir + "/model.safetensors");
  std::filesystem::create_directory(dir + "/model.safetensors.tmp." + std::to_string(::getpid()));  // blocks the temp
  EXPECT_THROW(model_save(dir, m), Error);
  EXPECT_EQ(file_read_bytes(dir + "/model.safetensors"), before);
  std::filesystem::remove_all(dir);
}
