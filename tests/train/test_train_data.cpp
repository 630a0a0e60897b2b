// Data stream (determinism, state restore, epochs), masked cross-entropy by hand, checkpoints (commit,
// corruption detection, fallback).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include "tasks/dyck.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/loss.h"
#include "train/model_build.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("attnlab_train_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

TEST(TrainLoss, MaskedCrossEntropyByHand) {
  TrainBatch b;
  b.tokens = torch::zeros({1, 2}, torch::kInt64);
  b.targets = torch::tensor({{1, 0}}, torch::kInt64);
  b.mask = torch::tensor({{1.0, 1.0}}, torch::kFloat64);
  b.last_only = false;
  auto logits = torch::tensor({{{0.0, 1.0}, {2.0, 0.0}}}, torch::kFloat64);  // [1, 2, 2]
  double l0 = -std::log(std::exp(1.0) / (1 + std::exp(1.0))), l1 = -std::log(std::exp(2.0) / (std::exp(2.0) + 1));
  EXPECT_NEAR(loss_cross_entropy(logits, b).item<double>(), (l0 + l1) / 2, 1e-15);
  b.mask = torch::tensor({{0.0, 1.0}}, torch::kFloat64);
  EXPECT_NEAR(loss_cross_entropy(logits, b).item<double>(), l1, 1e-15);
  // last-only batches score the last position; an RNN's [B, 1, O] readout lines up with it.
  b.last_only = true;
  EXPECT_NEAR(loss_cross_entropy(logits.narrow(1, 1, 1), b).item<double>(), l1, 1e-15);
  auto acc = accuracy_count(torch::tensor({{{0.0, 1.0}, {0.0, 2.0}}}, torch::kFloat64), b);
  EXPECT_EQ(acc.token_total, 1);
  EXPECT_EQ(acc.token_correct, 0);  // argmax 1 at the last position, target 0
}

TEST(TrainData, DyckPrefixLabels) {
  TaskConfig t;
  t.name = "dyck";
  t.n = 4;
  t.labels = "prefix";
  TaskBatch ex;
  ex.examples.push_back({{0, 1, 2, 3}, {}, 1});  // ( ) [ ]  -> prefixes: no yes no yes
  auto b = batch_from_examples(t, ex, {0}, 4);
  EXPECT_TRUE(torch::equal(b.targets, torch::tensor({{0, 1, 0, 1}}, torch::kInt64)));
  EXPECT_EQ(b.mask.sum().item<double>(), 4.0);
  EXPECT_FALSE(b.last_only);
}

