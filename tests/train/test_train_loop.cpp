// The training loop end to end, in-process: a tiny index lookup learned to 100% on every possible input,
// deterministically for a seed; D = 2 retrieval learned with an implicit curriculum by 3 layers; an interrupted-and-resumed run ends with bit-identical weights, also when the
// newest checkpoint is corrupt (the previous good one is used and the lost steps are replayed).
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <unistd.h>

#include "tasks/index_lookup.h"
#include "train/data.h"
#include "train/loss.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"

namespace attnlab {
namespace {

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("attnlab_loop_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d.string();
}

// Tiny models train fastest on one thread (two OpenMP threads on a loaded 2-core machine were measured 13x
// slower), and a thread count fixed per test keeps the bytes comparable; restored afterwards.
struct OneThread {
  int saved = torch::get_num_threads();
  OneThread() { torch::set_num_threads(1); }
  ~OneThread() { torch::set_num_threads(saved); }
};

// N = 5, |Σ| = 3: 3^5 * 5 = 1215 possible inputs, all of them checked after training.
const char* kTinyIndexLookup = R"(
seed = 1
[task]
name = "index_lookup"
n = 5
alphabet = 3
[model]
type = "transformer"
d_model = 32
n_heads = 1
normalization = "ln"
[optim]
lr = 0.01
[schedule]
warmup = 20
decay = "cosine"
[train]
steps = 300
batch = 64
log_every = 50
eval_every = 100
checkpoint_every = 100
snapshot_every = 100
[eval]
size = 200
)";

// Every one of the 1215 inputs, through the model the run saved in RUN/model.
void expect_every_tiny_input_right(const std::string& run_dir, const TaskConfig& task) {
  SequenceModel m = model_load(run_dir + "/model", torch::kFloat32);
  TaskBatch all = index_lookup_enumerate({5, 3});
  std::vector<int64_t> index(all.examples.size());
  for (size_t i = 0; i < index.size(); ++i) index[i] = static_cast<int64_t>(i);
  TrainBatch batch = batch_from_examples(task, all, index, 5);
  torch::NoGradGuard no_grad;
  auto acc = accuracy_count(m->forward({batch.tokens, {}}), batch);
  EXPECT_EQ(acc.exact_total, 1215);
  EXPECT_EQ(acc.exact_correct, 1215);
}

TEST(TrainLoop, TinyIndexLookupLearnedTo100PercentDeterministically) {
  OneThread one;
  TrainConfig cfg = train_config_parse(kTinyIndexLookup, "tiny.toml");
  std::string a = temp_dir("tiny_a"), b = temp_dir("tiny_b");
  TrainOptions quiet;
  quiet.quiet = true;
  auto ra = train_run(cfg, a, quiet);
  ASSERT_TRUE(ra.finished);
  ASSERT_EQ(ra.final_eval.size(), 1u);
  EXPECT_EQ(ra.final_eval[0].exact, 1.0);

  expect_every_tiny_input_right(a, cfg.task);

  // the same seed gives the same bytes; run directory layout
  train_run(cfg, b, quiet);
  EXPECT_EQ(file_read_bytes(a + "/model/model.safetensors"), file_read_bytes(b + "/model/model.safetensors"));
  for (const char* f : {"config.resolved.toml", "argv.txt", "metrics.jsonl", "report.html", "results.json",
                        "snapshots/step_00000300.safetensors", "checkpoints/step_00000300/MANIFEST.json",
                        "checkpoints/step_00000200/MANIFEST.json"})
    EXPECT_TRUE(std::filesystem::exists(a + "/" + f)) << f;
  EXPECT_FALSE(std::filesystem::exists(a + "/checkpoints/step_00000100")) << "keep_checkpoints = 2";
  auto again = train_run(cfg, a, quiet);  // finished: nothing to do
  EXPECT_TRUE(again.already_finished);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
}

// The same task for the lru (width 32, 32 complex states), 300 AdamW steps in f32 (~1 s): every input right.
TEST(TrainLoop, TinyIndexLookupLearnedByTheLru) {
  OneThread one;
  TrainConfig cfg = train_config_parse(kTinyIndexLookup, "tiny.toml", {"model.type=lru", "model.d_hidden=32",
                                                                       "train.snapshot_every=0"});
  std::string dir = temp_dir("tiny_lru");
  TrainOptions quiet;
  quiet.quiet = true;
  ASSERT_TRUE(train_run(cfg, dir, quiet).finished);
  EXPECT_EQ(model_load(dir + "/model")->config().model_type, ModelType::Lru);
  expect_every_tiny_input_right(dir, cfg.task);
  std::filesystem::remove_all(dir);
}

TEST(TrainLoop, InterruptedRunsResumeBitIdentical) {
  OneThread one;
  // AdamW + cosine, fixed training set (epoch order state) and fresh samples, transformer and LSTM.
  const std::vector<std::vector<std::string>> variants = {
      {"task.train_size=100"},
      {"model.type=lstm", "model.d_hidden=16", "optim.name=sgd", "optim.momentum=0.9", "optim.lr=0.1"}};
  for (const auto& ov : variants) {
    std::vector<std::string> o = {"train.steps=60", "train.checkpoint_every=10", "train.eval_every=25",
                                  "train.log_every=5", "model.d_model=16", "train.batch=16"};
    o.insert(o.end(), ov.begin(), ov.end());
    TrainConfig cfg = train_config_parse(kTinyIndexLookup, "tiny.toml", o);
    std::string full = temp_dir("full"), cut = temp_dir("cut");
    TrainOptions q;
    q.quiet = true;
    train_run(cfg, full, q);
    TrainOptions stop = q;
    stop.stop_after = 37;  // checkpoint at 30; steps 31..37 are lost as in a kill
    auto r1 = train_run(cfg, cut, stop);
    EXPECT_FALSE(r1.finished);
    stop.stop_after = 52;  // resumes from 30; then corrupt the newest (50): the next resume uses 40
    auto r2 = train_run(cfg, cut, stop);
    EXPECT_EQ(r2.resumed_from, 30);
    std::string f = cut + "/checkpoints/step_00000050/optim.safetensors";
    auto bytes = file_read_bytes(f);
    bytes[bytes.size() / 2] ^= 1;
    file_write_atomic(f, bytes.data(), bytes.size());
    auto r3 = train_run(cfg, cut, q);
    EXPECT_EQ(r3.resumed_from, 40);
    EXPECT_TRUE(r3.finished);
    EXPECT_EQ(file_read_bytes(full + "/model/model.safetensors"), file_read_bytes(cut + "/model/model.safetensors"))
        << ov[0];
    // the log reads as if never interrupted (the throughput column aside)
    auto strip = [](std::string s) {
      std::string out;
      std::istringstream in(s);
      for (std::string line; std::getline(in, line);) out += line.substr(0, line.find("\"steps_per_s\"")) + "\n";
      return out;
    };
    EXPECT_EQ(strip(file_read_text(full + "/metrics.jsonl")), strip(file_read_text(cut + "/metrics.jsonl")));
    std::filesystem::remove_all(full);
    std::filesystem::remove_all(cut);
  }
}

TEST(TrainLoop, RunDirectoryOfAnotherConfigIsRefused) {
  OneThread one;
  std::string dir = temp_dir("other");
  TrainOptions q;
  q.quiet = true;
  q.stop_after = 1;
  train_run(train_config_parse(kTinyIndexLookup, "tiny.toml", {"train.steps=2"}), dir, q);
  try {
    train_run(train_config_parse(kTinyIndexLookup, "tiny.toml", {"train.steps=3"}), dir, q);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("different config"), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
}

// Issue 9: a small implicit-curriculum run learns D = 2 retrieval (docs/retrieval.md, "Training experiments").
// T = 10: 4 statements (the chain and one distractor chain of length 2, shuffled), "?" and the query. Three
// layers, not two: in this token format one layer must first move each lhs onto its rhs before lookups can
// follow the chain, so D = 2 takes 1 + ceil(log3(4)) = 3 (the explicit construction's count; measured: 2 layers
// stay at 0.64 after 8000 steps, the level of guessing among the rhs values; final-answer-only supervision with
// 3 layers also stays there).
const char* kRetrievalCurriculum = R"(
seed = 3
[task]
name = "retrieval"
n = 2
chains = 1
variables = 8
values = 4
supervision = "curriculum"
[model]
n_layers = 3
d_model = 32
n_heads = 2
init_std = 0.1
[optim]
lr = 0.003
[schedule]
warmup = 50
[train]
steps = 6000
batch = 64
log_every = 100
eval_every = 6000
checkpoint_every = 6000
snapshot_every = 0
[eval]
size = 1000
)";

// The first logged training losses of a run directory (the "train" lines without their timing field).
std::vector<std::string> first_losses(const std::string& run_dir, size_t count) {
  std::vector<std::string> out;
  std::istringstream in(file_read_text(run_dir + "/metrics.jsonl"));
  for (std::string line; std::getline(in, line) && out.size() < count;)
    if (line.find("\"train\"") != std::string::npos) out.push_back(line.substr(0, line.find("\"steps_per_s\"")));
  return out;
}

// Trains cfg to the end and returns its final held-out results; a second run of the same config, stopped at step
// 300, must log the same first three losses bit for bit (the same seed gives the same trajectory).
std::vector<EvalResult> train_twice_same_start(const TrainConfig& cfg, const std::string& name) {
  std::string a = temp_dir(name + "_a"), b = temp_dir(name + "_b");
  TrainOptions quiet;
  quiet.quiet = true;
  auto ra = train_run(cfg, a, quiet);
  EXPECT_TRUE(ra.finished);
  TrainOptions stop = quiet;
  stop.stop_after = 300;
  train_run(cfg, b, stop);
  auto la = first_losses(a, 3), lb = first_losses(b, 3);
  EXPECT_EQ(la.size(), 3u);
  EXPECT_EQ(la, lb);
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
  return ra.final_eval;
}

TEST(TrainLoop, RetrievalCurriculumLearnsD2Deterministically) {
  OneThread one;
  auto eval = train_twice_same_start(train_config_parse(kRetrievalCurriculum, "retrieval.toml"), "retr");
  ASSERT_EQ(eval.size(), 1u);
  std::printf("retrieval D = 2, 3 layers, curriculum, 6000 steps: held-out answer accuracy %.4f (loss %.4g)\n",
              eval[0].exact, eval[0].loss);
  EXPECT_GE(eval[0].exact, 0.99);  // 1000 held-out instances, scored at the query only
}

// Issue 9's literal case: D = 2 with 2 layers = ceil(log3(2D)), Musat's bound, in the fused encoding (one token
// per statement, src/tasks/retrieval.h), where a statement reads its rhs's definition in one layer. Two
// distractor chains of length 2 and two single assignments (T = 9, K = 20 variables) keep one layer from reading
// off the answer from the bag of all statements: 1 layer stays near guessing (measured 0.48 after 4000 steps,
// docs/retrieval.md), which the test checks with a shorter run. by_steps: held-out accuracy at the positions
// whose value takes 1 and 2 definitions (the curriculum's depths).
const char* kRetrievalFused = R"(
seed = 3
[task]
name = "retrieval"
encoding = "fused"
n = 2
chains = 2
assignments = 2
variables = 20
values = 4
supervision = "curriculum"
[model]
n_layers = 2
d_model = 32
n_heads = 2
pos_embed = "none"
init_std = 0.1
[optim]
lr = 0.003
[schedule]
warmup = 50
[train]
steps = 4000
batch = 64
log_every = 100
eval_every = 4000
checkpoint_every = 4000
snapshot_every = 0
[eval]
size = 1000
)";