// Retrieval / khop batches: final = the answer at the last position; curriculum = the task's per-position
// targets (worked examples of retrieval.h and khop.h, by hand) with the mask where a target exists.
TEST(TrainData, RetrievalAndKhopSupervision) {
  TaskConfig t;
  t.name = "retrieval";
  t.n = 3;
  t.chains = 0;
  TaskBatch ex;
  ex.examples.push_back({{11, 10, 10, 9, 12, 11, 36, 12}, {}, 9});  // B=A, A=9, C=B. C? -> 9
  auto fin = batch_from_examples(t, ex, {0}, 3);
  EXPECT_TRUE(fin.last_only);
  EXPECT_TRUE(torch::equal(fin.mask, torch::tensor({{0., 0., 0., 0., 0., 0., 0., 1.}}, torch::kFloat64)));
  EXPECT_EQ(fin.targets[0][7].item<int64_t>(), 9);
  t.supervision = "curriculum_prefix";
  auto cur = batch_from_examples(t, ex, {0}, 3);
  EXPECT_FALSE(cur.last_only);
  EXPECT_TRUE(torch::equal(cur.mask, torch::tensor({{0., 0., 0., 0., 0., 1., 0., 1.}}, torch::kFloat64)));
  EXPECT_EQ(cur.targets[0][5].item<int64_t>(), 9);
  t.supervision = "curriculum";  // every variable position
  auto every = batch_from_examples(t, ex, {0}, 3);
  EXPECT_TRUE(torch::equal(every.mask, torch::tensor({{1., 1., 1., 0., 1., 1., 0., 1.}}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(every.targets, torch::tensor({{9, 9, 9, 0, 9, 9, 0, 9}}, torch::kInt64)));
  TaskConfig k;
  k.name = "khop";
  k.n = 2;
  k.length = 7;
  k.alphabet = 3;
  k.supervision = "curriculum";
  TaskBatch kx;
  kx.examples.push_back({{4, 0, 1, 2, 0, 1, 0, 2}, {}, 1});  // k2 | a b c a b a c
  auto kb = batch_from_examples(k, kx, {0}, 2);
  EXPECT_TRUE(torch::equal(kb.mask, torch::tensor({{0., 0., 0., 0., 0., 0., 1., 1.}}, torch::kFloat64)));
  EXPECT_EQ(kb.targets[0][6].item<int64_t>(), 2);
  EXPECT_EQ(kb.targets[0][7].item<int64_t>(), 1);
  EXPECT_EQ(task_seq_len(k, 16), 8);
  EXPECT_EQ(task_vocab(k, 16).size(), 3u + 16u) << "symbols + k1..k16";
  // config checks name the keys: 8 + 2*8 = 24 statements with 8 variables; curriculum on index lookup
  EXPECT_THROW(train_config_parse("[task]\nname = \"retrieval\"\nn = 8\nvariables = 8\n", "r.toml"), Error);
  EXPECT_THROW(train_config_parse("[task]\nsupervision = \"curriculum\"\n", "r.toml"), Error);
  EXPECT_THROW(train_config_parse("[task]\nname = \"retrieval\"\nsupervision = \"all\"\n", "r.toml"), Error);
  EXPECT_THROW(train_config_parse("[task]\nname = \"retrieval\"\nmix = true\n", "r.toml"), Error);
  EXPECT_THROW(train_config_parse("[task]\nname = \"retrieval\"\nsupervision = \"curriculum\"\n[model]\n"
                                  "causal = true\n", "r.toml"), Error);
}

TEST(TrainData, StreamStateRestoresTheSameBatches) {
  for (int64_t train_size : {0, 10}) {
    TaskConfig t;
    t.n = 6;
    t.train_size = train_size;
    DataStream a(t, 4, 7);
    for (int i = 0; i < 3; ++i) a.next();
    auto saved = a.state();
    DataStream b(t, 4, 7);
    b.state_load(nlohmann::json::parse(saved.dump()));
    for (int i = 0; i < 5; ++i) {
      auto x = a.next(), y = b.next();
      EXPECT_TRUE(torch::equal(x.tokens, y.tokens)) << "train_size " << train_size << " batch " << i;
      EXPECT_TRUE(torch::equal(x.targets, y.targets));
    }
    DataStream c(t, 4, 8);  // another seed, another stream
    EXPECT_FALSE(torch::equal(DataStream(t, 4, 7).next().tokens, c.next().tokens));
  }
}

TEST(TrainData, FixedSetVisitsEveryExampleOncePerEpoch) {
  TaskConfig t;
  t.n = 5;
  t.train_size = 12;
  DataStream s(t, 4, 1);
  TaskBatch all = task_examples(t, 5, 12, seed_mix(1, 0x7a1e));
  std::multiset<std::vector<int64_t>> seen, expected;
  for (const auto& e : all.examples) expected.insert(e.tokens);
  for (int i = 0; i < 3; ++i) {  // 3 batches of 4 = one epoch
    auto b = s.next();
    for (int64_t r = 0; r < 4; ++r) {
      auto row = b.tokens[r].contiguous();
      seen.insert(std::vector<int64_t>(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()));
    }
  }
  EXPECT_EQ(seen, expected);
}

TEST(TrainCheckpoint, CorruptOrPartialCheckpointsFallBack) {
  std::string run = temp_dir("ckpt");
  TrainConfig cfg;
  cfg.model.d_model = 8;
  auto model = train_model_build(cfg, torch::kFloat32);
  NamedTensors optim = {{"exp_avg.x", torch::ones({3})}};
  checkpoint_write(run, 10, model, optim, {{"tag", "ten"}});
  {
    torch::NoGradGuard g;
    model->parameters()[0].add_(1.0);
  }
  checkpoint_write(run, 20, model, optim, {{"tag", "twenty"}});
  Checkpoint ck;
  std::vector<std::string> warnings;
  ASSERT_TRUE(checkpoint_latest(run, ck, warnings));
  EXPECT_EQ(ck.step, 20);
  EXPECT_TRUE(warnings.empty());

  // flip one byte of the newest model.safetensors: detected, step 10 is used
  std::string f = run + "/checkpoints/step_00000020/model.safetensors";
  auto bytes = file_read_bytes(f);
  bytes[bytes.size() - 3] ^= 0x40;
  { std::ofstream(f, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size()); }
  EXPECT_NE(checkpoint_verify(run + "/checkpoints/step_00000020").find("checksum"), std::string::npos);
  ASSERT_TRUE(checkpoint_latest(run, ck, warnings));
  EXPECT_EQ(ck.step, 10);
  EXPECT_EQ(ck.state["tag"], "ten");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("step_00000020 is corrupt or partial"), std::string::npos);

  // a partial one (no manifest: killed before the commit) is skipped as well; a truncated file too
  std::filesystem::remove(run + "/checkpoints/step_00000020/MANIFEST.json");
  EXPECT_NE(checkpoint_verify(run + "/checkpoints/step_00000020").find("MANIFEST"), std::string::npos);
  std::filesystem::resize_file(run + "/checkpoints/step_00000010/optim.safetensors", 5);
  warnings.clear();
  EXPECT_FALSE(checkpoint_latest(run, ck, warnings));
  EXPECT_EQ(warnings.size(), 2u);
  std::filesystem::remove_all(run);
}

}  // namespace
}  // namespace attnlab