TEST(TrainLoop, RetrievalFusedLearnsD2WithTwoLayersDeterministically) {
  OneThread one;
  auto eval = train_twice_same_start(train_config_parse(kRetrievalFused, "fused.toml"), "fused");
  ASSERT_EQ(eval.size(), 1u);
  ASSERT_EQ(eval[0].by_steps.size(), 2u);
  std::printf("retrieval (fused) D = 2, 2 layers, curriculum, 4000 steps: held-out answer accuracy %.4f, "
              "1-definition positions %.4f, 2-definition positions %.4f\n",
              eval[0].exact, eval[0].by_steps[0], eval[0].by_steps[1]);
  EXPECT_GE(eval[0].exact, 0.99);
  EXPECT_GE(eval[0].by_steps[0], 0.99);
  EXPECT_GE(eval[0].by_steps[1], 0.99);
  // one layer, below the bound: the answer stays near guessing between the instance's 4 values
  TrainConfig one_layer = train_config_parse(kRetrievalFused, "fused.toml", {"model.n_layers=1", "train.steps=1500",
                                             "train.eval_every=1500", "train.checkpoint_every=1500"});
  std::string dir = temp_dir("fused_1");
  TrainOptions quiet;
  quiet.quiet = true;
  auto r1 = train_run(one_layer, dir, quiet);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r1.final_eval.size(), 1u);
  std::printf("  1 layer, 1500 steps: %.4f\n", r1.final_eval[0].exact);
  EXPECT_LT(r1.final_eval[0].exact, 0.7);
}

}  // namespace
}  // namespace attnlab
